"""Source spans and the error types every stage raises.

A user's mistake is a `UserError`: it always carries a `Span`, so the CLI can
print `file:line:col`, the source line with a caret, one sentence and a hint.
A bug in symdl is an `InternalError`, printed as such with a request to report.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from pathlib import Path


def split_lines(text: str) -> list[str]:
    """Lines as the parser counts them: split on '\\n' only (a '\\r' before it dropped), no empty last line."""
    lines = [line.removesuffix("\r") for line in text.split("\n")]
    return lines[:-1] if lines and lines[-1] == "" else lines


@dataclass(frozen=True, slots=True)
class Source:
    """One source text and the name it is reported under."""

    name: str
    text: str

    @property
    def lines(self) -> list[str]:
        """The text's lines, split on '\\n' only: the line Lark counts (form feed, U+2028 and kin end no line)."""
        return split_lines(self.text)

    def line(self, number: int) -> str:
        lines = self.lines
        return lines[number - 1] if 0 < number <= len(lines) else ""

    @staticmethod
    def read(path: str | Path) -> Source:
        return Source(str(path), Path(path).read_text(encoding="utf-8-sig"))  # a BOM some editors write is not text


@dataclass(frozen=True, slots=True)
class Span:
    """A region of a source text: 1-based line and column, end exclusive."""

    source: Source = field(repr=False, compare=False)
    line: int
    column: int
    end_line: int
    end_column: int
    via: Span | None = field(default=None, repr=False, compare=False)  # library code: the user's call that expanded it

    def __str__(self) -> str:
        return f"{self.source.name}:{self.line}:{self.column}"

    @staticmethod
    def whole_line(source: Source, line: int) -> Span:
        text = source.line(line)
        start = len(text) - len(text.lstrip()) + 1
        return Span(source, line, start, line, len(text) + 1)

    @property
    def text(self) -> str:
        """The source text the span covers (its first line)."""
        line = self.source.line(self.line)
        return line[self.column - 1 : self.end_column - 1 if self.end_line == self.line else None]

    def excerpt(self, label: str = "") -> str:
        """The source line framed with its number and a caret under the span."""
        text = self.source.line(self.line)
        end = self.end_column if self.end_line == self.line else len(text) + 1
        skipped = max(0, self.column - 1 - EXCERPT_WIDTH // 2) if len(text) > EXCERPT_WIDTH else 0
        text, column = text[skipped : skipped + EXCERPT_WIDTH], self.column - skipped  # a long line: the part around the span
        width = max(1, min(end - self.column, len(text) + 1 - column))
        gutter = f"{self.line:>5} | "
        caret = " " * (len(gutter) - 2) + "| " + " " * (column - 1) + "^" * width
        return f"{gutter}{text}\n{caret}" + (f" {label}" if label else "")


EXCERPT_WIDTH = 160  # characters of a source line shown around a span


class SymdlError(Exception):
    """Base of symdl's own exceptions."""


@dataclass
class UserError(SymdlError):
    """A mistake in a model file, an override or a data file (exit status 2)."""

    span: Span | None
    message: str
    hint: str = ""
    label: str = ""
    notes: tuple[str, ...] = ()
    code: str = "E000"
    severity: str = "error"  # or "warning": printed, not raised

    def __post_init__(self) -> None:
        super().__init__(self.message)

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        where = f"{self.span}: " if self.span else ""
        out = [f"{where}{self.severity}[{self.code}]: {self.message}"]
        if self.span:
            out.append(self.span.excerpt(self.label))
        out += [f"  note: {n}" for n in self.notes]
        if self.hint:
            out.append(f"  hint: {self.hint}")
        return "\n".join(out)


class InternalError(SymdlError):
    """A bug in symdl, not in the user's model."""

    def render(self) -> str:
        return f"internal error: {self.args[0]}\n  this is a bug in symdl: please report it with the model file"


def did_you_mean(name: str, known: list[str] | tuple[str, ...] | set[str]) -> str:
    """A 'did you mean' hint for a misspelt name, or '' when nothing is close."""
    by_lower = {k.lower(): k for k in sorted(known)}
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=1, cutoff=0.6)
    return f"did you mean '{by_lower[close[0]]}'?" if close else ""
