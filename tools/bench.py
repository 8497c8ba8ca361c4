"""Benchmark one training step of mlp.sdl and logreg.sdl: symdl, hand-written PyTensor, PyTorch (CPU).

    python tools/bench.py [--models mlp,logreg] [--backends numba,c] [--steps N] [--threads 2] [--cold]

A benchmark, not a test. Every measurement runs in a child process of its own, so no
implementation reuses kernels another one compiled in the same process; with `--cold` each
child also gets a fresh, empty PyTensor compiledir and Numba cache. The data are synthetic
(the real shapes: 50000 rows of 784 float32 features, 10 classes) held in shared variables,
and each step is a minibatch index, as `symdl run` does. Target: symdl within 5% of the
same model written by hand in PyTensor on the same backend.
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


# ---- the child: build one implementation, time its compile and its steps -------------------------


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


def median_step_ms(step: Step, n_batches: int, steps: int) -> float:
    """Median wall time of one step in ms, after a warm-up, cycling over minibatch indices."""
    for i in range(WARMUP):
        step(i % n_batches)
    times = []
    for k in range(WARMUP, WARMUP + steps):
        started = time.perf_counter()
        step(k % n_batches)
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1e3


def child(job: str, steps: int, threads: int) -> None:
    """Measure one `model:backend:impl` and print the result as one JSON line."""
    model, backend, impl = job.split(":")
    spec = SPECS[model]
    x, y = synthetic_data()
    result: dict[str, object] = {}
    if impl == "torch":
        try:
            step = build_torch(spec, threads, x, y)
        except ImportError:
            print(json.dumps({"error": "torch not installed"}))
            return
    else:
        step, result["compile_s"], result["front_s"] = (build_symdl if impl == "symdl" else build_hand)(spec, backend, x, y)
    result["ms"] = median_step_ms(step, N_TRAIN // spec.batch, steps or spec.steps)
    print(json.dumps(result))


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


def run_child(job: str, args: argparse.Namespace) -> dict:
    """One measurement in a fresh process; an `error` entry when it failed."""
    cache = Path(tempfile.mkdtemp(prefix="symdl-bench-")) if args.cold else None
    command = [sys.executable, str(Path(__file__).resolve()), "--child", job, "--steps", str(args.steps), "--threads", str(args.threads)]
    print(f"  {job} ...", file=sys.stderr, flush=True)
    try:
        proc = subprocess.run(command, env=child_env(args.threads, cache), cwd=ROOT, capture_output=True, text=True)
    finally:
        if cache is not None:
            shutil.rmtree(cache, ignore_errors=True)
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        return {"error": f"exit {proc.returncode}"}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def fmt(value: object, spec: str = ".3f", suffix: str = "") -> str:
    return f"{value:{spec}}{suffix}" if isinstance(value, float) else "n/a"


def ratio(a: dict, b: dict) -> float | None:
    return a["ms"] / b["ms"] if "ms" in a and "ms" in b else None


def row(model: str, backend: str, r: dict[str, dict]) -> list[str]:
    """One table row from the results of symdl, hand and torch."""
    s, h, t = r["symdl"], r["hand"], r["torch"]
    return [model, backend, fmt(s.get("ms")), fmt(h.get("ms")), fmt(t.get("ms")), fmt(ratio(s, h), ".2f", "x"),
            fmt(ratio(s, t), ".2f", "x"), fmt(s.get("compile_s"), ".1f"), fmt(s.get("front_s"), ".2f"), fmt(h.get("compile_s"), ".1f")]


HEADER = ["model", "backend", "symdl ms", "hand ms", "torch ms", "symdl/hand", "symdl/torch", "symdl compile s", "(front end s)", "hand compile s"]


def print_table(rows: list[list[str]]) -> None:
    widths = [max(len(c) for c in column) for column in zip(HEADER, *rows, strict=True)]
    for line in [HEADER, *rows]:
        print("  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))


def summary(model: str, backend: str, r: dict[str, dict]) -> str:
    """One line per model and backend: the two ratios and whether the 5% target holds."""
    vs_hand, vs_torch = ratio(r["symdl"], r["hand"]), ratio(r["symdl"], r["torch"])
    verdict = "n/a" if vs_hand is None else ("met" if vs_hand <= TARGET else "MISSED")
    return (f"{model} ({backend}): symdl/hand = {fmt(vs_hand, '.2f', 'x')}, symdl/torch = {fmt(vs_torch, '.2f', 'x')}; "
            f"target symdl/hand <= {TARGET:.2f}x: {verdict}  [issue, by hand: {SPECS[model].reference}]")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,logreg", help="comma-separated: mlp, logreg")
    p.add_argument("--backends", default="numba,c", help="comma-separated: numba, c")
    p.add_argument("--steps", type=int, default=0, help="timed steps (default: 500 for mlp, 200 for logreg)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--cold", action="store_true", help="compile each function in a fresh, empty cache")
    p.add_argument("--child", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.child:
        return child(args.child, args.steps, args.threads)
    models, backends = args.models.split(","), args.backends.split(",")
    unknown = [m for m in models if m not in SPECS] + [b for b in backends if b not in MODES]
    if unknown:
        p.error(f"unknown model or backend: {', '.join(unknown)}")
    results = measure(models, backends, args)
    print(f"pytensor {package_version('pytensor')}, numba {package_version('numba')}, torch {package_version('torch')}; "
          f"{args.threads} threads; median ms per training step; compile = graph building through the first call, "
          f"{'cold (a fresh empty cache per process)' if args.cold else 'warm (the existing cache; a first run compiles cold)'}")
    print_table([row(m, b, results[m, b]) for m in models for b in backends])
    for m in models:
        for b in backends:
            print(summary(m, b, results[m, b]))


def measure(models: list[str], backends: list[str], args: argparse.Namespace) -> dict[tuple[str, str], dict[str, dict]]:
    """Every child's result, keyed by (model, backend), then by implementation."""
    results = {}
    for m in models:
        torch = run_child(f"{m}:cpu:torch", args)
        if torch.get("error") == "torch not installed":
            print("torch not installed: the PyTorch column is skipped", file=sys.stderr)
        for b in backends:
            results[m, b] = {impl: run_child(f"{m}:{b}:{impl}", args) for impl in IMPLS} | {"torch": torch}
    return results


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()
