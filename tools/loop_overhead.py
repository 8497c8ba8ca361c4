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

from symdl.pipeline import front_end  # noqa: E402
from symdl.runtime.loop import Loop, Step  # noqa: E402
from symdl.runtime.model import Model  # noqa: E402
from symdl.runtime.session import RunOptions, Session  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(ROOT / "models" / "mlp.sdl"))
    parser.add_argument("--backend", default="c")
    parser.add_argument("--train-limit", type=int, default=10000)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--set", dest="overrides", action="append", default=["batch=20"])
    args = parser.parse_args()
    compiled = front_end(Path(args.model), args.overrides, ())
    s = Session(Model(compiled, args.backend), RunOptions(train_limit=args.train_limit, quiet=True))
    call = compiled.optimized.recipes[0]
    train = s.bind(call.value("train").name, call.value("data"), "train", dict(call.binds))
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
