"""The IR verifier: run between passes in the tests.

Checks arity, that each node's type is what its rule gives, that every leaf is
declared by the program, that updates keep their target's type, and no cycles;
inside every scan body too (its leaves are its args, its carried values keep their types).
"""

from __future__ import annotations

from symdl.diagnostics.errors import InternalError
from symdl.ir.nodes import Node, Program, ScanBody, toposort
from symdl.ir.ops import OPS


def verify(program: Program) -> None:
    """Raise InternalError naming the node and its source line when an invariant fails."""
    declared = {id(n) for n in (*program.inputs, *program.params, *program.states)}
    order = toposort(program.roots())
    position = {id(n): k for k, n in enumerate(order)}
    for node in order:
        _check_node(node, declared, position)
        if node.op == "scan":
            _check_body(node)
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
    if node.op in ("input", "param", "state", "arg") and id(node) not in declared:
        _bad(node, "unbound leaf")
    if any(position[id(i)] >= position[id(node)] for i in node.inputs):
        _bad(node, "cycle")
    if not node.is_leaf and opdef.type_rule(tuple(i.type for i in node.inputs), dict(node.attrs)) != node.type:
        _bad(node, "type differs from its rule")


def _check_body(scan: Node) -> None:
    """A scan's step: its own nodes checked as the program's are, reading only its args and the scan's inputs."""
    body: ScanBody = scan.attr("body")
    if len(body.args) != body.n_seqs + body.n_carried or len(body.outputs) < body.n_carried:
        _bad(scan, f"a body of {len(body.args)} args and {len(body.outputs)} outputs for {body.n_seqs} + {body.n_carried}")
    carried_out = body.outputs[len(body.outputs) - body.n_carried :]
    for arg, out in zip(body.args[body.n_seqs :], carried_out):
        if arg.type != out.type:
            _bad(out, f"carried value {arg.name} of {arg.type} comes back as {out.type}")
    outer = (*body.args, *scan.inputs)
    inner = body.nodes(scan.inputs)
    position = {id(n): k for k, n in enumerate((*outer, *inner))}
    visible = {id(n) for n in outer}
    for node in inner:
        if any(id(i) not in position for i in node.inputs):
            _bad(node, "reads a node that is neither an arg of its scan body nor an input of the scan")
        _check_node(node, visible | {id(n) for n in body.args}, position)
        if node.op == "scan":
            _check_body(node)


def _bad(node: Node, what: str) -> None:
    raise InternalError(f"IR verifier: {what} at {node.op} {node.name} ({node.span or 'no source'})")
