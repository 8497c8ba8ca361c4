"""Progress bars (tqdm) and the one line printed per epoch."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

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


HEAD = "compiling {what} (first time is slow; cached afterwards) ..."


@contextmanager
def compile_notice(what: str, verbose: bool, every_s: float = 1.0, started: float | None = None, note: str = "") -> Iterator[None]:
    """`compiling WHAT ... done in 12.3s` on stderr; on a terminal the seconds count while it waits. `started`: the
    compile began earlier (in the background, `note`), and the seconds count from then."""
    if not verbose:
        yield
        return
    started, done = started or time.perf_counter(), threading.Event()
    head = HEAD.format(what=what)
    print(head, end="", file=sys.stderr, flush=True)

    def tick() -> None:
        while not done.wait(every_s):
            print(f"\r{head} {time.perf_counter() - started:.0f}s", end="", file=sys.stderr, flush=True)

    ticker = threading.Thread(target=tick, daemon=True) if sys.stderr.isatty() else None
    if ticker:
        ticker.start()
    try:
        yield
    finally:
        done.set()
        if ticker:
            ticker.join()
        again = f"\r{head}" if ticker else ""
        print(f"{again} done in {time.perf_counter() - started:.1f}s{f' ({note})' if note else ''}", file=sys.stderr, flush=True)


def compiled_notice(what: str, seconds: float, note: str) -> None:
    """The line of a compile that finished in the background before anything waited for it."""
    print(f"{HEAD.format(what=what)} done in {seconds:.1f}s ({note})", file=sys.stderr, flush=True)
