"""The IR verifier: run between passes in the tests.

Checks arity, that each node's type is what its rule gives, that every leaf is
declared by the program, that updates keep their target's type, and no cycles.
"""

from __future__ import annotations

from symdl.diagnostics.errors import InternalError
from symdl.ir.nodes import Node, Program, toposort
from symdl.ir.ops import OPS


def verify(program: Program) -> None:
    """Raise InternalError naming the node and its source line when an invariant fails."""
    declared = {id(n) for n in (*program.inputs, *program.params, *program.states)}
    order = toposort(program.roots())
    position = {id(n): k for k, n in enumerate(order)}
    for node in order:
        _check_node(node, declared, position)
    for fn in program.functions:
        for target, value in fn.updates:
            if target.op not in ("param", "state") or value.type.shape != target.type.shape:
                _bad(target, f"update of {target.name} by {value.type}")


def _check_node(node: Node, declared: set[int], position: dict[int, int]) -> None:
    opdef = OPS.get(node.op)
    if opdef is None:
        _bad(node, "unknown operator")
    low, high = opdef.arity
    if len(node.inputs) < low or (high is not None and len(node.inputs) > high):
        _bad(node, f"arity {len(node.inputs)}")
    if node.op in ("input", "param", "state") and id(node) not in declared:
        _bad(node, "unbound leaf")
    if any(position[id(i)] >= position[id(node)] for i in node.inputs):
        _bad(node, "cycle")
    if not node.is_leaf and opdef.type_rule(tuple(i.type for i in node.inputs), dict(node.attrs)) != node.type:
        _bad(node, "type differs from its rule")


def _bad(node: Node, what: str) -> None:
    raise InternalError(f"IR verifier: {what} at {node.op} {node.name} ({node.span or 'no source'})")
