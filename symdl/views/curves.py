"""Training curves: each metric of a run against its epoch (curves.png, and a run in a notebook)."""

from __future__ import annotations

import io
from collections.abc import Sequence


def curves_png(rows: Sequence[dict[str, object]]) -> bytes | None:
    """Each numeric metric against the first column (the epoch), one line per stage; None without one."""
    figure = curves_figure(rows)
    if figure is None:
        return None
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def curves_figure(rows: Sequence[dict[str, object]]):
    """The matplotlib figure of `curves_png` (what `symdl run` saves as curves.png), or None."""
    from matplotlib.figure import Figure  # not pyplot: no backend is chosen, a notebook's stays as it is

    columns = list(dict.fromkeys(k for r in rows for k in r))
    if not columns:
        return None
    x = columns[0]
    keys = [k for k in columns if k not in (x, "stage", "seconds") and any(isinstance(r.get(k), float) for r in rows)]
    if not keys:
        return None
    fig = Figure(figsize=(4.5 * len(keys), 3.5))
    axes = fig.subplots(1, len(keys), squeeze=False)
    for ax, key in zip(axes[0], keys):
        stages = list(dict.fromkeys(r.get("stage") for r in rows if isinstance(r.get(key), float)))
        for stage in stages:  # one line per stage: pretraining layers restart their epochs
            points = [(r[x], r[key]) for r in rows if isinstance(r.get(key), float) and r.get("stage") == stage]
            ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, label=stage)
        if len(stages) > 1:
            ax.legend(fontsize=7)
        ax.set_xlabel(x)
        ax.set_title(key)
        ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
