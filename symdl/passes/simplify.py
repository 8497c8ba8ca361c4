"""Algebraic identities, constant folding and shape-aware removal of no-op shape operations."""

from __future__ import annotations

import numpy as np

from symdl.ir import build
from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE
from symdl.passes.engine import Match
from symdl.passes.registry import rule

rule("mul_one_to_x", "simplify", ("mul", "x", 1), "x")
rule("div_one_to_x", "simplify", ("div", "x", 1), "x")
rule("add_zero_to_x", "simplify", ("add", "x", 0), "x")
rule("sub_zero_to_x", "simplify", ("sub", "x", 0), "x")
rule("zero_sub_to_neg", "simplify", ("sub", 0, "x"), ("neg", "x"))
rule("pow_one_to_x", "simplify", ("pow", "x", 1), "x")


@rule("sub_self_to_zeros", "simplify", ("sub", "x", "x"))
def sub_self(m: Match):
    """x - x -> zeros (when the shape is known)"""
    return _zeros_like(m.term)


def _zeros_like(node):
    t = node.type
    if None in t.shape:
        return None
    return build.const(0, t.dtype, node.span) if t.shape == () else build.make("zeros", (), {"shape": t.shape, "dtype": t.dtype}, node.span)


@rule("transpose_transpose_to_x", "simplify", ("transpose", ("transpose", "x")))
def transpose_twice(m: Match):
    """transpose(transpose(x)) -> x, when the permutations cancel"""
    outer, inner = m.term, m.term.inputs[0]
    n = m.x.type.ndim
    p_in = inner.attr("perm") or tuple(reversed(range(n)))
    p_out = outer.attr("perm") or tuple(reversed(range(n)))
    return m.x if tuple(p_in[p] for p in p_out) == tuple(range(n)) else None


@rule("reshape_to_same_shape_to_x", "simplify", ("reshape", "x"))
def reshape_same(m: Match):
    """reshape(x, shape) -> x, when x already has that static shape"""
    return m.x if None not in m.x.type.shape and m.x.type.shape == m.term.type.shape else None


@rule("flatten_flat_to_x", "simplify", ("flatten", "x"))
def flatten_flat(m: Match):
    """flatten(x, ndim) -> x, when x already has ndim dimensions"""
    return m.x if m.x.type.shape == m.term.type.shape else None


@rule("cast_to_own_dtype_to_x", "simplify", ("cast", "x"))
def cast_same(m: Match):
    """cast(x, dtype) -> x, when x already has that dtype"""
    return m.x if m.x.type == m.term.type else None


@rule("fold_constants", "simplify", None)
def fold(m: Match):
    """op(c1, ..., cn) -> c, for scalar constants c1..cn and an op with a NumPy reference"""
    node = m.term
    opdef = OPS[node.op]
    if node.is_leaf or not node.inputs or opdef.reference is None or opdef.kind == "grad":
        return None
    if not all(i.op == "const" for i in node.inputs) or node.type.shape != ():
        return None
    values = [np.asarray(i.attr("value"), NUMPY_DTYPE[i.type.dtype]) for i in node.inputs]
    with np.errstate(all="ignore"):
        result = np.asarray(opdef.reference(*values, **dict(node.attrs))).astype(NUMPY_DTYPE[node.type.dtype])
    return build.const(result.item(), node.type.dtype, node.span)


@rule("mul_zero_to_zeros", "simplify", ("mul", "x", 0))
def mul_zero(m: Match):
    """x * 0 -> zeros (as Theano's local_mul_zero: a term switched off by a hyper costs nothing)"""
    return _zeros_like(m.term)
