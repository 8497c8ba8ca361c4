"""The one way to make an IR node: check arity, run the operator's type rule.

A type rule's refusal becomes a user error at the expression, naming both operands' types.
"""

from __future__ import annotations

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import InternalError, Span
from symdl.ir.nodes import Node
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType, TypeRuleError


def make(
    op: str,
    inputs: tuple[Node, ...] | list[Node],
    attrs: dict | None = None,
    span: Span | None = None,
    operands: tuple[str, ...] = (),
    arg_spans: dict[str, Span] | None = None,
) -> Node:
    """A new node of operator `op`; `operands` names the inputs for error messages; a refusal that
    names an argument points at its span in `arg_spans` when it is there."""
    opdef = OPS.get(op)
    if opdef is None:
        raise InternalError(f"no operator named {op!r} in the registry")
    inputs = tuple(inputs)
    low, high = opdef.arity
    if len(inputs) < low or (high is not None and len(inputs) > high):
        raise InternalError(f"{op} built with {len(inputs)} inputs")
    attrs = dict(attrs or {})
    try:
        out = opdef.type_rule(tuple(i.type for i in inputs), attrs)
    except TypeRuleError as err:
        _report(err, op, inputs, (arg_spans or {}).get(err.arg, span), operands)
    return Node(op, inputs, tuple(sorted(attrs.items())), out, span)


def leaf(op: str, name: str, type_: TensorType, span: Span | None = None, **attrs: object) -> Node:
    """An input, parameter, state or constant."""
    return Node(op, (), tuple(sorted({"name": name, "type": type_, **attrs}.items())), type_, span)


def const(value: float | int | bool, dtype: str, span: Span | None = None) -> Node:
    return leaf("const", "", TensorType(dtype, ()), span, value=value)


def _report(err: TypeRuleError, op: str, inputs: tuple[Node, ...], span: Span | None, operands: tuple[str, ...]) -> None:
    names = operands or tuple(describe(i) for i in inputs)
    label = ", ".join(f"{n} is {i.type}" for n, i in zip(names, inputs))
    notes = tuple(f"{i.name} declared at {i.span}" for i in inputs if i.op in ("param", "state", "input") and i.span is not None)
    what = err.what if err.what not in ("broadcast", "axis") else f"'{op}'"
    fail(err.code, span, hint=err.detail, label=label, notes=notes, what=what)


def describe(node: Node) -> str:
    """How a node is called in an error message: its name, or its operator."""
    if node.op == "const":
        return str(node.attr("value"))
    return node.name or node.op
