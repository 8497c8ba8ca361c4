"""`symdl run --nan-guard`: stop at the first NaN or Inf and name the `.sdl` line that made it.

PyTensor's NanGuardMode checks values inside the Python/C virtual machine only, so the guard
compiles for the C backend, runs PyTensor's Python-loop VM (`use_cloop=False`), whose callback
sees each apply node right after it ran, and switches elementwise fusion off (a fused node
spans many source lines). Nodes run in order and each is checked, so the first one whose
output is not finite had finite inputs: it is the culprit, and its variable's span (see
`symdl.lowering.spans`) is the line to blame.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from pytensor.compile.mode import AddFeatureOptimizer, Mode
from pytensor.link.vm import VMLinker

from symdl.diagnostics.catalog import error
from symdl.diagnostics.errors import Span, SymdlError, UserError
from symdl.lowering.backends import inline_graph_ops
from symdl.lowering.spans import SpanFrame, SpanKeeper, span_of

HINTS = {
    "nan": "a value left its domain (log or sqrt of a negative number, 0/0, inf - inf): "
    "check that line's operands, or lower the learning rate",
    "inf": "a value overflowed (exp of a large number, a division by zero): lower the learning rate or bound that line's operands",
}


class NonFiniteStop(SymdlError):
    """Training stopped at the first non-finite value; `diagnostic` says where it came from."""

    def __init__(self, diagnostic: UserError, kind: str, frame: SpanFrame | None, pytensor_op: str) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic, self.kind, self.frame, self.pytensor_op = diagnostic, kind, frame, pytensor_op

    def render(self) -> str:
        return self.diagnostic.render()

    def summary(self) -> dict[str, object]:
        """What `summary.json` records about the fault."""
        span = self.frame.span.via or self.frame.span if self.frame else None
        where = {"file": span.source.name, "line": span.line, "column": span.column} if span else {}
        if span is not None and self.frame.span.via is not None:
            where["library"] = library_line(self.frame.span)
        return {"value": self.kind, "sdl_op": self.frame.op if self.frame else None, "pytensor_op": self.pytensor_op, **where}


def guard_mode() -> Mode:
    """C thunks in PyTensor's Python-loop VM, checked after every node; fusion off; spans kept through rewrites."""
    linker = VMLinker(callback=_check_node, use_cloop=False)
    mode = Mode(linker=linker, optimizer="fast_run").excluding("fusion").register((AddFeatureOptimizer(SpanKeeper()), -1))
    return inline_graph_ops(mode)  # its softmax computed here, checked node by node, not in a Numba call


def non_finite(value: object) -> str | None:
    """'nan' or 'inf' when a float array holds one (NanGuardMode's min/max test), else None."""
    if not isinstance(value, np.ndarray | np.generic) or value.dtype.kind not in "fc" or value.size == 0:
        return None
    if np.isnan(np.min(value)):
        return "nan"
    if np.isinf(np.nanmin(value)) or np.isinf(np.nanmax(value)):
        return "inf"
    return None


def _check_node(node, thunk, storage_map, compute_map) -> None:
    for var in node.outputs:
        kind = non_finite(storage_map[var][0])
        if kind:
            raise blame(node, var, kind)


def blame(node, var, kind: str) -> NonFiniteStop:
    """The stop for `var` (an output of `node`) holding a `kind` value, at the nearest known span."""
    frame = span_of(var) or _nearest_upstream(node)
    op = type(node.op).__name__ if not hasattr(node.op, "scalar_op") else type(node.op.scalar_op).__name__
    notes: tuple[str, ...] = ()
    if frame is None:
        return NonFiniteStop(error("E705", None, hint=HINTS[kind], kind=kind, what=f"PyTensor's {op}"), kind, None, op)
    if frame.in_gradient:
        notes = ("PyTensor builds the backward pass of this line's gradient; it has no line of its own",)
    if frame.span.via is not None:  # library code (symdl/std): the model's call that expanded it, the library's line a note
        notes += (f"inside {library_line(frame.span)}",)
    what = f"the gradient of the cost (PyTensor's {op})" if frame.in_gradient else f"`{frame.op}` (PyTensor's {op})"
    diagnostic = error("E705", frame.span.via or frame.span, hint=HINTS[kind], notes=notes, kind=kind, what=what)
    return NonFiniteStop(diagnostic, kind, frame, op)


def library_line(span: Span) -> str:
    """`optim.sdl:27:24: update p = p - lr * g`: where in a library file a fault came from."""
    return f"{Path(span.source.name).name}:{span.line}:{span.column}: {span.source.line(span.line).strip()}"


def _nearest_upstream(node) -> SpanFrame | None:
    # A variable no span reached (made by the runtime, e.g. minibatch slicing): its closest stamped input.
    todo, seen = list(node.inputs), set()
    while todo:
        var = todo.pop(0)
        if var in seen:
            continue
        seen.add(var)
        if (frame := span_of(var)) is not None:
            return frame
        if var.owner is not None:
            todo.extend(var.owner.inputs)
    return None
