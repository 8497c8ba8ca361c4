"""Registry entries of the leaves, gradients, random draws and loops (see `opdef.py`).

The program lowering handles these itself (they thread the random generator or need the
whole graph); their lowering lines are the draw tables of `lowering/table.py`.
"""

from __future__ import annotations

from collections.abc import Callable

from symdl.ir.opdef import Attr, TypeRule, register
from symdl.ir.types import TensorType, TypeRuleError, broadcast_shapes, promote, to_float

# ---- leaves and gradients -------------------------------------------------------------


def _leaf_rule(types, attrs):
    return attrs["type"]


_LEAVES = {
    "input": "a tensor fed by each call",
    "param": "a learned tensor",
    "state": "a tensor kept between calls",
    "const": "a scalar constant",
    "arg": "a scan step's argument",
}
for _leaf, _doc in _LEAVES.items():
    register(_leaf, 0, _leaf_rule, None, "leaf", doc=_doc)


def _grad_rule(types, attrs):
    cost, wrt = types[0], types[1]
    if cost.shape != () or not cost.is_float:
        raise TypeRuleError("gradient", f"the cost must be a float scalar, got {cost}", "E402")
    return wrt


register("grad", 2, _grad_rule, None, "grad", doc="d cost / d wrt", inputs=("cost", "wrt"))


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
_DRAW = (Attr("shape", "shape?", None), Attr("stream", "stream"))


def draw(name: str, arity: int, rule: TypeRule, doc: str, inputs: tuple, ahead: str | None = None, attrs: tuple = ()) -> None:
    """A random draw: float parameters (a number becomes f32), an optional shape, its own stream."""
    register(name, arity, rule, None, "random", doc=doc, surface=name, inputs=inputs, attrs=attrs + _DRAW, number_dtype="f32", ahead=ahead)


draw("uniform", 2, _draw_float, "uniform on [low, high)", (("low", 0.0), ("high", 1.0)), "uniform")
draw("normal", 2, _draw_float, "normal with mean and std", (("mean", 0.0), ("std", 1.0)), "normal")
draw("bernoulli", 1, _draw_float, "1 with probability p, else 0, in p's float dtype", ("p",), "uniform")
draw("binomial", 1, _draw_float, "successes of n trials of probability p", ("p",), attrs=(Attr("n", "int", 1),))


def _categorical_rule(types, attrs):
    (p,) = types
    if p.ndim < 1 or not p.is_float:
        raise TypeRuleError("categorical", f"needs float probabilities over a last axis of classes, got {p}", "E402")
    return TensorType("i64", _draw_shape(p.shape[:-1], attrs, "probabilities of batch shape"))


draw("categorical", 1, _categorical_rule, "a class index (i64) drawn with the probabilities of p's last axis", ("p",))


# ---- scan ---------------------------------------------------------------------------------
# `scan` inputs: sequences, initial carried values, closure (outer nodes the step reads),
# then optionally an integer scalar step count; attrs `body` (a ScanBody) and `steps`.
# `scan_out` {k, type} picks output k's trace: its values at every step, stacked.

SCAN_TYPE = TensorType("scan", ())


def _scan_rule(types, attrs):
    return SCAN_TYPE


register(
    "scan", (0, None), _scan_rule, None, "scan", doc="a loop over steps or sequences; its outputs are scan_out nodes", hidden=("body",)
)
register("scan_out", 1, lambda types, attrs: attrs["type"], None, "scan", doc="the trace of one scan output")
