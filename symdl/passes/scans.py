"""Stability across the scan boundary.

Theano could not rewrite log(scan(... sigmoid ...)): the tutorial's RBM returned the
pre-sigmoid activation out of its scan by hand. Here a scan whose output is a sigmoid
returns the pre-activation instead and the sigmoid moves outside, where the stabilize
rules see log(sigmoid(a)). Indexing a trace then moves inside the sigmoid, so only the
steps used are recomputed (usually the last).
"""

from __future__ import annotations

from dataclasses import replace

from symdl.ir import build
from symdl.ir.nodes import Node, Program, rebuild, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType
from symdl.passes.engine import Match
from symdl.passes.registry import PassReport, register, rule

HOISTED = ("sigmoid",)


@register("scan_sigmoid_output_to_preactivation", "canonicalize")
def expose_preactivations(program: Program, report: PassReport) -> Program:
    """scan(step -> sigmoid(a))[k] -> sigmoid(scan(step -> a)[k])"""
    used: dict[int, set[int]] = {}
    for node in toposort([r for f in program.functions for r in f.roots()]):
        if node.op == "scan_out":
            used.setdefault(id(node.inputs[0]), set()).add(node.attr("k"))
    plans: dict[int, tuple[Node, dict[int, int], list[int]]] = {}

    def rewrite(node: Node) -> Node:
        if node.op == "scan":
            return _plan(node, used, plans)
        if node.op == "scan_out" and id(node.inputs[0]) in plans:
            return _reroute(node, plans[id(node.inputs[0])], report)
        return node

    return rebuild(program, rewrite)


def _plan(scan: Node, used: dict[int, set[int]], plans: dict) -> Node:
    body = scan.attr("body")
    hoist = [k for k in sorted(used.get(id(scan), ())) if body.outputs[k].op in HOISTED]
    if not hoist:
        return scan
    outputs = tuple(body.outputs[k].inputs[0] for k in hoist) + body.outputs
    attrs = {k: (replace(body, outputs=outputs) if k == "body" else v) for k, v in scan.attrs}
    new = build.make("scan", scan.inputs, attrs, span=scan.span)
    plans[id(new)] = (new, {k: i for i, k in enumerate(hoist)}, hoist)
    return new


def _reroute(out: Node, plan: tuple, report: PassReport) -> Node:
    new_scan, position, hoist = plan
    k = out.attr("k")
    if k not in position:
        return build.make("scan_out", [new_scan], {"k": k + len(hoist), "type": out.type}, span=out.span)
    body = new_scan.attr("body")
    pre = body.outputs[position[k]]
    trace = build.make("scan_out", [new_scan], {"k": position[k], "type": TensorType(pre.type.dtype, out.type.shape)}, span=out.span)
    result = build.make(body.outputs[k + len(hoist)].op, [trace], span=out.span)
    report.fired("scan_sigmoid_output_to_preactivation", out.span, result)
    return result


@rule("index_of_elementwise_to_elementwise_of_index", "stabilize", None)
def index_inside(m: Match):
    """f(x)[i] -> f(x[i]) for a unary elementwise f: computes only what is picked, and lets log(sigmoid) meet"""
    node = m.term
    if node.op != "index" or OPS[node.inputs[0].op].kind != "elementwise" or len(node.inputs[0].inputs) != 1:
        return None
    inner = node.inputs[0]
    picked = build.make("index", (inner.inputs[0], *node.inputs[1:]), dict(node.attrs), span=node.span)
    return build.make(inner.op, [picked], dict(inner.attrs), span=node.span)
