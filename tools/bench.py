"""Benchmark one training step of mlp.sdl and logreg.sdl: symdl, hand-written PyTensor, PyTorch (CPU).

    python tools/bench.py [--models mlp,logreg] [--backends numba,c] [--steps N] [--threads 2] [--cold]

A benchmark, not a test. Target: symdl within 5% of the same model written by hand in
PyTensor on the same backend. Each compile is timed in a child process of its own, so no
function reuses kernels another compiled in the same process (`--cold`: in a fresh, empty
PyTensor compiledir and Numba cache too). symdl's and the hand-written steps are then timed
in one process, interleaved, so a busy machine slows both alike; PyTorch's in a process of
its own. Data are synthetic with the real
shapes (50000 x 784 float32, 10 classes), held in shared variables and picked by a
minibatch index, as `symdl run` does.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
N_TRAIN, N_IN, N_OUT = 50000, 784, 10
TARGET = 1.05
WARMUP = 10
MODES = {"numba": "NUMBA", "c": "CVM"}
IMPLS = ("symdl", "hand")


@dataclass(frozen=True)
class Spec:
    """One model as the tutorial writes it; `hidden` is None for logistic regression."""

    file: str
    batch: int
    lr: float
    l1: float
    l2: float
    hidden: int | None
    steps: int
    reference: str


SPECS = {
    "mlp": Spec("models/mlp.sdl", 20, 0.01, 0.0, 0.0001, 500, 500, "PyTensor-Numba 0.87 ms against PyTorch 1.18 ms"),
    "logreg": Spec("models/logreg.sdl", 600, 0.13, 0.0, 0.0, None, 200, "PyTensor-C 0.62 ms against PyTorch 0.56 ms"),
}

Step = Callable[[int], object]


# ---- children: build and time ---------------------------------------------------------------------


def synthetic_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random features in [0, 1) and labels in 0..9, with the training split's shapes."""
    rng = np.random.default_rng(seed)
    return rng.random((N_TRAIN, N_IN), dtype=np.float32), rng.integers(0, N_OUT, N_TRAIN, dtype=np.int32)


def initial_params(spec: Spec) -> list[np.ndarray]:
    """W, b per layer, initialised like the model: hidden layer glorot uniform (tanh), output zeros."""
    out_in = N_IN if spec.hidden is None else spec.hidden
    output = [np.zeros((out_in, N_OUT), np.float32), np.zeros(N_OUT, np.float32)]
    if spec.hidden is None:
        return output
    bound = np.sqrt(6.0 / (N_IN + spec.hidden))
    w = np.random.RandomState(1234).uniform(-bound, bound, (N_IN, spec.hidden)).astype(np.float32)
    return [w, np.zeros(spec.hidden, np.float32), *output]


