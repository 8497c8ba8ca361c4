"""Built-ins derived from the operator registry: one generic call for every operator with a surface name.

An operator's record says its signature (tensor inputs, then attributes with their kinds and
defaults); here each argument is read by its kind, numbers become constants (those among the
promoted inputs take the tensors' dtype), and an elementwise call on numbers alone folds to a
number through the operator's NumPy reference.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.elaborate.binding import REQUIRED
from symdl.elaborate.values import kind_of
from symdl.ir import opdef
from symdl.ir.nodes import Node
from symdl.ir.opdef import OpDef
from symdl.ir.types import FLOATS, TensorType, promote


def signature(op: OpDef) -> tuple[tuple[str, object], ...]:
    """The built-in's parameters, with the binder's marker for a required one."""
    return tuple((name, REQUIRED if default is opdef.REQUIRED else default) for name, default in op.signature())


def impl(op: OpDef) -> Callable:
    """The built-in's implementation: `impl(call, **bound)` makes one node of `op`."""

    def call_op(c, **values: object) -> object:
        inputs = _input_values(op, values)
        if op.kind == "elementwise" and not op.attrs and all(_is_number(v) for v in inputs):
            return _fold(op, inputs)
        attrs = {a.name: _attr(c, a, values) for a in op.attrs}
        return c.make(op.name, _tensors(c, op, inputs), attrs)

    return call_op


def _input_values(op: OpDef, values: dict) -> list[object]:
    if op.variadic:  # one parameter collects the inputs: a list, or several positional arguments
        items = values[op.inputs[0][0]]
        return list(items) if isinstance(items, tuple) else [items]
    return [values[name] for name, _ in op.inputs]


def _tensors(c, op: OpDef, inputs: list[object]) -> list[Node]:
    names = [name for name, _ in op.inputs]
    arg = [names[min(k, len(names) - 1)] for k in range(len(inputs))]
    promoted = set(range(len(inputs))) if op.variadic else set(op.promoted)
    dtypes = [v.type.dtype for k, v in enumerate(inputs) if k in promoted and isinstance(v, Node)]
    common = promote(*dtypes) if dtypes else None
    out = []
    for k, value in enumerate(inputs):
        dtype = None
        if _is_number(value):
            dtype = weak_dtype(value, common) if k in promoted and common else op.number_dtype
        out.append(c.tensor(value, arg[k], dtype))
    return out


def weak_dtype(number: object, tensor_dtype: str) -> str:
    """A literal takes the tensors' dtype, unless it is fractional and they are integral."""
    return "f32" if isinstance(number, float) and tensor_dtype not in FLOATS else tensor_dtype


def _fold(op: OpDef, inputs: list[object]) -> object:
    """An elementwise operator on compile-time numbers: a number, of the type its rule gives."""
    types = tuple(TensorType(_number_dtype(v), ()) for v in inputs)
    result_dtype = op.type_rule(types, {}).dtype
    with np.errstate(all="ignore"):
        value = np.asarray(op.reference(*(np.float64(v) if op.arity == (1, 1) else np.asarray(v) for v in inputs))).item()
    if result_dtype in FLOATS:
        return float(value)
    return bool(value) if result_dtype == "bool" else int(value)


def _number_dtype(value: object) -> str:
    return "bool" if isinstance(value, bool) else "i64" if isinstance(value, int) else "f32"


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, bool))


# ---- attributes, read by their kind ------------------------------------------------------------


def _attr(c, attr: opdef.Attr, values: dict) -> object:
    if attr.kind == "stream":
        return c.elab.next_stream()
    value = READERS[attr.kind](c, values[attr.name], attr.name)
    if attr.least is not None and min((value,) if isinstance(value, int) else value) < attr.least:
        fail("E307", c.span(attr.name), what=f"'{attr.name}'", least=attr.least, got=value if isinstance(value, int) else list(value))
    return value


def _bool(c, value: object, arg: str) -> bool:
    if not isinstance(value, bool):
        fail("E306", c.span(arg), what=f"'{arg}'", got=kind_of(value))
    return value


def _pair(c, value: object, arg: str) -> tuple[int, int]:
    items = c.ints(value, arg)
    if len(items) == 1:
        items = items * 2
    if len(items) != 2:
        fail("E312", c.span(arg), what=f"'{arg}'", got=len(items))
    return items


def _padding(c, value: object, arg: str) -> tuple[int, int] | str:
    if value == "same":
        return "same"
    if isinstance(value, str):
        fail("E313", c.span(arg), what=f"'{arg}'", got=f'"{value}"')
    return _pair(c, value, arg)


def _string(c, value: object, arg: str) -> str:
    if not isinstance(value, str):
        fail("E305", c.span(arg), what=f"'{arg}'", got=kind_of(value))
    return value


READERS: dict[str, Callable] = {
    "int": lambda c, v, a: c.integer(v, a),
    "int?": lambda c, v, a: None if v is None else c.integer(v, a),
    "ints": lambda c, v, a: c.ints(v, a),
    "axes": lambda c, v, a: None if v is None else c.ints(v, a),
    "shape?": lambda c, v, a: None if v is None else c.ints(v, a),
    "bool": _bool,
    "dtype": lambda c, v, a: c.dtype(v, a),
    "pair": _pair,
    "pair?": lambda c, v, a: None if v is None else _pair(c, v, a),
    "padding": _padding,
    "str": _string,
}
