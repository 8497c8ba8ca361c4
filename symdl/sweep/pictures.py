"""A sweep's pictures: every trial's validation curve on one plot, and the measure against each swept hyper."""

from __future__ import annotations

import math
from pathlib import Path

from symdl.sweep.plan import Plan
from symdl.sweep.results import Trial

CURVES = "sweep-curves.png"
HYPERS = "sweep-hypers.png"


def draw(plan: Plan, trials: list[Trial], out: Path) -> list[str]:
    """sweep-curves.png and sweep-hypers.png in `out` (when some trial measured anything); the files written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measured = [t for t in trials if t.best(plan.mode) is not None]
    if not measured:
        return []
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for t in measured:
        points = [(x, y) for x, y in t.curve if math.isfinite(y)]
        label = f"{t.name} " + " ".join(f"{k}={_short(v)}" for k, v in t.config.items())
        ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3, linewidth=1, label=label)
    ax.set_xlabel("epoch")
    ax.set_ylabel(plan.measure)
    ax.set_title(f"{plan.model}: {plan.measure} of each trial")
    ax.grid(alpha=0.3)
    if len(measured) <= 16:
        ax.legend(fontsize=6, loc="best")
    fig.tight_layout()
    fig.savefig(out / CURVES, dpi=100)
    plt.close(fig)
    _draw_hypers(plt, plan, measured, out)
    return [CURVES, HYPERS]


def _draw_hypers(plt, plan: Plan, trials: list[Trial], out: Path) -> None:
    """One panel per swept hyper: each trial's best measure at its value (a log axis for a log range or values over decades)."""
    fig, axes = plt.subplots(1, len(plan.axes), figsize=(4.5 * len(plan.axes), 3.8), squeeze=False)
    for ax, axis in zip(axes[0], plan.axes):
        name = axis["name"]
        values = [t.config.get(name) for t in trials]
        best = [t.best(plan.mode) for t in trials]
        if all(isinstance(v, (int, float)) or _is_number(v) for v in values):
            xs = [float(v) for v in values]
            ax.scatter(xs, best)
            if axis["dist"].startswith("log") or (min(xs) > 0 and max(xs) / min(xs) >= 100):
                ax.set_xscale("log")
        else:  # names (an activation): one column each
            labels = sorted({str(v) for v in values})
            ax.scatter([labels.index(str(v)) for v in values], best)
            ax.set_xticks(range(len(labels)), labels)
        ax.set_xlabel(name)
        ax.set_ylabel(f"best {plan.measure}")
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(out / HYPERS, dpi=100)
    plt.close(fig)


def _is_number(value: object) -> bool:
    try:
        float(str(value))
    except ValueError:
        return False
    return True


def _short(value: object) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)