def build_symdl(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> tuple[Step, float, float]:
    """The model's own `train`, bound to shared data by minibatch index as `symdl run` binds it."""
    import pytensor

    from symdl.lowering.lower import Binding
    from symdl.runtime.model import load

    xs, ys = pytensor.shared(x, name="x", borrow=True), pytensor.shared(y, name="y", borrow=True)
    started = time.perf_counter()
    m = load(ROOT / spec.file, backend=backend)
    front = time.perf_counter() - started
    assert m.hypers["batch"] == spec.batch and m.hypers["lr"] == spec.lr, "the hand-written copy drifted from the model"
    f = m.compile("train", Binding({"x": xs, "y": ys}, spec.batch))
    f(0)
    return f, time.perf_counter() - started, front


def build_hand(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> tuple[Step, float, float]:
    """The same step written the tutorial's way: shared params, `givens` slicing, float32 throughout."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode

    xs, ys = pytensor.shared(x, name="X", borrow=True), pytensor.shared(y, name="Y", borrow=True)
    started = time.perf_counter()
    params = [pytensor.shared(v) for v in initial_params(spec)]
    index, xb, yb = pt.lscalar("index"), pt.matrix("x", dtype="float32"), pt.ivector("y")
    h = xb if spec.hidden is None else pt.tanh(xb @ params[0] + params[1])
    log_p = pt.special.log_softmax(h @ params[-2] + params[-1], axis=1)
    cost = -pt.mean(log_p[pt.arange(spec.batch), yb])
    if spec.hidden is not None:  # the tutorial's MLP carries both penalties, even at l1 = 0
        weights = params[0::2]
        cost = cost + np.float32(spec.l1) * (abs(weights[0]).sum() + abs(weights[1]).sum())
        cost = cost + np.float32(spec.l2) * ((weights[0] ** 2).sum() + (weights[1] ** 2).sum())
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, pytensor.grad(cost, params), strict=True)]
    b = spec.batch
    givens = {xb: xs[index * b : (index + 1) * b], yb: ys[index * b : (index + 1) * b]}
    f = pytensor.function([index], cost, updates=updates, givens=givens, mode=get_mode(MODES[backend]))
    f(0)
    return f, time.perf_counter() - started, 0.0


def build_torch(spec: Spec, threads: int, x: np.ndarray, y: np.ndarray) -> Step:
    """The same step in PyTorch eager on the CPU, SGD by hand."""
    import torch

    torch.set_num_threads(threads)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    params = [torch.from_numpy(v).requires_grad_() for v in initial_params(spec)]
    rows, b = torch.arange(spec.batch), spec.batch

    def step(i: int) -> float:
        xb, yb = xt[i * b : (i + 1) * b], yt[i * b : (i + 1) * b]
        h = xb if spec.hidden is None else torch.tanh(xb @ params[0] + params[1])
        cost = -torch.log_softmax(h @ params[-2] + params[-1], dim=1)[rows, yb].mean()
        if spec.hidden is not None:  # a zero l1 term is left out: nobody computes it in PyTorch
            cost = cost + spec.l2 * ((params[0] ** 2).sum() + (params[2] ** 2).sum())
        with torch.no_grad():
            for p, g in zip(params, torch.autograd.grad(cost, params), strict=True):
                p.sub_(g, alpha=spec.lr)
        return cost.item()

    return step


def interleaved_ms(steps: dict[str, Step], n_batches: int, total: int, chunk: int = 25) -> dict[str, float]:
    """Median ms per step of each, timed in alternating chunks so a busy machine slows all alike."""
    times: dict[str, list[float]] = {name: [] for name in steps}
    for step in steps.values():
        for i in range(WARMUP):
            step(i % n_batches)
    for first in range(WARMUP, WARMUP + total, chunk):
        for name, step in steps.items():
            for i in range(first, min(first + chunk, WARMUP + total)):
                started = time.perf_counter()
                step(i % n_batches)
                times[name].append(time.perf_counter() - started)
    return {name: statistics.median(t) * 1e3 for name, t in times.items()}


def steps_child(model: str, backend: str, steps: int, threads: int) -> dict[str, float]:
    """Median ms per step: symdl and hand-written interleaved; PyTorch alone (its thread pool
    slowed by the idle ones of PyTensor's BLAS: 0.9 ms alone, 1.2-1.5 ms interleaved, MLP)."""
    spec, (x, y) = SPECS[model], synthetic_data()
    if backend == "torch":
        try:
            return interleaved_ms({"torch": build_torch(spec, threads, x, y)}, N_TRAIN // spec.batch, steps or spec.steps)
        except ImportError:
            return {}
    fns = {impl: build(spec, backend, x, y)[0] for impl, build in (("symdl", build_symdl), ("hand", build_hand))}
    return interleaved_ms(fns, N_TRAIN // spec.batch, steps or spec.steps)


def child(job: str, steps: int, threads: int) -> None:
    """`model:backend:IMPL` times IMPL's compile, `model:backend:steps` the steps; prints one JSON line."""
    model, backend, what = job.split(":")
    if what == "steps":
        return print(json.dumps(steps_child(model, backend, steps, threads)))
    _, seconds, front = (build_symdl if what == "symdl" else build_hand)(SPECS[model], backend, *synthetic_data())
    print(json.dumps({"compile_s": seconds, "front_s": front}))


# ---- the parent: run the children, print the table -------------------------------------------------


def child_env(threads: int, cache: Path | None) -> dict[str, str]:
    """The environment of a child: thread counts, and with `cache` a fresh compile cache."""
    env = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"):
        env[name] = str(threads)
    if cache is not None:
        flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and "compiledir" not in f]
        env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={cache / 'pytensor'}"])
        env["NUMBA_CACHE_DIR"] = str(cache / "numba")
    return env


def run_child(job: str, args: argparse.Namespace, cold: bool = False) -> dict:
    """One child process; `cold` gives it a fresh, empty compile cache. Empty when it failed."""
    cache = Path(tempfile.mkdtemp(prefix="symdl-bench-")) if cold else None
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, "--steps", str(args.steps), "--threads", str(args.threads)]
    print(f"  {job} ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(command, env=child_env(args.threads, cache), cwd=ROOT, capture_output=True, text=True)
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def measure(model: str, backend: str, args: argparse.Namespace, torch: dict[str, float]) -> dict[str, dict]:
    """Compile times, each in its own process, then the step times."""
    result = {impl: run_child(f"{model}:{backend}:{impl}", args, args.cold) for impl in IMPLS}
    return result | {"ms": run_child(f"{model}:{backend}:steps", args) | torch}


def measure_torch(model: str, args: argparse.Namespace) -> dict[str, float]:
    """PyTorch's step time, once per model; empty (with a note) when torch is not installed."""
    result = run_child(f"{model}:torch:steps", args)
    if not result:
        print("torch not installed: the PyTorch column is skipped", file=sys.stderr)
    return result


def fmt(value: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def ratio(ms: dict[str, float], other: str) -> float | None:
    return ms["symdl"] / ms[other] if "symdl" in ms and other in ms else None


HEADER = ["model", "backend", "symdl ms", "hand ms", "torch ms", "symdl/hand", "symdl/torch", "symdl compile s", "(front end s)", "hand compile s"]


def row(model: str, backend: str, r: dict[str, dict]) -> list[str]:
    """One table row: step times, ratios, compile seconds."""
    ms, s, h = r["ms"], r["symdl"], r["hand"]
    return [model, backend, fmt(ms.get("symdl")), fmt(ms.get("hand")), fmt(ms.get("torch")), fmt(ratio(ms, "hand"), ".2f", "x"),
            fmt(ratio(ms, "torch"), ".2f", "x"), fmt(s.get("compile_s"), ".1f"), fmt(s.get("front_s"), ".2f"), fmt(h.get("compile_s"), ".1f")]


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(c) for c in column) for column in zip(HEADER, *rows, strict=True)]
    for line in [HEADER, *rows]:
        print("  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))


def summary(model: str, backend: str, ms: dict[str, float]) -> str:
    """One line per model and backend: the two ratios and whether the 5% target holds."""
    vs_hand = ratio(ms, "hand")
    verdict = "n/a" if vs_hand is None else ("met" if vs_hand <= TARGET else "MISSED")
    return (f"{model} ({backend}): symdl/hand = {fmt(vs_hand, '.2f', 'x')}, symdl/torch = {fmt(ratio(ms, 'torch'), '.2f', 'x')}; "
            f"target symdl/hand <= {TARGET:.2f}x: {verdict}  [the issue, by hand: {SPECS[model].reference}]")


def package_version(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} not installed"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,logreg", help="comma-separated: mlp, logreg")
    p.add_argument("--backends", default="numba,c", help="comma-separated: numba, c")
    p.add_argument("--steps", type=int, default=0, help="timed steps (default: 500 for mlp, 200 for logreg)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cold", action="store_true", help="compile each function in a fresh, empty cache")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.models, args.backends = args.models.split(","), args.backends.split(",")
    unknown = [m for m in args.models if m not in SPECS] + [b for b in args.backends if b not in MODES]
    if unknown:
        p.error(f"unknown model or backend: {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        return child(args.child, args.steps, args.threads)
    load = os.getloadavg()[0]
    torch = {m: measure_torch(m, args) for m in args.models}
    results = {(m, b): measure(m, b, args, torch[m]) for m in args.models for b in args.backends}
    cache = "cold (a fresh, empty cache per function)" if args.cold else "warm (the existing cache; a first run compiles cold)"
    print(f"{', '.join(map(package_version, ('pytensor', 'numba', 'torch')))}; "
          f"{args.threads} threads; load average before the run {load:.2f}; median ms per training step (symdl and hand interleaved, torch alone); "
          f"compile = graph building through the first call, {cache}")
    print_table([row(m, b, r) for (m, b), r in results.items()])
    for (m, b), r in results.items():
        print(summary(m, b, r["ms"]))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
