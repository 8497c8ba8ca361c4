"""Numerical-stability rewrites in symdl's own IR, so no backend ever sees the unstable form."""

from __future__ import annotations

from symdl.ir import build
from symdl.ir.nodes import Node, Program, rebuild
from symdl.passes.registry import PassReport, register


@register("logsoftmax", "stabilize")
def log_softmax(program: Program, report: PassReport) -> Program:
    """log(softmax(x)) -> log_softmax(x)"""

    def rewrite(node: Node) -> Node:
        if node.op == "log" and node.inputs[0].op == "softmax":
            inner = node.inputs[0]
            result = build.make("log_softmax", inner.inputs, dict(inner.attrs), span=node.span)
            report.fired("logsoftmax", node.span, result)
            return result
        return node

    return rebuild(program, rewrite)


@register("logsigm_to_softplus", "stabilize")
def log_sigmoid(program: Program, report: PassReport) -> Program:
    """log(sigmoid(x)) -> -softplus(-x)"""

    def rewrite(node: Node) -> Node:
        if node.op == "log" and node.inputs[0].op == "sigmoid":
            x = node.inputs[0].inputs[0]
            negated = build.make("neg", [x], span=node.span)
            result = build.make("neg", [build.make("softplus", [negated], span=node.span)], span=node.span)
            report.fired("logsigm_to_softplus", node.span, result)
            return result
        return node

    return rebuild(program, rewrite)
