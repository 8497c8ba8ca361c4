"""Benchmark one training step of mlp.sdl, logreg.sdl, rbm.sdl (PCD-15), da.sdl and lenet.sdl: symdl, hand-written PyTensor, PyTorch (CPU).

    python tools/bench.py [--models mlp,logreg,rbm,da,lenet] [--backends numba,c] [--steps N] [--threads 2] [--cold]

For lenet, each conv layer's forward + backward is timed alone as well (symdl's lowering, the
hand-written im2col, PyTorch's conv2d). A benchmark, not a test. Target: symdl within 5% of the same model written by hand in PyTensor
on the same backend. Each compile is timed in a child process of its own, so no function reuses
kernels another compiled in the same process (`--cold`: in a fresh, empty PyTensor compiledir
and Numba cache too). symdl's and the hand-written steps are then timed in one process,
interleaved, so a busy machine slows both alike; PyTorch's alone in another (beside PyTensor's
idle BLAS threads its MLP step went from 0.9 ms to 1.2-1.5 ms). Data are synthetic with the real
shapes (50000 x 784 float32, 10 classes), in shared variables picked by a minibatch index, as
`symdl run` does.
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
TARGET, WARMUP = 1.05, 10
MODES = {"numba": "NUMBA", "c": "CVM"}
Step = Callable[[int], object]


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
    kind: str = "classifier"  # or rbm, da (their steps by hand live in bench_unsupervised.py), lenet (bench_lenet.py)
    k: int = 0
    corruption: float = 0.0


SPECS = {
    "mlp": Spec("models/mlp.sdl", 20, 0.01, 0.0, 0.0001, 500, 500, "PyTensor-Numba 0.87 ms against PyTorch 1.18 ms"),
    "logreg": Spec("models/logreg.sdl", 600, 0.13, 0.0, 0.0, None, 200, "PyTensor-C 0.62 ms against PyTorch 0.56 ms"),
    "rbm": Spec("models/rbm.sdl", 20, 0.1, 0.0, 0.0, 500, 100, "PCD-15: PyTensor-C 24 ms, Numba 30 ms against PyTorch 6.6 ms", "rbm", k=15),
    "da": Spec("models/da.sdl", 20, 0.1, 0.0, 0.0, 500, 300, "PyTensor-Numba 2.7 ms against PyTorch 1.25 ms", "da", corruption=0.3),
    "lenet": Spec(
        "models/lenet.sdl", 500, 0.1, 0.0, 0.0, 500, 20, "im2col: PyTensor-C 204 ms, Numba 293 ms against PyTorch 85 ms", "lenet"
    ),
}


# ---- children: build and time -----------------------------------------------------------------


def synthetic_data(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random features in [0, 1) and labels in 0..9, with the training split's shapes."""
    rng = np.random.default_rng(seed)
    return rng.random((N_TRAIN, N_IN), dtype=np.float32), rng.integers(0, N_OUT, N_TRAIN, dtype=np.int32)


def initial_params(spec: Spec) -> list[np.ndarray]:
    """W, b per layer, initialised like the model: hidden layer glorot uniform (tanh), output zeros."""
    output = [np.zeros((spec.hidden or N_IN, N_OUT), np.float32), np.zeros(N_OUT, np.float32)]
    if spec.hidden is None:
        return output
    bound = np.sqrt(6.0 / (N_IN + spec.hidden))
    w = np.random.RandomState(1234).uniform(-bound, bound, (N_IN, spec.hidden)).astype(np.float32)
    return [w, np.zeros(spec.hidden, np.float32), *output]


