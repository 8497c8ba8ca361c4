"""An optional index from source spans to what elaboration made of them, for editors.

The elaborator fills it when given one (`Elaborator.recorder`): every expression's value (an IR
node carries its type and static shape), every binding at its name, and for a name where it was
defined. Hover and go-to-definition read it instead of re-deriving types.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdl.diagnostics.errors import Span
from symdl.elaborate.values import BlockValue, DefValue, Scope
from symdl.ir.nodes import Node


@dataclass(frozen=True)
class Entry:
    """What one span of source text stood for in one expansion (a block expanded twice records twice)."""

    span: Span
    value: object
    definition: Span | None = None


@dataclass
class Recorder:
    entries: list[Entry] = field(default_factory=list)

    def expression(self, span: Span, value: object, name: str | None = None, scope: Scope | None = None) -> None:
        """An expression's value; for a name, also where it was defined."""
        definition = definition_of(value, name, scope) if name is not None and scope is not None else None
        self.entries.append(Entry(span, value, definition))

    def binding(self, name: str, span: Span, value: object) -> None:
        """A name bound by a statement whose span may cover more than the name: narrowed to the name."""
        narrowed = name_span(span, name)
        self.entries.append(Entry(narrowed, value, narrowed))

    def at(self, source_name: str, line: int, column: int) -> list[Entry]:
        """The entries of the innermost recorded span of `source_name` holding (line, column), 1-based."""
        holding = [e for e in self.entries if e.span.source.name == source_name and _holds(e.span, line, column)]
        if not holding:
            return []
        inner = max(holding, key=lambda e: ((e.span.line, e.span.column), (-e.span.end_line, -e.span.end_column)))
        key = _key(inner.span)
        return [e for e in holding if _key(e.span) == key]


def name_span(span: Span, name: str) -> Span:
    """The span of `name`'s first occurrence on the first line of `span` (the span itself when absent)."""
    text = span.source.line(span.line)
    start = _word_at(text, name, span.column - 1)
    if start < 0:
        return span
    return Span(span.source, span.line, start + 1, span.line, start + 1 + len(name))


def definition_of(value: object, name: str, scope: Scope) -> Span | None:
    """Where a name was defined: a block's or def's declaration, a leaf's declaration, else its binding."""
    if isinstance(value, (BlockValue, DefValue)):
        return name_span(value.decl.span, value.decl.name)
    if isinstance(value, Node) and value.is_leaf and value.span is not None:
        return name_span(value.span, name)
    found: Scope | None = scope
    while found is not None and name not in found.names:
        found = found.parent
    return found.spans.get(name) if found is not None else None


def _word_at(text: str, word: str, start: int) -> int:
    """The index of `word` as a whole identifier in `text` at or after `start`, or -1."""
    at = text.find(word, start)
    while at >= 0:
        before = text[at - 1] if at > 0 else " "
        after = text[at + len(word)] if at + len(word) < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return at
        at = text.find(word, at + 1)
    return -1


def _holds(span: Span, line: int, column: int) -> bool:
    return (span.line, span.column) <= (line, column) < (span.end_line, span.end_column)


def _key(span: Span) -> tuple[int, int, int, int]:
    return span.line, span.column, span.end_line, span.end_column
