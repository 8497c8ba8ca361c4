"""The implementations tools/bench.py times, and the worker loop each runs in a process of its own.

A worker builds one training step (symdl bound to shared data as `symdl run` binds it; symdl through
the Python API on NumPy minibatches; PyTensor by hand; PyTorch eager; or the step's matrix products
alone in NumPy), warms it, says `ready`, then answers each `burst N` line on stdin with the times of N
consecutive steps and its own CPU seconds, until `quit`.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

import symdl  # before any PyTensor import, for every column alike: it links PyTensor's C backend to OpenBLAS, which a later import cannot

ROOT = Path(__file__).resolve().parent.parent
N_TRAIN, N_IN, N_OUT = 50000, 784, 10
WARMUP = 10
Step = Callable[[int], object]
PYTENSOR_MODES = {"numba": "NUMBA", "c": "CVM", "jax": "JAX"}


@dataclass(frozen=True)
class Spec:
    """One model as the tutorial writes it; `hidden` is None for logistic regression."""

    file: str
    batch: int
    lr: float
    l2: float
    hidden: int | None
    kind: str = "classifier"  # or rbm, da (bench_unsupervised.py), lenet (bench_lenet.py), dropout (bench_dropout.py)
    k: int = 0
    corruption: float = 0.0

    def gemms(self) -> list[tuple[int, int, int]]:
        """The step's matrix products (m, k, n), forward and backward, for the products-alone column."""
        b, h = self.batch, self.hidden or 0
        if self.kind == "classifier" and self.hidden is None:
            return [(b, N_IN, N_OUT), (N_IN, b, N_OUT)]
        if self.kind == "classifier":
            return [(b, N_IN, h), (b, h, N_OUT), (h, b, N_OUT), (b, N_OUT, h), (N_IN, b, h)]
        if self.kind == "da":  # encode, decode, and their gradients through the tied W
            return [(b, N_IN, h), (b, h, N_IN), (b, N_IN, h), (h, b, N_IN), (N_IN, b, h), (N_IN, b, h)]
        if self.kind == "dropout":  # three layers forward, their weight gradients and two input gradients
            return [(b, N_IN, h), (b, h, h), (b, h, N_OUT), (h, b, N_OUT), (b, N_OUT, h), (h, b, h), (b, h, h), (N_IN, b, h)]
        if self.kind == "rbm":  # 2k products in the chain, then the positive and negative phase's
            return [(b, h, N_IN), (b, N_IN, h)] * self.k + [(b, N_IN, h)] * 2 + [(N_IN, b, h)] * 2 + [(b, N_IN, h)] * 2
        if self.kind == "lenet":
            from bench_lenet import lenet_gemms

            return lenet_gemms(h, N_OUT)
        return []


SPECS = {
    "mlp": Spec("models/mlp.sdl", 20, 0.01, 0.0001, 500),
    "logreg": Spec("models/logreg.sdl", 600, 0.13, 0.0, None),
    "rbm": Spec("models/rbm.sdl", 20, 0.1, 0.0, 500, "rbm", k=15),
    "da": Spec("models/da.sdl", 20, 0.1, 0.0, 500, "da", corruption=0.3),
    "lenet": Spec("models/lenet.sdl", 500, 0.1, 0.0, 500, "lenet"),
    "mlp_dropout": Spec("models/mlp_dropout.sdl", 100, 0.001, 0.0, 1024, "dropout"),
}


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


# ---- the implementations --------------------------------------------------------------------------


