"""What an editor reads from the syntax alone: a file's outline, the names to complete, import targets."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from symdl.diagnostics.errors import Span
from symdl.elaborate.recorder import name_span
from symdl.syntax import ast as A

KEYWORDS = (
    "model",
    "from",
    "import",
    "hyper",
    "data",
    "input",
    "param",
    "state",
    "def",
    "block",
    "fn",
    "update",
    "run",
    "return",
    "assert",
    "if",
    "elif",
    "else",
    "for",
    "in",
    "and",
    "or",
    "not",
    "true",
    "false",
    "none",
)


@dataclass(frozen=True)
class Symbol:
    """One declaration of a file's outline: its kind (hyper, param, block, ...), name and spans."""

    kind: str
    name: str
    span: Span  # the whole declaration
    name_span: Span
    detail: str = ""
    children: tuple[Symbol, ...] = ()


def outline(module: A.Module) -> list[Symbol]:
    """The hypers, data, inputs, params, states, values, blocks, defs and fns a module declares."""
    return [s for stmt in module.body for s in _symbols(stmt)]


def _symbols(stmt: A.Node) -> list[Symbol]:
    if isinstance(stmt, A.Hyper):
        return [_symbol("hyper", item.name, item.span, item.value.span.text) for item in stmt.items]
    if isinstance(stmt, (A.InputDecl, A.VarDecl)):
        kind = stmt.kind if isinstance(stmt, A.VarDecl) else "input"
        return [_symbol(kind, stmt.name, stmt.span, stmt.type.span.text)]
    if isinstance(stmt, A.DataDecl):
        return [_symbol("data", stmt.name, stmt.span, stmt.value.span.text)]
    if isinstance(stmt, (A.BlockDecl, A.Def)):
        kind = "block" if isinstance(stmt, A.BlockDecl) else "def"
        body = stmt.body if isinstance(stmt.body, tuple) else ()
        children = tuple(s for inner in body for s in _symbols(inner) if s.kind in ("param", "state", "def"))
        params = ", ".join(p.name for p in stmt.params)
        return [_symbol(kind, stmt.name, stmt.span, f"({params})", children)]
    if isinstance(stmt, A.FnDecl):
        inputs = ", ".join(n.id for n in stmt.inputs)
        outputs = ", ".join(o.value.span.text for o in stmt.outputs)
        return [_symbol("fn", stmt.name, stmt.span, f"({inputs}) -> {outputs}")]
    if isinstance(stmt, A.Assign):
        return [_symbol("value", t.id, t.span) for t in stmt.targets if isinstance(t, A.Name)]
    if isinstance(stmt, (A.If, A.For)):
        bodies = [b for _, b in stmt.branches] + [stmt.orelse] if isinstance(stmt, A.If) else [stmt.body]
        return [s for body in bodies for inner in body for s in _symbols(inner)]
    return []


def _symbol(kind: str, name: str, span: Span, detail: str = "", children: tuple[Symbol, ...] = ()) -> Symbol:
    return Symbol(kind, name, span, name_span(span, name), detail, children)


def local_names(module: A.Module, line: int) -> list[str]:
    """The parameters and assigned names of the block or def enclosing `line` (1-based)."""
    for stmt in module.body:
        if isinstance(stmt, (A.BlockDecl, A.Def)) and stmt.span.line <= line <= stmt.span.end_line:
            body = stmt.body if isinstance(stmt.body, tuple) else ()
            return [p.name for p in stmt.params] + [s.name for inner in body for s in _symbols(inner)]
    return []


def import_target(module: A.Module, source_name: str, line: int, column: int) -> Path | None:
    """The file an import statement's path names, when (line, column) is on that path."""
    for stmt in module.body:
        if isinstance(stmt, A.Import):
            span = stmt.path.span
            if span.line == line and span.column <= column < span.end_column:
                return Path(os.path.normpath(Path(source_name).parent / str(stmt.path.value)))
    return None
