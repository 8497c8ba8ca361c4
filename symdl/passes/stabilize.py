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
            report.fired("logsoftmax", node.span)
            inner = node.inputs[0]
            return build.make("log_softmax", inner.inputs, dict(inner.attrs), span=node.span)
        return node

    return rebuild(program, rewrite)


@register("logsigm_to_softplus", "stabilize")
def log_sigmoid(program: Program, report: PassReport) -> Program:
    """log(sigmoid(x)) -> -softplus(-x)"""

    def rewrite(node: Node) -> Node:
        if node.op == "log" and node.inputs[0].op == "sigmoid":
            report.fired("logsigm_to_softplus", node.span)
            x = node.inputs[0].inputs[0]
            negated = build.make("neg", [x], span=node.span)
            return build.make("neg", [build.make("softplus", [negated], span=node.span)], span=node.span)
        return node

    return rebuild(program, rewrite)
