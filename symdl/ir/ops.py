"""The operator registry: one entry per operator with everything about it.

An entry holds the arity, the type and shape rule, a NumPy reference (used by
constant folding and by the tests against the PyTensor lowering) and how it prints.
Only generic tensor operations live here, never a model.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symdl.ir.types import (
    NUMPY_DTYPE,
    TensorType,
    TypeRuleError,
    broadcast_shapes,
    normalize_axis,
    promote,
    scalar,
    to_float,
)
from symdl.ir.windows import conv2d_ref, conv2d_rule, pool_ref, pool_rule

TypeRule = Callable[[tuple[TensorType, ...], dict], TensorType]


@dataclass(frozen=True, slots=True)
class OpDef:
    name: str
    arity: tuple[int, int | None]  # (min, max); max None is variadic
    type_rule: TypeRule
    reference: Callable[..., np.ndarray] | None
    kind: str = "tensor"  # elementwise | reduce | tensor | leaf | grad
    doc: str = ""


OPS: dict[str, OpDef] = {}


def register(name: str, arity: int | tuple[int, int | None], rule: TypeRule, reference=None, kind: str = "tensor", doc: str = "") -> None:
    OPS[name] = OpDef(name, arity if isinstance(arity, tuple) else (arity, arity), rule, reference, kind, doc)


def _np(dtype: str):
    return np.dtype(NUMPY_DTYPE[dtype])


# ---- elementwise ----------------------------------------------------------------


def _elementwise(result: Callable[[list[str]], str]) -> TypeRule:
    def rule(types: tuple[TensorType, ...], attrs: dict) -> TensorType:
        return TensorType(result([t.dtype for t in types]), broadcast_shapes(*(t.shape for t in types)))

    return rule


_float_result = _elementwise(lambda ds: to_float(promote(*ds)))
_same_result = _elementwise(lambda ds: promote(*ds))
_bool_result = _elementwise(lambda ds: "bool")


def _stable_sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _softplus(x):
    return np.logaddexp(0, x)


UNARY_FLOAT = {
    "tanh": np.tanh,
    "sigmoid": _stable_sigmoid,
    "softplus": _softplus,
    "exp": np.exp,
    "log": np.log,
    "log1p": np.log1p,
    "expm1": np.expm1,
    "sqrt": np.sqrt,
}
UNARY_SAME = {"neg": np.negative, "abs": np.abs, "relu": lambda x: np.maximum(x, 0), "sign": np.sign, "sqr": np.square}
UNARY_ROUND = {"round": np.round, "floor": np.floor, "ceil": np.ceil}
BINARY_SAME = {
    "add": np.add,
    "sub": np.subtract,
    "mul": np.multiply,
    "floordiv": np.floor_divide,
    "mod": np.mod,
    "maximum": np.maximum,
    "minimum": np.minimum,
    "pow": np.power,
}
BINARY_FLOAT = {"div": np.true_divide}
COMPARE = {"eq": np.equal, "ne": np.not_equal, "lt": np.less, "le": np.less_equal, "gt": np.greater, "ge": np.greater_equal}
LOGICAL = {"and_": np.logical_and, "or_": np.logical_or}

for _name, _f in UNARY_FLOAT.items():
    register(_name, 1, _float_result, _f, "elementwise")
for _name, _f in {**UNARY_SAME, **UNARY_ROUND}.items():
    register(_name, 1, _same_result, _f, "elementwise")
for _name, _f in BINARY_SAME.items():
    register(_name, 2, _same_result, _f, "elementwise")
for _name, _f in BINARY_FLOAT.items():
    register(_name, 2, _float_result, _f, "elementwise")
for _name, _f in {**COMPARE, **LOGICAL}.items():
    register(_name, 2, _bool_result, _f, "elementwise")
register("not_", 1, _bool_result, np.logical_not, "elementwise")


def _xlogx(x):
    return x * np.log(np.where(x == 0, 1, x))


register("xlogx", 1, _float_result, _xlogx, "elementwise", "x * log(x), 0 at x = 0")


def _switch_rule(types, attrs):
    cond, a, b = types
    return TensorType(promote(a.dtype, b.dtype), broadcast_shapes(cond.shape, a.shape, b.shape))


register("switch", 3, _switch_rule, lambda c, a, b: np.where(c, a, b), "elementwise")
register("clip", 3, _elementwise(lambda ds: ds[0]), lambda x, lo, hi: np.clip(x, lo, hi), "elementwise")


def _cast_rule(types, attrs):
    return types[0].with_dtype(attrs["dtype"])


register("cast", 1, _cast_rule, lambda x, dtype: np.asarray(x).astype(_np(dtype)), "elementwise")


# ---- reductions -----------------------------------------------------------------


def _axes(attrs: dict, ndim: int) -> tuple[int, ...]:
    axis = attrs.get("axis")
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, tuple) else (axis,)
    return tuple(sorted({normalize_axis(a, ndim) for a in axes}))


def _reduce_rule(dtype_of: Callable[[str], str]) -> TypeRule:
    def rule(types, attrs):
        (t,) = types
        axes = _axes(attrs, t.ndim)
        keep = attrs.get("keepdims", False)
        shape = tuple((1 if keep else None) if i in axes else d for i, d in enumerate(t.shape))
        shape = tuple(d for i, d in enumerate(shape) if keep or i not in axes)
        return TensorType(dtype_of(t.dtype), shape)

    return rule


def _reduce_ref(f):
    def ref(x, axis=None, keepdims=False):
        return f(x, axis=axis, keepdims=keepdims)

    return ref


register("sum", 1, _reduce_rule(lambda d: "i64" if d in ("bool", "u8", "i32") else d), _reduce_ref(np.sum), "reduce")
register("prod", 1, _reduce_rule(lambda d: d), _reduce_ref(np.prod), "reduce")
register("mean", 1, _reduce_rule(to_float), _reduce_ref(np.mean), "reduce")
register("max", 1, _reduce_rule(lambda d: d), _reduce_ref(np.max), "reduce")
register("min", 1, _reduce_rule(lambda d: d), _reduce_ref(np.min), "reduce")


def _logsumexp_ref(x, axis=None, keepdims=False):
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # a row of -inf gives -inf, as it should
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


register("logsumexp", 1, _reduce_rule(to_float), _logsumexp_ref, "reduce", "log(sum(exp(x))), shifted by the max")
register("var", 1, _reduce_rule(to_float), _reduce_ref(np.var), "reduce", "population variance (ddof 0)")
register("std", 1, _reduce_rule(to_float), _reduce_ref(np.std), "reduce", "population standard deviation (ddof 0)")


def _argmax_rule(types, attrs):
    (t,) = types
    axis = attrs.get("axis")
    if axis is None:
        return scalar("i64")
    a = normalize_axis(axis, t.ndim)
    return TensorType("i64", tuple(d for i, d in enumerate(t.shape) if i != a))


register("argmax", 1, _argmax_rule, lambda x, axis=None: np.argmax(x, axis=axis), "reduce")


def _softmax_rule(types, attrs):
    (t,) = types
    normalize_axis(attrs.get("axis", -1), t.ndim)
    return t.with_dtype(to_float(t.dtype))


def _softmax_ref(x, axis=-1):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _log_softmax_ref(x, axis=-1):
    s = x - np.max(x, axis=axis, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=axis, keepdims=True))


register("softmax", 1, _softmax_rule, _softmax_ref, "tensor")
register("log_softmax", 1, _softmax_rule, _log_softmax_ref, "tensor")


# ---- linear algebra and shape -----------------------------------------------------


def _matmul_rule(types, attrs):
    a, b = types
    if a.ndim not in (1, 2) or b.ndim not in (1, 2):
        raise TypeRuleError("matrix product", "both sides must be vectors or matrices", "E402")
    k_a = a.shape[-1]
    k_b = b.shape[0]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise TypeRuleError("matrix product", f"inner dimensions differ: {k_a} vs {k_b}")
    shape = a.shape[:-1] + b.shape[1:]
    return TensorType(promote(a.dtype, b.dtype), shape)


register("matmul", 2, _matmul_rule, np.matmul)


def _inv_rule(types, attrs):
    (t,) = types
    if t.ndim != 2 or (None not in t.shape and t.shape[0] != t.shape[1]):
        raise TypeRuleError("matrix inverse", f"needs a square matrix, got {t}", "E402")
    return t.with_dtype(to_float(t.dtype))


register("inv", 1, _inv_rule, np.linalg.inv, "tensor", "the inverse of a square matrix")


def _one_hot_rule(types, attrs):
    (t,) = types
    if t.dtype not in ("u8", "i32", "i64"):
        raise TypeRuleError("one_hot", f"needs integer labels, got {t}", "E401")
    n = attrs["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TypeRuleError("one_hot", f"the number of classes must be a positive integer, got {n!r}", "E402")
    return TensorType("f32", (*t.shape, n))


def _one_hot_ref(y, n):
    """A label outside 0 .. n-1 (negative, or too large) gives a row of zeros."""
    return (np.asarray(y)[..., None] == np.arange(n)).astype(np.float32)


register("one_hot", 1, _one_hot_rule, _one_hot_ref, "tensor", "one_hot(y) {n}: int labels to f32[..., n]")


def _transpose_rule(types, attrs):
    (t,) = types
    perm = attrs.get("perm") or tuple(reversed(range(t.ndim)))
    if sorted(perm) != list(range(t.ndim)):
        raise TypeRuleError("transpose", f"permutation {perm} does not fit a {t.ndim}-d tensor", "E402")
    return TensorType(t.dtype, tuple(t.shape[p] for p in perm))


register("transpose", 1, _transpose_rule, lambda x, perm=None: np.transpose(x, perm))


def _reshape_rule(types, attrs):
    (t,) = types
    shape = tuple(attrs["shape"])
    if shape.count(-1) > 1:
        raise TypeRuleError("reshape", "at most one dimension may be -1", "E402")
    known = [d for d in t.shape]
    if None in known:
        return TensorType(t.dtype, tuple(None if d == -1 else d for d in shape))
    total = int(np.prod(known)) if known else 1
    rest = int(np.prod([d for d in shape if d != -1])) if shape else 1
    if -1 in shape:
        if rest == 0 or total % rest:
            raise TypeRuleError("reshape", f"cannot reshape {t} into {shape}")
        shape = tuple(total // rest if d == -1 else d for d in shape)
    elif rest != total:
        raise TypeRuleError("reshape", f"cannot reshape {t} ({total} elements) into {shape} ({rest} elements)")
    return TensorType(t.dtype, shape)


register("reshape", 1, _reshape_rule, lambda x, shape: np.reshape(x, shape))


def _flatten_rule(types, attrs):
    (t,) = types
    ndim = attrs.get("ndim", 1)
    if not 1 <= ndim <= max(t.ndim, 1):
        raise TypeRuleError("flatten", f"ndim {ndim} does not fit a {t.ndim}-d tensor", "E402")
    rest = t.shape[ndim - 1 :]
    flat = None if None in rest else int(np.prod(rest)) if rest else 1
    return TensorType(t.dtype, t.shape[: ndim - 1] + (flat,))


def _flatten_ref(x, ndim=1):
    return np.reshape(x, x.shape[: ndim - 1] + (-1,))


register("flatten", 1, _flatten_rule, _flatten_ref)


def _concatenate_rule(types, attrs):
    first = types[0]
    axis = normalize_axis(attrs.get("axis", 0), first.ndim)
    for t in types[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis and None not in (a, b)):
            raise TypeRuleError("concatenate", f"{first} and {t} differ outside axis {axis}")
    sizes = [t.shape[axis] for t in types]
    total = None if None in sizes else sum(sizes)
    shape = tuple(total if i == axis else d for i, d in enumerate(first.shape))
    return TensorType(promote(*(t.dtype for t in types)), shape)


register("concatenate", (1, None), _concatenate_rule, lambda *xs, axis=0: np.concatenate(xs, axis=axis))


def _fill_rule(types, attrs):
    return TensorType(attrs["dtype"], tuple(attrs["shape"]))


register("zeros", 0, _fill_rule, lambda shape, dtype: np.zeros(shape, _np(dtype)))
register("ones", 0, _fill_rule, lambda shape, dtype: np.ones(shape, _np(dtype)))
register("arange", 0, lambda types, attrs: TensorType("i64", (attrs["n"],)), lambda n: np.arange(n, dtype=np.int64))


# ---- convolution and pooling (Theano's conv2d and pool_2d, NCHW) -------------------------------


register("conv2d", 2, conv2d_rule, conv2d_ref, "tensor", "valid 2-d convolution of [b, c, h, w] by [out, c, kh, kw]")
register("max_pool2d", 1, pool_rule, pool_ref, "tensor", "max over non-overlapping size[0] x size[1] windows {size, ignore_border}")


# ---- indexing -------------------------------------------------------------------
# `index` takes the indexed tensor and its tensor indices as inputs; attr `spec`
# lists one entry per subscript: ("int", k) | ("slice", lo, hi, step) | ("tensor", j),
# where j counts the tensor indices in order.


def _slice_len(dim: int | None, lo, hi, step) -> int | None:
    if dim is None:
        return None if (lo is None or hi is None or lo < 0 or hi < 0) else len(range(lo, hi, step or 1))
    return len(range(dim)[slice(lo, hi, step)])


def _index_rule(types, attrs):
    base, indices = types[0], types[1:]
    spec = attrs["spec"]
    if len(spec) > base.ndim:
        raise TypeRuleError("indexing", f"{len(spec)} subscripts for a {base.ndim}-d tensor", "E409")
    out: list[int | None] = []
    advanced: list[tuple[int, TensorType]] = []
    for axis, entry in enumerate(spec):
        dim = base.shape[axis]
        if entry[0] == "int":
            if dim is not None and not -dim <= entry[1] < dim:
                raise TypeRuleError("indexing", f"index {entry[1]} is out of range for dimension {axis} of size {dim}", "E409")
        elif entry[0] == "slice":
            out.append(_slice_len(dim, *entry[1:]))
        else:
            index_type = indices[entry[1]]
            if index_type.is_float:
                raise TypeRuleError("indexing", f"an index must be an integer tensor, got {index_type}", "E401")
            advanced.append((len(out), index_type))
            out.append(_ADVANCED)  # placeholder where the advanced dims go
    out += list(base.shape[len(spec) :])
    if advanced:
        shape = broadcast_shapes(*(t.shape for _, t in advanced))
        positions = [i for i, d in enumerate(out) if d is _ADVANCED]
        adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
        rest = [d for d in out if d is not _ADVANCED]
        at = positions[0] if adjacent else 0
        out = rest[:at] + list(shape) + rest[at:]
    return TensorType(base.dtype, tuple(out))


_ADVANCED = object()


def _index_ref(x, *indices, spec):
    key = []
    for entry in spec:
        key.append(entry[1] if entry[0] == "int" else slice(*entry[1:]) if entry[0] == "slice" else indices[entry[1]])
    return x[tuple(key)]


register("index", (1, None), _index_rule, _index_ref)


# ---- leaves and gradients -------------------------------------------------------------


def _leaf_rule(types, attrs):
    return attrs["type"]


for _leaf in ("input", "param", "state", "const", "arg"):
    register(_leaf, 0, _leaf_rule, None, "leaf")


def _grad_rule(types, attrs):
    cost, wrt = types[0], types[1]
    if cost.shape != () or not cost.is_float:
        raise TypeRuleError("gradient", f"the cost must be a float scalar, got {cost}", "E402")
    return wrt


register("grad", 2, _grad_rule, None, "grad", "d cost / d wrt")
register(
    "stop_gradient", 1, lambda types, attrs: types[0], lambda x: x, "tensor", "the identity, whose gradient is zero (grad's constant=)"
)


# ---- random draws ---------------------------------------------------------------------
# A draw's attr `stream` is unique in the program, so no pass ever merges two draws;
# `shape` (optional) is the draw's shape, to which the parameters must broadcast.


def _draw_rule(dtype_of: Callable[[tuple[TensorType, ...]], str]) -> TypeRule:
    def rule(types, attrs):
        shape = _draw_shape(broadcast_shapes(*(t.shape for t in types)), attrs, "parameters of shape")
        return TensorType(dtype_of(types), shape)

    return rule


def _draw_shape(shape: tuple, attrs: dict, what: str) -> tuple:
    """The draw's shape: its `shape` attr, which the parameters' `shape` must broadcast to, else theirs."""
    wanted = attrs.get("shape")
    if wanted is None:
        return shape
    if broadcast_shapes(shape, tuple(wanted)) != tuple(wanted):
        raise TypeRuleError("random draw", f"{what} {shape} do not fit the draw's shape {tuple(wanted)}", "E404")
    return tuple(wanted)


_draw_float = _draw_rule(lambda types: to_float(promote(*(t.dtype for t in types))))
register("uniform", 2, _draw_float, None, "random", "uniform(low, high) {shape, stream}")
register("normal", 2, _draw_float, None, "random", "normal(mean, std) {shape, stream}")
register("bernoulli", 1, _draw_float, None, "random", "1 with probability p, else 0, in p's float dtype")
register("binomial", 1, _draw_float, None, "random", "binomial(p) {n, shape, stream}: successes of n trials")


def _categorical_rule(types, attrs):
    (p,) = types
    if p.ndim < 1 or not p.is_float:
        raise TypeRuleError("categorical", f"needs float probabilities over a last axis of classes, got {p}", "E402")
    return TensorType("i64", _draw_shape(p.shape[:-1], attrs, "probabilities of batch shape"))


register(
    "categorical",
    1,
    _categorical_rule,
    None,
    "random",
    "categorical(p) {shape, stream}: a class index drawn with the probabilities of p's last axis",
)


# ---- scan ---------------------------------------------------------------------------------
# `scan` inputs: sequences, initial carried values, closure (outer nodes the step reads),
# then optionally an integer scalar step count; attrs `body` (a ScanBody) and `steps`.
# `scan_out` {k, type} picks output k's trace: its values at every step, stacked.

SCAN_TYPE = TensorType("scan", ())


def _scan_rule(types, attrs):
    return SCAN_TYPE


register("scan", (0, None), _scan_rule, None, "scan", "a loop over steps or sequences; its outputs are scan_out nodes")
register("scan_out", 1, lambda types, attrs: attrs["type"], None, "scan", "the trace of one scan output")