def build_symdl(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> Step:
    """The model's own `train`, bound to shared data by a minibatch index, as `symdl run` binds it."""
    from symdl.lowering.lower import Binding

    m = symdl.load(ROOT / spec.file, backend=backend)
    shared = dict(zip("xy", shared_data(m.backend_of("train"), x, y), strict=True))
    return m.compile("train", Binding({i.name: shared[i.name] for i in m.function("train").inputs}, spec.batch))


def shared_data(backend: str, *arrays: np.ndarray) -> list:
    """The arrays as shared variables, held on the device under JAX, as `symdl run` holds them."""
    import pytensor

    from symdl.lowering.device import device_array, hold

    variables = [pytensor.shared(a, borrow=True) for a in arrays]
    for variable, array in zip(variables, arrays, strict=True):
        hold(variable, device_array(array, backend))
    return variables


def build_api(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> Step:
    """The same through the Python API: `symdl.load(...).fn.train(**arrays)` on NumPy minibatches."""

    m = symdl.load(ROOT / spec.file, backend=None if backend == "default" else backend)
    names, b = [i.name for i in m.function("train").inputs], spec.batch
    arrays = {"x": x, "y": y}
    return lambda i: m.fn.train(**{n: arrays[n][i * b : (i + 1) * b] for n in names})


def minibatch(data, index, b: int, mode):
    """Rows index*b to (index+1)*b of shared `data`: a view, or on JAX, which traces static shapes only, a gather."""
    from pytensor.link.jax.linker import JAXLinker

    if isinstance(mode.linker, JAXLinker):
        return data[index * b + np.arange(b)]
    return data[index * b : (index + 1) * b]


def build_hand(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> Step:
    """The same step as a PyTensor user would write it: shared params, `givens` slicing, float32."""
    import pytensor
    import pytensor.tensor as pt
    from pytensor.compile.mode import get_mode

    mode = get_mode(PYTENSOR_MODES[backend])
    if backend == "c":  # Theano's old tip, as symdl's c backend: keep intermediate buffers between calls
        from pytensor.compile.mode import Mode
        from pytensor.link.vm import VMLinker

        mode = Mode(VMLinker(use_cloop=True, allow_gc=False), mode.provided_optimizer)
    xs, ys = shared_data(backend, x, y)
    if spec.kind == "lenet":
        from bench_lenet import hand_lenet

        return hand_lenet(spec, xs, ys, mode)
    if spec.kind == "dropout":
        from bench_dropout import hand_dropout

        return hand_dropout(spec, xs, ys, mode)
    if spec.kind != "classifier":
        from bench_unsupervised import HAND

        return HAND[spec.kind](spec, xs, mode, backend)
    params = [pytensor.shared(v) for v in initial_params(spec)]
    index, xb, yb = pt.lscalar("index"), pt.matrix("x", dtype="float32"), pt.ivector("y")
    h = xb if spec.hidden is None else pt.tanh(xb @ params[0] + params[1])
    cost = -pt.mean(pt.special.log_softmax(h @ params[-2] + params[-1], axis=1)[pt.arange(spec.batch), yb])
    if spec.hidden is not None:
        cost = cost + np.float32(spec.l2) * ((params[0] ** 2).sum() + (params[2] ** 2).sum())
    updates = [(p, p - np.float32(spec.lr) * g) for p, g in zip(params, pytensor.grad(cost, params), strict=True)]
    b = spec.batch
    givens = {xb: minibatch(xs, index, b, mode), yb: minibatch(ys, index, b, mode)}
    return pytensor.function([index], cost, updates=updates, givens=givens, mode=mode)


def build_torch(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> Step:
    """The same step in idiomatic PyTorch eager on the CPU (modules, F.cross_entropy, optim.SGD)."""
    import torch

    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", "2")))
    xt, yt = torch.from_numpy(x), torch.from_numpy(y.astype(np.int64))
    if spec.kind == "lenet":
        from bench_lenet import torch_lenet

        return torch_lenet(spec, xt, yt)
    if spec.kind == "dropout":
        from bench_dropout import torch_dropout

        return torch_dropout(spec, xt, yt)
    if spec.kind != "classifier":
        from bench_unsupervised import TORCH

        return TORCH[spec.kind](spec, xt)
    values = initial_params(spec)
    layers = [torch.nn.Linear(w.shape[0], w.shape[1]) for w in values[0::2]]
    with torch.no_grad():
        for layer, w, b in zip(layers, values[0::2], values[1::2], strict=True):
            layer.weight.copy_(torch.from_numpy(w.T))
            layer.bias.copy_(torch.from_numpy(b))
    net = torch.nn.Sequential(layers[0], torch.nn.Tanh(), layers[1]) if len(layers) == 2 else layers[0]
    # l2 * sum(W ** 2) on the weights only is SGD's weight decay 2 * l2 on them
    groups = [{"params": [lay.weight for lay in layers], "weight_decay": 2 * spec.l2}, {"params": [lay.bias for lay in layers]}]
    opt, b = torch.optim.SGD(groups, lr=spec.lr, foreach=True), spec.batch
    F = torch.nn.functional

    def step(i: int) -> float:
        opt.zero_grad(set_to_none=False)
        loss = F.cross_entropy(net(xt[i * b : (i + 1) * b]), yt[i * b : (i + 1) * b])
        loss.backward()
        opt.step()
        return loss.item()

    return step


def build_gemm(spec: Spec, backend: str, x: np.ndarray, y: np.ndarray) -> Step:
    """The step's matrix products alone, in NumPy (OpenBLAS), on preallocated operands and outputs."""
    rng = np.random.default_rng(0)
    operands = [
        (rng.random((m, k), dtype=np.float32), rng.random((k, n), dtype=np.float32), np.empty((m, n), np.float32))
        for m, k, n in spec.gemms()
    ]

    def step(i: int) -> None:
        for a, b, out in operands:
            np.matmul(a, b, out=out)

    return step


BUILDERS = {"symdl": build_symdl, "api": build_api, "hand": build_hand, "torch": build_torch, "gemm": build_gemm}


def peak_gflops(seconds: float = 1.0, n: int = 1024) -> float:
    """The machine's float32 matrix-product rate (NumPy/OpenBLAS, n x n by n x n), best of a few."""
    a, b, out = (np.random.default_rng(0).random((n, n), dtype=np.float32) for _ in range(3))
    best, deadline = float("inf"), time.perf_counter() + seconds
    while time.perf_counter() < deadline:
        started = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - started)
    return 2 * n**3 / best / 1e9


# ---- the worker loop ------------------------------------------------------------------------------


def reply(message: dict) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def settle(result: object) -> None:
    """Wait for a step's results: JAX returns before its arrays are computed (asynchronous dispatch)."""
    for r in result if isinstance(result, (list, tuple)) else [result]:
        getattr(r, "block_until_ready", lambda: None)()


def serve(job: str) -> None:
    """`model:impl:backend`: build, warm, then time bursts on request (protocol in the module doc)."""
    model, impl, backend = job.split(":")
    spec, (x, y) = SPECS[model], synthetic_data()
    started = time.perf_counter()
    try:
        step = BUILDERS[impl](spec, backend, x, y)
        for i in range(WARMUP):
            settle(step(i))
    except Exception as error:  # a missing package or a failed compile: the parent leaves the column out
        reply({"error": f"{type(error).__name__}: {error}"[:500]})
        return
    reply({"ready": True, "build_s": time.perf_counter() - started})
    n_batches, i = N_TRAIN // spec.batch, WARMUP
    for line in sys.stdin:
        if not line.startswith("burst"):
            break
        times, cpu = [], time.process_time()
        for _ in range(int(line.split()[1])):
            t = time.perf_counter()
            settle(step(i % n_batches))
            times.append(time.perf_counter() - t)
            i += 1
        reply({"times": times, "cpu_s": time.process_time() - cpu})
