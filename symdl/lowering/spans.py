"""Source spans on PyTensor variables, so a runtime fault can name its `.sdl` line.

Lowering stamps every variable an IR node creates with that node's span, as one more entry
of `var.tag.trace` (the format PyTensor's own `copy_stack_trace` carries through rewrites).
Many rewrites build intermediate variables without copying traces, so `SpanKeeper`, a graph
feature attached before rewriting, hands the span of each replaced variable to the
unstamped variables of its replacement.
"""

from __future__ import annotations

import traceback

from pytensor.graph.features import Feature

from symdl.diagnostics.errors import Span
from symdl.ir.nodes import Node


class SpanFrame(traceback.FrameSummary):
    """A stack-trace frame pointing into a `.sdl` file: the IR node's span and operator."""

    __slots__ = ("span", "op", "in_gradient")

    def __init__(self, span: Span, op: str, in_gradient: bool) -> None:
        super().__init__(span.source.name, span.line, f"sdl:{op}", lookup_line=False, line=span.source.line(span.line))
        self.span, self.op, self.in_gradient = span, op, in_gradient


def span_of(var) -> SpanFrame | None:
    """The `.sdl` frame of a variable, if it has one; a forward frame wins over a gradient one
    (a merge can leave both on a value the forward pass computes too)."""
    frames = _frames(var)
    return next((f for f in frames if not f.in_gradient), frames[0] if frames else None)


def _frames(var) -> list[SpanFrame]:
    traces = getattr(var.tag, "trace", []) or []
    return [f for t in traces for f in (t if isinstance(t, list) else [t]) if isinstance(f, SpanFrame)]


def stamp(var, node: Node) -> None:
    """Give `node`'s span to `var` and to each computed ancestor that has no span yet
    (the variables `node`'s lowering created; for a `grad` node, its whole backward graph)."""
    if node.span is None:
        return
    frame = SpanFrame(node.span, node.op, node.op == "grad")
    for v in var if isinstance(var, list) else [var]:  # a scan lowers to a list of outputs
        _stamp_all(v, frame)


def _drop_forward_copy(var, frame: SpanFrame) -> None:
    def same(f: object) -> bool:
        return isinstance(f, SpanFrame) and not f.in_gradient and f.span == frame.span and f.op == frame.op

    traces = getattr(var.tag, "trace", []) or []
    var.tag.trace = [[f for f in t if not same(f)] if isinstance(t, list) else t for t in traces]


def _stamp_all(var, frame: SpanFrame) -> None:
    # Stamped variables stop the walk: they and their ancestors belong to earlier nodes.
    todo, seen = [var], set()
    while todo:
        v = todo.pop()
        if v in seen or v.owner is None or span_of(v) is not None:
            continue
        seen.add(v)
        v.tag.trace = [*getattr(v.tag, "trace", []), [frame]]
        todo.extend(v.owner.inputs)


class SpanKeeper(Feature):
    """When a rewrite replaces a stamped variable, the new variables take its span; a variable
    computed straight from a gradient (an update's `lr * g` folded into the backward graph)
    is marked as part of the gradient, and a merged one keeps both spans."""

    def on_change_input(self, fgraph, node, i, var, new_var, reason=None) -> None:
        frame = span_of(var)
        if frame is None:
            return
        if not frame.in_gradient and var.owner is not None and any(f.in_gradient for v in var.owner.inputs for f in _frames(v)):
            frame = SpanFrame(frame.span, frame.op, True)
            _drop_forward_copy(new_var, frame)  # PyTensor's copy_stack_trace copied the unmarked frame
        if span_of(new_var) is not None and frame not in _frames(new_var):
            new_var.tag.trace = [*new_var.tag.trace, [frame]]
        _stamp_all(new_var, frame)
