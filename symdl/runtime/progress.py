"""Progress bars (tqdm) and the one line printed per epoch."""

from __future__ import annotations

import sys
from collections.abc import Iterable

from tqdm import tqdm


def epoch_bar(n_batches: int, epoch: int, total: int, quiet: bool, first: int = 0) -> Iterable[int]:
    """Minibatch indices of one epoch from `first` (a resumed run), drawn as a bar on a terminal (silent in logs and CI)."""
    return tqdm(range(first, n_batches), desc=f"epoch {epoch}/{total}", leave=False, unit="batch", disable=quiet or not sys.stderr.isatty())


def format_metrics(row: dict[str, object], total: int) -> str:
    """`epoch 7/20  train cost 0.3120  valid errors 11.40%  ...`: error and accuracy rates as percentages.
    The row's first column counts (epoch, or draw for a sampler)."""
    counter = next(iter(row))
    parts = [f"{counter} {row[counter]}/{total}"]
    for key, value in row.items():
        if key == counter or value is None:
            continue
        label = key.replace("_", " ")
        if isinstance(value, float) and any(w in key for w in ("err", "acc", "best_valid", "test_of_best")):
            parts.append(f"{label} {100 * value:.2f}%")
        elif isinstance(value, float):
            parts.append(f"{label} {value:.4g}")
        else:
            parts.append(f"{label} {value}")
    return "  ".join(parts)
