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
    """The first `.sdl` frame in a variable's trace, if it has one."""
    for trace in getattr(var.tag, "trace", []) or []:
        for frame in trace if isinstance(trace, list) else [trace]:
            if isinstance(frame, SpanFrame):
                return frame
    return None


def stamp(var, node: Node) -> None:
    """Give `node`'s span to `var` and to each computed ancestor that has no span yet
    (the variables `node`'s lowering created; for a `grad` node, its whole backward graph)."""
    if node.span is None:
        return
    _stamp_all(var, SpanFrame(node.span, node.op, node.op == "grad"))


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
    """When a rewrite replaces a stamped variable, the new variables take its span."""

    def on_change_input(self, fgraph, node, i, var, new_var, reason=None) -> None:
        frame = span_of(var)
        if frame is not None:
            _stamp_all(new_var, frame)
