"""Standard noise for the draws the registry marks `ahead`, made in float32 and in few generator calls.

A loop's draws of a static shape are made for every step at once, ahead of it: all its uniform
noise in one generator call (one `(steps, total)` block, sliced per draw) and all its normal noise
in another. On the backends that run Python ops natively (`Backend.runs_python`: the C linker and
FAST_COMPILE) the block comes from NumPy's float32 generator: PyTensor 3's own uniform there calls
`Generator.uniform(low, high, size)` with the bounds as broadcast float64 arrays and casts, 2.2 ms
for the RBM's 15 x 20 x 784 values against 0.43 ms for `Generator.random(dtype=float32)` (measured,
loaded). Elsewhere (Numba, JAX) the block is PyTensor's uniform or normal, which those backends compile.

`bernoulli(sigmoid(z))` is `u < sigmoid(z)`, which is `logit(u) < z`: with host noise the draw's
noise is made logistic as it is drawn (NumPy's vectorised log), so the loop compares with the
pre-activation and evaluates no exponential per step, where the C backend's fused `u < sigmoid(z)`
spends ~4 ns an element in a scalar `exp` (90 against 24 us a 20 x 784 step, measured).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytensor.tensor as pt
from numpy.random import Generator
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.tensor.random.utils import custom_rng_deepcopy


@dataclass(frozen=True)
class Segment:
    """One draw's share of the block: its noise kind (uniform [0, 1), logistic: the logit of a uniform, for
    bernoulli(sigmoid(z)), or standard normal) and its shape at one step."""

    kind: str
    shape: tuple[int, ...]

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))


class NoiseBlock(Op):
    """(generator[, steps]) -> (next generator, one float32 array per segment, shaped (steps, *shape) or shape).

    One `Generator.random(dtype=float32)` call for the uniform and logistic segments, one
    `Generator.standard_normal(dtype=float32)` call for the normal ones; each output is a view of its block."""

    __props__ = ("segments", "stepped", "inplace")

    def __init__(self, segments: tuple[Segment, ...], stepped: bool, inplace: bool = False) -> None:
        self.segments, self.stepped, self.inplace = segments, stepped, inplace
        if inplace:
            self.destroy_map = {0: [0]}

    def make_node(self, rng, *steps) -> Apply:
        steps = [pt.as_tensor_variable(s, dtype="int64") for s in steps]
        lead = (int(steps[0].data) if isinstance(steps[0], pt.TensorConstant) else None,) if self.stepped else ()
        outs = [pt.tensor(dtype="float32", shape=(*lead, *s.shape)) for s in self.segments]
        return Apply(self, [rng, *steps], [rng.type(), *outs])

    def perform(self, node, inputs, outputs) -> None:
        rng = inputs[0] if self.inplace else custom_rng_deepcopy(inputs[0])
        rows = int(inputs[1]) if self.stepped else 1
        columns = _columns(self.segments)
        blocks = {f: np.empty((rows, n), np.float32) for f, n in _totals(self.segments).items() if n}
        self._fill(rng, blocks, columns)
        outputs[0][0] = rng
        lead = (rows,) if self.stepped else ()
        for out, segment, (family, a, b) in zip(outputs[1:], self.segments, columns):
            out[0] = blocks[family][:, a:b].reshape((*lead, *segment.shape))

    def _fill(self, rng: Generator, blocks: dict, columns: list) -> None:
        """Draw each block in one call, then make the logistic segments' noise logistic."""
        for family, block in blocks.items():
            (rng.random if family == "uniform" else rng.standard_normal)(dtype=np.float32, out=block)
        for segment, (family, a, b) in zip(self.segments, columns):
            if segment.kind == "logistic":
                _logit(blocks[family][:, a:b])


def _totals(segments: tuple[Segment, ...]) -> dict[str, int]:
    return {f: sum(s.size for s in segments if _family(s) == f) for f in ("uniform", "normal")}


def _columns(segments: tuple[Segment, ...]) -> list[tuple[str, int, int]]:
    """Each segment's family and columns in its family's block."""
    at, columns = {"uniform": 0, "normal": 0}, []
    for segment in segments:
        family = _family(segment)
        columns.append((family, at[family], at[family] + segment.size))
        at[family] += segment.size
    return columns


def _family(segment: Segment) -> str:
    """The generator call a segment's noise comes from."""
    return "normal" if segment.kind == "normal" else "uniform"


def _logit(rows: np.ndarray) -> None:
    """u <- log(u / (1 - u)) in place, a row (one step) at a time so the temporary stays in cache: a
    block-sized one costs a fresh allocation and its page faults at every call (3.1 against 1.3 ms for
    the RBM's block, measured). u = 0 gives -inf, below every pre-activation, as 0 < sigmoid(z)."""
    t = np.empty(rows.shape[-1], np.float32)
    with np.errstate(divide="ignore"):
        for u in rows:
            np.subtract(np.float32(1), u, out=t)
            np.divide(u, t, out=t)
            np.log(t, out=u)


@node_rewriter([NoiseBlock])
def _noise_inplace(fgraph, node):
    """Draw from the generator in place, as PyTensor's `random_make_inplace` does for its own draws."""
    if node.op.inplace:
        return False
    return NoiseBlock(node.op.segments, node.op.stepped, inplace=True).make_node(*node.inputs).outputs


def _register() -> None:
    from pytensor.compile import optdb

    optdb.register("symdl_noise_inplace", dfs_rewriter(_noise_inplace, ignore_newtrees=True), "fast_run", "inplace", position=50.9)


_register()


def standard_noise(rng, steps, segments: list[Segment], host: bool) -> tuple[object, list]:
    """The next generator and each segment's noise; `steps` None: one draw each, no leading axis."""
    if not segments:
        return rng, []
    if host:
        rng, *noise = NoiseBlock(tuple(segments), steps is not None)(rng, *([] if steps is None else [steps]))
        return rng, noise
    return _compiled_noise(rng, steps, segments)


def _compiled_noise(rng, steps, segments: list[Segment]) -> tuple[object, list]:
    """The same from PyTensor's own draws, for the backends that compile them (Numba, JAX)."""
    lead = () if steps is None else (steps,)
    blocks = {}
    for family, n in _totals(tuple(segments)).items():
        if n:
            draw = pt.random.uniform if family == "uniform" else pt.random.normal
            rng, blocks[family] = draw(0.0, 1.0, size=(*lead, n), rng=rng, dtype="float32", return_next_rng=True)
    noise = []
    for segment, (family, a, b) in zip(segments, _columns(tuple(segments))):
        view = blocks[family][..., a:b]
        if segment.kind == "logistic":
            view = pt.log(view) - pt.log1p(-view)
        noise.append(pt.reshape(view, (*lead, *segment.shape)))
    return rng, noise


def below_sigmoid(noise, z):
    """bernoulli(sigmoid(z)) from logistic noise: 1 where logit(u) < z, which is u < sigmoid(z)."""
    return pt.lt(noise, z)
