"""Constant folding, common-subexpression elimination and dead-definition removal."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from symdl.ir import build
from symdl.ir.nodes import Node, Program, rebuild, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE
from symdl.passes.registry import PassReport, register


@register("fold", "simplify")
def fold(program: Program, report: PassReport) -> Program:
    """op(c1, ..., cn) -> c, for scalar constants c1..cn and an op with a NumPy reference."""

    def rewrite(node: Node) -> Node:
        opdef = OPS[node.op]
        if node.is_leaf or not node.inputs or opdef.reference is None or opdef.kind == "grad":
            return node
        if not all(i.op == "const" for i in node.inputs) or node.type.shape != ():
            return node
        values = [np.asarray(i.attr("value"), NUMPY_DTYPE[i.type.dtype]) for i in node.inputs]
        attrs = {k: v for k, v in node.attrs}
        with np.errstate(all="ignore"):
            result = np.asarray(opdef.reference(*values, **attrs)).astype(NUMPY_DTYPE[node.type.dtype])
        report.fired("fold", node.span)
        return build.const(result.item(), node.type.dtype, node.span)

    return rebuild(program, rewrite)


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
    """Definitions no function uses are dropped (parameters and state stay: they are the model)."""
    live = {id(n) for f in program.functions for n in toposort(f.roots())}
    kept = tuple((k, n) for k, n in program.definitions if id(n) in live)
    for _, node in program.definitions:
        if id(node) not in live:
            report.fired("dead_code", node.span)
    return replace(program, definitions=kept)
