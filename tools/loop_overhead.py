"""The one loop's own cost per step: an epoch's wall time against the sum of its compiled calls' times.

    python tools/loop_overhead.py [--model models/mlp.sdl] [--backend c] [--train-limit 10000] [--epochs 3]

Runs the model's first training function through `symdl.runtime.loop.Loop` as `epochs` configures it (no run
directory, so no checkpoint writes), timing every compiled call; prints per epoch the steps, the epoch's
seconds, the calls' seconds and the difference per step (the loop's bookkeeping, progress and polling).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from symdl.api import open_model  # noqa: E402
from symdl.runtime.config import RunConfig  # noqa: E402
from symdl.runtime.loop import Loop, Step  # noqa: E402
from symdl.runtime.session import Session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "mlp.sdl"))
    parser.add_argument("--backend", default="c")
    parser.add_argument("--train-limit", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=["batch=20"])
    args = parser.parse_args()
    overrides = tuple(args.overrides)
    config = RunConfig(file=Path(args.model), overrides=overrides, backend=args.backend, train_limit=args.train_limit, quiet=True)
    compiled, model = open_model(config)
    s = Session(model)
    s.start_stage(0)  # the first stage's scalar feeds, if its run line has any
    call = compiled.optimized.recipes[0]
    first = call.value("train")  # `early_stopping`'s function, or the first of `epochs`' functions
    train = s.bind(getattr(first, "name", None) or first.names[0], call.value("data"), "train", dict(call.binds))
    spent = [0.0]

    def timed(index: int) -> tuple[list[float], int]:
        started = time.perf_counter()
        outputs = train.call(index)
        spent[0] += time.perf_counter() - started
        return [float(v) for v in outputs], 1

    train.call(0)  # the first call (a lazy compile, caches) is not the loop's
    for epoch in range(1, args.epochs + 1):
        loop, spent[0] = Loop([Step(train.name, train.outputs, timed)], train.n_batches, 1, progress=False, epoch_rows=False), 0.0
        started = time.perf_counter()
        loop.run(s)
        wall = time.perf_counter() - started
        overhead = (wall - spent[0]) / train.n_batches * 1e6
        print(f"epoch {epoch}: {train.n_batches} steps, epoch {wall:.3f} s, calls {spent[0]:.3f} s, loop {overhead:.1f} us a step")


if __name__ == "__main__":
    main()
