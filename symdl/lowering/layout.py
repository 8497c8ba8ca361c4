"""Keep a transposed array's memory order through the elementwise work that follows it.

PyTensor's C elementwise loops write their output in C order of its logical shape. A convolution's output is
channel-major in memory, [o, b, oh, ow], seen as NCHW through a transposition; the bias, tanh and their
gradients would each write NCHW, and the next convolution copies its input back to channel-major (LeNet: a
transposing copy each way, and the bias's gradient and the pooling's gradient read across the grain). These
rewrites move the transposition past the work instead, so the work runs in the memory's own order:

    f(x.T, c) -> f(x, c.T).T    (f elementwise or `HostTanh`; most of its full inputs transposed alike)
    sum(x.T, axes) -> sum(x, the same axes of x).T
    (x.T).T -> x                (transpositions met on the way compose)
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.graph.rewriting.basic import in2out, node_rewriter
from pytensor.tensor.elemwise import CAReduce, DimShuffle, Elemwise
from pytensor.tensor.variable import TensorConstant

from symdl.lowering.host import HOST_TAG, HostTanh


def _permutation(var) -> tuple[int, ...] | None:
    """The order a DimShuffle that only permutes axes (all kept, none added, not the identity) gives var."""
    node = var.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    order = tuple(node.op.new_order)
    if "x" in order or sorted(order) != list(range(var.ndim)) or order == tuple(range(var.ndim)):
        return None
    return order


def _shuffled(var, order):
    """var.dimshuffle(order), composed with var's own DimShuffle and left out where it is the identity."""
    node = var.owner
    if isinstance(var, TensorConstant):  # a constant stays one, for elementwise fusion to fold it in
        return pt.constant(var.data.transpose(order), dtype=var.dtype)
    if node is not None and isinstance(node.op, DimShuffle):
        order = ["x" if o == "x" else node.op.new_order[o] for o in order]
        var = node.inputs[0]
    if list(order) == list(range(var.ndim)):
        return var
    return var.dimshuffle(order)


def _inverse(order: tuple[int, ...]) -> list[int]:
    return [order.index(axis) for axis in range(len(order))]


@node_rewriter([Elemwise, HostTanh])
def elemwise_of_transpose(fgraph, node):
    """f(x.T, c) -> f(x, c.T).T: more than half of the full inputs (c broadcasts on all axes but one at most)
    are transposed, all the same way; the output then keeps their memory order (any other is read across it).
    A tie stays: moved, it would be a tie the other way round, and move back."""
    full = [v for v in node.inputs if sum(not b for b in v.type.broadcastable) > 1]
    orders = [o for v in full if (o := _permutation(v)) is not None]
    if not orders or len(set(orders)) > 1 or 2 * len(orders) <= len(full):
        return None
    order = orders[0]
    if any(v.ndim != len(order) for v in node.inputs):
        return None
    inputs = [_shuffled(v, _inverse(order)) for v in node.inputs]
    return [_shuffled(out, order) for out in node.op.make_node(*inputs).outputs]


@node_rewriter([CAReduce])
def reduce_of_transpose(fgraph, node):
    """reduce(x.T, axes) -> reduce(x, the axes of x they are).T: the reduction reads x in memory order."""
    (var,) = node.inputs
    order = _permutation(var)
    if order is None or node.op.axis is None:
        return None
    axes = sorted(order[a] for a in node.op.axis)
    kept = [order[a] for a in range(var.ndim) if a not in node.op.axis]  # x's axes the result keeps, in its order
    reduced = node.op.clone(axis=tuple(axes)).make_node(var.owner.inputs[0]).outputs[0]
    return [_shuffled(reduced, [sorted(kept).index(a) for a in kept])]


@node_rewriter([DimShuffle])
def transpose_of_transpose(fgraph, node):
    """(x.T).T -> x: two DimShuffles in a row as one, or none."""
    (var,) = node.inputs
    if var.owner is None or not isinstance(var.owner.op, DimShuffle):
        return None
    return [_shuffled(var, node.op.new_order)]


def _register() -> None:
    from pytensor.compile import optdb

    # after `HostTanh` replaces tanh (48.5), before elementwise fusion (49); PyTensor's own DimShuffle lifting,
    # which moves transpositions the other way, runs before (canonicalize, specialize)
    # inputs first, so a transposition moved past one step meets the next
    rewrite = in2out(elemwise_of_transpose, reduce_of_transpose, transpose_of_transpose)
    optdb.register("symdl_keep_layout", rewrite, HOST_TAG, position=48.6)


_register()
