"""The operator registry: one entry per operator with everything about it.

An entry holds the arity, the type and shape rule, a NumPy reference (used by
constant folding and by the tests against the PyTensor lowering) and how it prints.
Only generic tensor operations live here, never a model.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symdl.ir.opdef import OPS, Attr, OpDef, TypeRule, register
from symdl.ir.types import (
    NUMPY_DTYPE,
    TensorType,
    broadcast_shapes,
    normalize_axis,
    promote,
    scalar,
    to_float,
)

__all__ = ["OPS", "OpDef", "Attr", "register"]


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


def _xlogx(x):
    return x * np.log(np.where(x == 0, 1, x))


def elementwise(name: str, arity: int, rule: TypeRule, reference, symbol: str | None = None, builtin: bool = True, **facts) -> None:
    """An elementwise operator: its inputs broadcast and are promoted to one dtype."""
    names = ("x",) if arity == 1 else ("a", "b")
    surface = (name,) if builtin else ()
    facts.setdefault("doc", symbol.format(*names) if symbol else "elementwise")
    register(
        name, arity, rule, reference, "elementwise", surface=surface, inputs=names, promoted=tuple(range(arity)), symbol=symbol, **facts
    )


_UNARY = "elementwise, float result"
for _name, _f in {"tanh": np.tanh, "sigmoid": _stable_sigmoid, "softplus": _softplus, "exp": np.exp, "log": np.log}.items():
    elementwise(_name, 1, _float_result, _f, doc=_UNARY)
for _name, _f in {"log1p": np.log1p, "expm1": np.expm1, "sqrt": np.sqrt}.items():
    elementwise(_name, 1, _float_result, _f, doc=_UNARY)
elementwise("xlogx", 1, _float_result, _xlogx, builtin=False, doc="x * log(x), 0 at x = 0")
elementwise("neg", 1, _same_result, np.negative, "-{0}", builtin=False)
for _name, _f in {"abs": np.abs, "relu": lambda x: np.maximum(x, 0), "sign": np.sign, "sqr": np.square}.items():
    elementwise(_name, 1, _same_result, _f, doc="elementwise, the input's dtype")
for _name, _f in {"round": np.round, "floor": np.floor, "ceil": np.ceil}.items():
    elementwise(_name, 1, _same_result, _f, doc="elementwise rounding (round: half to even)")

_ARITHMETIC = {"add": (np.add, "{0} + {1}"), "sub": (np.subtract, "{0} - {1}"), "mul": (np.multiply, "{0}*{1}")}
_ARITHMETIC |= {"floordiv": (np.floor_divide, "{0} // {1}"), "mod": (np.mod, "{0} % {1}"), "pow": (np.power, "{0}**{1}")}
for _name, (_f, _symbol) in _ARITHMETIC.items():
    elementwise(_name, 2, _same_result, _f, _symbol, builtin=False, commutative=_name in ("add", "mul"))
elementwise("div", 2, _float_result, np.true_divide, "{0} / {1}", builtin=False)
elementwise("maximum", 2, _same_result, np.maximum, commutative=True, doc="elementwise max")
elementwise("minimum", 2, _same_result, np.minimum, commutative=True, doc="elementwise min")
_COMPARE = {"eq": (np.equal, "=="), "ne": (np.not_equal, "!="), "lt": (np.less, "<"), "le": (np.less_equal, "<=")}
_COMPARE |= {"gt": (np.greater, ">"), "ge": (np.greater_equal, ">="), "and_": (np.logical_and, "and"), "or_": (np.logical_or, "or")}
for _name, (_f, _symbol) in _COMPARE.items():
    elementwise(_name, 2, _bool_result, _f, f"{{0}} {_symbol} {{1}}", builtin=False, commutative=_name in ("eq", "ne", "and_", "or_"))
elementwise("not_", 1, _bool_result, np.logical_not, "not {0}", builtin=False)


def _switch_rule(types, attrs):
    cond, a, b = types
    return TensorType(promote(a.dtype, b.dtype), broadcast_shapes(cond.shape, a.shape, b.shape))


register(
    "switch",
    3,
    _switch_rule,
    lambda c, a, b: np.where(c, a, b),
    "elementwise",
    doc="elementwise choice",
    surface=("switch", "where"),
    inputs=("cond", "then", "orelse"),
    promoted=(1, 2),
)
register(
    "clip",
    3,
    _elementwise(lambda ds: ds[0]),
    lambda x, lo, hi: np.clip(x, lo, hi),
    "elementwise",
    doc="elementwise clamp",
    surface="clip",
    inputs=("x", "low", "high"),
    promoted=(0, 1, 2),
)


def _cast_rule(types, attrs):
    return types[0].with_dtype(attrs["dtype"])


register(
    "cast",
    1,
    _cast_rule,
    lambda x, dtype: np.asarray(x).astype(_np(dtype)),
    "elementwise",
    doc="convert to dtype",
    surface="cast",
    inputs=("x",),
    attrs=(Attr("dtype", "dtype"),),
)


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


def _logsumexp_ref(x, axis=None, keepdims=False):
    x = np.asarray(x)
    m = np.max(x, axis=axis, keepdims=True)
    m = np.where(np.isfinite(m), m, 0)
    with np.errstate(divide="ignore"):  # a row of -inf gives -inf, as it should
        out = np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True)) + m
    return out if keepdims else np.squeeze(out, axis=axis if axis is not None else tuple(range(x.ndim)))


def reduction(name: str, dtype_of: Callable[[str], str], reference, doc: str) -> None:
    """A reduction over all axes or `axis` (an int or a list), keeping them as 1 with `keepdims`."""
    attrs = (Attr("axis", "axes", None), Attr("keepdims", "bool", False))
    register(name, 1, _reduce_rule(dtype_of), reference, "reduce", doc=doc, surface=name, inputs=("x",), attrs=attrs)


reduction("sum", lambda d: "i64" if d in ("bool", "u8", "i32") else d, _reduce_ref(np.sum), "sum (integers sum to i64)")
reduction("prod", lambda d: d, _reduce_ref(np.prod), "product")
reduction("mean", to_float, _reduce_ref(np.mean), "mean (always float)")
reduction("max", lambda d: d, _reduce_ref(np.max), "maximum")
reduction("min", lambda d: d, _reduce_ref(np.min), "minimum")
reduction("logsumexp", to_float, _logsumexp_ref, "log(sum(exp(x))), shifted by the max")
reduction("var", to_float, _reduce_ref(np.var), "population variance (ddof 0)")
reduction("std", to_float, _reduce_ref(np.std), "population standard deviation (ddof 0)")


def _argmax_rule(types, attrs):
    (t,) = types
    axis = attrs.get("axis")
    if axis is None:
        return scalar("i64")
    a = normalize_axis(axis, t.ndim)
    return TensorType("i64", tuple(d for i, d in enumerate(t.shape) if i != a))


register(
    "argmax",
    1,
    _argmax_rule,
    lambda x, axis=None: np.argmax(x, axis=axis),
    "reduce",
    doc="index of the maximum (i64); flat when no axis",
    surface="argmax",
    inputs=("x",),
    attrs=(Attr("axis", "int?", None),),
)


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


for _name, _ref in (("softmax", _softmax_ref), ("log_softmax", _log_softmax_ref)):
    register(_name, 1, _softmax_rule, _ref, doc="along axis", surface=_name, inputs=("x",), attrs=(Attr("axis", "int", -1),))


from symdl.ir import ops_flow, ops_tensor  # noqa: E402, F401 - register the tensor, draw and loop operators
