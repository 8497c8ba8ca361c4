"""A float64 copy of a program: every f32 becomes f64 (leaves, constants, `cast` and fill attrs).

Non-leaf nodes are rebuilt through `make`, so each operator's type rule recomputes the
result type from the widened inputs instead of this module guessing it.
"""

from __future__ import annotations

from dataclasses import replace

from symdl.ir.build import make
from symdl.ir.nodes import Node, Program, rebuild
from symdl.ir.types import TensorType

_WIDER = {"f32": "f64"}


def widen(type_: TensorType) -> TensorType:
    """`type_` with f32 replaced by f64; any other dtype unchanged."""
    return type_.with_dtype(_WIDER.get(type_.dtype, type_.dtype))


def to_float64(program: Program) -> Program:
    """The same program computing in float64 wherever it computed in float32."""
    return rebuild(program, _retype_node)


def _retype_node(node: Node) -> Node:
    attrs = {k: _retype_attr(k, v) for k, v in node.attrs}
    if node.is_leaf:
        return replace(node, attrs=tuple(sorted(attrs.items())), type=widen(node.type))
    return make(node.op, node.inputs, attrs, node.span)


def _retype_attr(key: str, value: object) -> object:
    if isinstance(value, TensorType):  # a leaf's declared type
        return widen(value)
    return _WIDER.get(value, value) if key == "dtype" else value  # cast, zeros, ones
