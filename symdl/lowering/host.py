"""Faster Ops on the backends that run Python and C ops natively (C, fast): tanh, large float32 sums and
sums of squares through NumPy, and graphs that carry an Op of their own (`HostGraph`), which those backends run in place.

PyTensor's C and Numba loops call the C library's scalar `tanh` for every element (about 30 ns an
element in float32 here), where NumPy's float32 tanh is vectorised: on a LeNet-sized activation
(500 x 20 x 12 x 12, with its gradient) 48 ms against 11 ms (measured, loaded). A rewrite swaps
each float32 tanh for `HostTanh` before elementwise fusion, so the additions around it still fuse;
its gradient `1 - y**2` is already written on the output by PyTensor's autodiff.

PyTensor's C sum of float32 into a float64 accumulator adds one element at a time into one accumulator: 9.5 ms
for LeNet's first bias gradient (1.44 M elements, loaded) against 0.4 ms for NumPy's pairwise float64 sum.
"""

from __future__ import annotations

import numpy as np
from pytensor.compile.builders import OpFromGraph
from pytensor.graph.basic import Apply
from pytensor.graph.op import Op
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.scalar.basic import Sqr, Tanh
from pytensor.tensor.elemwise import DimShuffle, Elemwise
from pytensor.tensor.math import Sum

HOST_TAG = "symdl_host"  # the optimizer tag a backend's mode includes to run these rewrites


class HostTanh(Op):
    """x -> tanh(x) by NumPy, written into the previous call's buffer when the shape repeats."""

    __props__ = ()

    def make_node(self, x) -> Apply:
        return Apply(self, [x], [x.type()])

    def perform(self, node, inputs, outputs) -> None:
        (x,), (out,) = inputs, outputs
        if out[0] is None or out[0].shape != x.shape:
            out[0] = np.empty_like(x)
        np.tanh(x, out=out[0])

    def infer_shape(self, fgraph, node, shapes):
        return shapes


class HostGraph(OpFromGraph):
    """An inline OpFromGraph with `host`, an Op that computes the same from the same inputs faster: the
    backends with `HOST_TAG` run `host`, the others the graph, inlined (its pullback, if given, likewise)."""

    def __init__(self, inputs, outputs, host: Op, **kwargs):
        super().__init__(inputs, outputs, inline=True, **kwargs)
        self.host = host


@node_rewriter([HostGraph])
def _host_graph(fgraph, node):
    made = node.op.host.make_node(*node.inputs).outputs
    return [old.type.filter_variable(new) for old, new in zip(node.outputs, made, strict=True)]


class HostSum(Op):
    """x -> its sum over `axes` accumulated in float64 by NumPy, in x's dtype."""

    __props__ = ("axes",)

    def __init__(self, axes: tuple[int, ...] | None):
        self.axes = axes

    def make_node(self, x) -> Apply:
        axes = range(x.ndim) if self.axes is None else self.axes
        kept = [d for i, d in enumerate(x.type.shape) if i not in axes]
        return Apply(self, [x], [x.type.clone(shape=kept)()])

    def perform(self, node, inputs, outputs) -> None:
        (x,), (out,) = inputs, outputs
        out[0] = np.asarray(np.sum(x, axis=self.axes, dtype=np.float64), dtype=x.dtype)


class HostSumSquares(Op):
    """x -> the sum of its squares, in x's dtype: NumPy's float32 dot of each row with itself, the rows' results
    added in float64 (relative error ~1e-11 on a 784 x 500 weight). An L2 penalty's value: the MLP's 392 k weights
    took 140 us squared and summed, 36 us so (one process, quiet), a third of its step."""

    __props__ = ()

    def make_node(self, x) -> Apply:
        return Apply(self, [x], [x.type.clone(shape=())()])

    def perform(self, node, inputs, outputs) -> None:
        (x,), (out,) = inputs, outputs
        rows = x.reshape(-1, x.shape[-1]) if x.ndim > 1 else x.reshape(1, -1)
        out[0] = np.asarray(np.einsum("ij,ij->i", rows, rows).sum(dtype=np.float64), dtype=x.dtype)


HOST_SUM_MIN = 1 << 12  # elements: smaller sums are not worth a Python call (a few microseconds)


@node_rewriter([Sum])
def _host_sum(fgraph, node):
    """A float32 sum along the last axis: C's loop there is one serial float64 chain (~2.8 ns an element: the dA's
    20 x 784 row sums 44 us against 6 us in NumPy, 100 x 1024 ones 286 against 30); along the others its
    loop adds whole rows and is the faster (a 20 x 500 column sum 2.7 against 4.8 us; one process, quiet)."""
    (x,), out = node.inputs, node.outputs[0]
    size = None if None in x.type.shape else int(np.prod(x.type.shape))
    along_last = node.op.axis is None or x.type.ndim - 1 in node.op.axis
    float32 = x.dtype == out.dtype == "float32" and node.op.acc_dtype == "float64"
    if not (float32 and along_last and size is not None and size >= HOST_SUM_MIN):
        return None
    squared = _squared(x) if node.op.axis is None or len(node.op.axis) == x.type.ndim else None
    return [HostSumSquares()(squared) if squared is not None else HostSum(node.op.axis)(x)]


def _squared(x):
    """What `x` squares, through transposes (a whole sum does not see them), or None."""
    while x.owner is not None and isinstance(x.owner.op, DimShuffle) and _permutes(x.owner.op):
        x = x.owner.inputs[0]
    if x.owner is not None and isinstance(x.owner.op, Elemwise) and isinstance(x.owner.op.scalar_op, Sqr):
        return x.owner.inputs[0]
    return None


def _permutes(op: DimShuffle) -> bool:
    return "x" not in op.new_order and sorted(op.new_order) == list(range(op.input_ndim))


@node_rewriter([Elemwise])
def _host_tanh(fgraph, node):
    if isinstance(node.op.scalar_op, Tanh) and node.outputs[0].dtype == "float32":
        return [HostTanh()(node.inputs[0])]
    return None


def _register() -> None:
    from pytensor.compile import optdb

    # before PyTensor inlines every inline OpFromGraph (-0.01)
    optdb.register("symdl_host_graph", dfs_rewriter(_host_graph), HOST_TAG, position=-0.02)
    # after the graph's simplifications (stabilize, specialize), before elementwise fusion (49)
    optdb.register("symdl_host_tanh", dfs_rewriter(_host_tanh), HOST_TAG, position=48.5)
    # after the layout's rewrites (48.6) have moved sums onto the arrays in memory order
    optdb.register("symdl_host_sum", dfs_rewriter(_host_sum), HOST_TAG, position=48.7)


_register()