def build_symdl(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> tuple[Step, float, float]:
    """The model's own `train`, bound to shared data as `symdl run` binds it; (step, compile s, front end s)."""
    import pytensor

    from symdl.api import load
    from symdl.lowering.lower import Binding

    xs, ys = pytensor.shared(x, name="x", borrow=True), pytensor.shared(y, name="y", borrow=True)
    started = time.perf_counter()
    m = load(ROOT / spec.file, backend=backend)
    front = time.perf_counter() - started
    assert (m.hypers["batch"], m.hypers["lr"]) == (spec.batch, spec.lr), "the hand-written copy drifted from the model"
    fields = {"x": xs, "y": ys}
    f = m.compile("train", Binding({i.name: fields[i.name] for i in m.function("train").inputs}, spec.batch))
    f(0)
    return f, time.perf_counter() - started, front


def build_hand(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> tuple[Step, float, float]:
    """The same step written the tutorial's way: shared params, `givens` slicing, float32 throughout."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode

    xs, ys = pytensor.shared(x, name="X", borrow=True), pytensor.shared(y, name="Y", borrow=True)
    started = time.perf_counter()
    if spec.kind == "lenet":
        from bench_lenet import hand_lenet

        f = hand_lenet(spec, xs, ys, get_mode(MODES[backend]))
        f(0)
        return f, time.perf_counter() - started, 0.0
    if spec.kind != "classifier":
        from bench_unsupervised import HAND

        f = HAND[spec.kind](spec, xs, get_mode(MODES[backend]))
        f(0)
        return f, time.perf_counter() - started, 0.0
    params = [pytensor.shared(v) for v in initial_params(spec)]
    index, xb, yb = pt.lscalar("index"), pt.matrix("x", dtype="float32"), pt.ivector("y")
    h = xb if spec.hidden is None else pt.tanh(xb @ params[0] + params[1])
    cost = -pt.mean(pt.special.log_softmax(h @ params[-2] + params[-1], axis=1)[pt.arange(spec.batch), yb])
    if spec.hidden is not None:  # the tutorial's MLP carries both penalties, even at l1 = 0
        w1, w2 = params[0::2]
        cost = cost + np.float32(spec.l1) * (abs(w1).sum() + abs(w2).sum()) + np.float32(spec.l2) * ((w1**2).sum() + (w2**2).sum())
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, pytensor.grad(cost, params), strict=True)]
    b = spec.batch
    givens = {xb: xs[index * b : (index + 1) * b], yb: ys[index * b : (index + 1) * b]}
    f = pytensor.function([index], cost, updates=updates, givens=givens, mode=get_mode(MODES[backend]))
    f(0)
    return f, time.perf_counter() - started, 0.0


def build_torch(spec: Spec, threads: int, x: np.ndarray, y: np.ndarray) -> Step:
    """The same step in PyTorch eager on the CPU, SGD by hand (a zero l1 term left out)."""
    import torch

    torch.set_num_threads(threads)
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    if spec.kind == "lenet":
        from bench_lenet import torch_lenet

        return torch_lenet(spec, xt, yt)
    if spec.kind != "classifier":
        from bench_unsupervised import TORCH

        return TORCH[spec.kind](spec, xt)
    params = [torch.from_numpy(v).requires_grad_() for v in initial_params(spec)]
    rows, b = torch.arange(spec.batch), spec.batch

    def step(i: int) -> float:
        xb, yb = xt[i * b : (i + 1) * b], yt[i * b : (i + 1) * b]
        h = xb if spec.hidden is None else torch.tanh(xb @ params[0] + params[1])
        cost = -torch.log_softmax(h @ params[-2] + params[-1], dim=1)[rows, yb].mean()
        if spec.hidden is not None:
            cost = cost + spec.l2 * ((params[0] ** 2).sum() + (params[2] ** 2).sum())
        with torch.no_grad():
            for p, g in zip(params, torch.autograd.grad(cost, params), strict=True):
                p.sub_(g, alpha=spec.lr)
        return cost.item()

    return step


def interleaved_ms(steps: dict[str, Step], n_batches: int, total: int, chunk: int = 25) -> dict[str, float]:
    """Median ms per step of each, after a warm-up, timed in alternating chunks of minibatch indices."""
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


def child(job: str, steps: int, threads: int) -> dict[str, float]:
    """`model:backend:symdl|hand` times a compile; `model:backend:steps` the steps (backend `torch`: PyTorch's)."""
    model, backend, what = job.split(":")
    if what == "layers":
        return conv_layers_ms(backend, threads, steps or 10)
    spec, (x, y) = SPECS[model], synthetic_data()
    if what in ("symdl", "hand"):
        _, seconds, front = (build_symdl if what == "symdl" else build_hand)(spec, backend, x, y)
        return {"compile_s": seconds, "front_s": front}
    if backend == "torch":
        try:
            fns = {"torch": build_torch(spec, threads, x, y)}
        except ImportError:
            return {}
    else:
        fns = {"symdl": build_symdl(spec, backend, x, y)[0], "hand": build_hand(spec, backend, x, y)[0]}
    return interleaved_ms(fns, N_TRAIN // spec.batch, steps or spec.steps)


def conv_layers_ms(backend: str, threads: int, steps: int) -> dict[str, float]:
    """LeNet's conv layers alone, forward + backward: `conv0 symdl`, `conv0 hand`, ... (backend `torch`: PyTorch's)."""
    from bench_lenet import layer_steps
    from pytensor.compile.mode import get_mode

    layers = layer_steps(get_mode(MODES.get(backend, "CVM")), threads)
    wanted = ("torch",) if backend == "torch" else ("symdl", "hand")
    steps_by_name = {f"{layer} {impl}": fns[impl] for layer, fns in layers.items() for impl in wanted}
    return interleaved_ms(steps_by_name, 1, steps, chunk=5)


# ---- the parent: run the children, print the table -----------------------------------------------


def child_env(threads: int, cache: Path | None) -> dict[str, str]:
    """The environment of a child: thread counts, and with `cache` a fresh compile cache."""
    env = dict(os.environ) | dict.fromkeys(
        ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS"), str(threads)
    )
    if cache is not None:
        flags = [f for f in env.get("PYTENSOR_FLAGS", "").split(",") if f and "compiledir" not in f]
        env["PYTENSOR_FLAGS"] = ",".join([*flags, f"base_compiledir={cache / 'pytensor'}"])  # Numba's cache lies under it
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


def measure(args: argparse.Namespace) -> dict[tuple[str, str], dict[str, dict]]:
    """Per (model, backend): each compile in its own process, then the step times."""
    results = {}
    for model in args.models:
        torch = run_child(f"{model}:torch:steps", args)
        if not torch:
            print("torch not installed: the PyTorch column is skipped", file=sys.stderr)
        for backend in args.backends:
            compiles = {impl: run_child(f"{model}:{backend}:{impl}", args, args.cold) for impl in ("symdl", "hand")}
            results[model, backend] = compiles | {"ms": run_child(f"{model}:{backend}:steps", args) | torch}
            if model == "lenet":
                results[model, backend]["layers"] = run_child(f"lenet:{backend}:layers", args) | run_child("lenet:torch:layers", args)
    return results


def fmt(value: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def ratio(ms: dict[str, float], other: str) -> float | None:
    return ms["symdl"] / ms[other] if "symdl" in ms and other in ms else None


HEADER = [
    "model",
    "backend",
    "symdl ms",
    "hand ms",
    "torch ms",
    "symdl/hand",
    "symdl/torch",
    "symdl compile s",
    "(front end s)",
    "hand compile s",
]


def print_table(results: dict[tuple[str, str], dict[str, dict]]) -> None:
    """One row per model and backend: step times, ratios, compile seconds."""
    rows = [HEADER]
    for (model, backend), r in results.items():
        ms, s, h = r["ms"], r["symdl"], r["hand"]
        rows.append(
            [
                model,
                backend,
                fmt(ms.get("symdl")),
                fmt(ms.get("hand")),
                fmt(ms.get("torch")),
                fmt(ratio(ms, "hand"), ".2f", "x"),
                fmt(ratio(ms, "torch"), ".2f", "x"),
                fmt(s.get("compile_s"), ".1f"),
                fmt(s.get("front_s"), ".2f"),
                fmt(h.get("compile_s"), ".1f"),
            ]
        )
    widths = [max(len(c) for c in column) for column in zip(*rows, strict=True)]
    for line in rows:
        print("  ".join(c.rjust(w) if i > 1 else c.ljust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))))


def summary(model: str, backend: str, ms: dict[str, float]) -> str:
    """One line per model and backend: the two ratios and whether the 5% target holds."""
    vs_hand = ratio(ms, "hand")
    verdict = "n/a" if vs_hand is None else ("met" if vs_hand <= TARGET else "MISSED")
    return (
        f"{model} ({backend}): symdl/hand = {fmt(vs_hand, '.2f', 'x')}, symdl/torch = {fmt(ratio(ms, 'torch'), '.2f', 'x')}; "
        f"target symdl/hand <= {TARGET:.2f}x: {verdict}  [the issue, by hand: {SPECS[model].reference}]"
    )


def package_version(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} not installed"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,logreg,rbm,da", help="comma-separated: mlp, logreg, rbm, da, lenet")
    p.add_argument("--backends", default="numba,c", help="comma-separated: numba, c")
    p.add_argument("--steps", type=int, default=0, help="timed steps (default: 500 mlp, 200 logreg, 100 rbm, 300 da, 20 lenet)")
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
    import symdl  # noqa: F401 - PyTensor set up as symdl sets it up (the system BLAS), for every column alike

    args = parse_args(argv)
    if args.child:
        return print(json.dumps(child(args.child, args.steps, args.threads)))
    load = os.getloadavg()[0]
    results = measure(args)
    cache = "cold (a fresh, empty cache per function)" if args.cold else "warm (the existing cache; a first run compiles cold)"
    print(
        f"{', '.join(map(package_version, ('pytensor', 'numba', 'torch')))}; {args.threads} threads; load average before the run "
        f"{load:.2f}; median ms per training step; compile = graph building through the first call, {cache}"
    )
    print_table(results)
    for (model, backend), r in results.items():
        print(summary(model, backend, r["ms"]))
        for layer in ("conv0", "conv1") if "layers" in r else ():
            ms = {impl: r["layers"].get(f"{layer} {impl}") for impl in ("symdl", "hand", "torch")}
            ms = {k: v for k, v in ms.items() if v is not None}
            print(
                f"  {layer} forward+backward ({backend}): symdl {fmt(ms.get('symdl'), '.1f')} ms, hand {fmt(ms.get('hand'), '.1f')} ms, "
                f"torch {fmt(ms.get('torch'), '.1f')} ms; symdl/hand {fmt(ratio(ms, 'hand'), '.2f', 'x')}, "
                f"symdl/torch {fmt(ratio(ms, 'torch'), '.2f', 'x')}"
            )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.path.insert(0, str(ROOT / "tools"))
    main()
