"""Whole-program cleanup: common-subexpression elimination and dead-definition removal."""

from __future__ import annotations

from dataclasses import replace

from symdl.ir.nodes import Node, Program, rebuild, toposort
from symdl.passes.registry import PassReport, register


@register("cse", "canonicalize")  # first, so patterns naming one value twice see one node
@register("cse", "cleanup")
def cse(program: Program, report: PassReport) -> Program:
    """Two nodes with the same operator, inputs and attributes become one."""
    seen: dict[tuple, Node] = {}

    def rewrite(node: Node) -> Node:
        if node.op in ("input", "param", "state"):
            return node
        key = (node.op, tuple(id(i) for i in node.inputs), node.attrs, node.type)
        if key in seen:
            if node is not seen[key]:
                report.fired("cse", node.span)
            return seen[key]
        seen[key] = node
        return node

    return rebuild(program, rewrite)


@register("dead_code", "cleanup")
def dead_code(program: Program, report: PassReport) -> Program:
    """Definitions no function uses are dropped (parameters and state stay: they are the model).

    Dropping a name changes no function's graph, so it is listed as pruned, not counted as a rewrite that fired.
    """
    live = {id(n) for f in program.functions for n in toposort(f.roots())}
    kept = tuple((k, n) for k, n in program.definitions if id(n) in live)
    report.pruned.extend(k for k, n in program.definitions if id(n) not in live)
    return replace(program, definitions=kept)
