"""The JAX backend's step time with the dataset held on the device against sent from host memory at every call.

    PYTHONPATH=$PWD python tools/jax_resident.py models/mlp.sdl --steps 300

Binds `train` over the model's first dataset as `symdl run` does, then times single steps (median of
`--steps`, after warm-up) twice: with the split held as JAX arrays (what symdl does) and as NumPy arrays
(what PyTensor's JAX linker is handed by default). The loss is read back each step, as a run does.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from symdl.api import open_model  # noqa: E402
from symdl.lowering.device import hold  # noqa: E402
from symdl.runtime.config import RunConfig  # noqa: E402
from symdl.runtime.session import Session  # noqa: E402


def _median_step(bound, steps: int) -> float:
    times = []
    for k in range(steps + 20):
        start = time.perf_counter()
        float(bound.call(k % bound.n_batches)[0])
        if k >= 20:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--steps", type=int, default=300)
    parser.add_argument("--fn", default="train")
    parser.add_argument("--train-limit", type=int, default=None)
    args = parser.parse_args()
    _, model = open_model(RunConfig(file=Path(args.model), backend="jax", train_limit=args.train_limit, quiet=True))
    session = Session(model)
    bound = session.bind(args.fn, model.program.data[0], "train", {})
    rebound = bound.call
    resident = dict(rebound.arrays)
    host = {n: np.asarray(a) for n, a in resident.items()}
    for label, arrays in (("resident", resident), ("host", host), ("resident", resident), ("host", host)):
        for name, array in arrays.items():
            hold(rebound.slots[name], array)
        ms = _median_step(bound, args.steps) * 1e3
        rows = sum(len(a) for a in arrays.values()) // len(arrays)
        print(f"{args.model} fn {args.fn} data {label:8s} ({rows} rows): median step {ms:.3f} ms over {args.steps} steps")


if __name__ == "__main__":
    main()
