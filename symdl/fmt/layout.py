"""Statements to lines: indentation, comments where they were, blank-line groups, aligned trailing comments.

Comments are not in the tree: each is placed by its position among the tokens. One inside a statement
rides on a token (after it on its line, or on its own line before it); one between statements prints
on its own line, and one left after a block's last statement stays in the block when it was indented
deeper than the block's header.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from symdl.fmt.lines import INDENT, Line, run_lines
from symdl.fmt.tokens import CLOSERS, Run, Stmt, Tok

BLANK_LINES = {0: 2, 1: 1}  # the most blank lines kept in a row: top level, inside a block
ALIGN_SPREAD = 24  # aligned comments of adjacent lines push none more than this past its code


@dataclass(frozen=True)
class Comment:
    line: int
    column: int
    text: str


def lay_out(stmts: list[Stmt], comments: list[tuple[int, int, str]], source_lines: list[str]) -> str:
    """The formatted text of a module's statements and its comments."""
    loose = _attach([Comment(*c) for c in comments], stmts)
    printer = _Printer(source_lines, deque(loose))
    printer.block(stmts, 0, len(source_lines) + 1, 0)
    return render(printer.out)


def _attach(comments: list[Comment], stmts: list[Stmt]) -> list[Comment]:
    """Hang each comment inside a run on a token; return those between statements."""
    runs = list(_runs(stmts))
    toks = [(tok, index) for index, run in enumerate(runs) for tok in run.toks]
    starts = [(t.line, t.column) for t, _ in toks]
    loose = []
    for c in comments:
        after = bisect.bisect_left(starts, (c.line, c.column))  # the first token after the comment
        prev, prev_run = toks[after - 1] if after else (None, -1)
        _, next_run = toks[after] if after < len(toks) else (None, -2)
        trailing = prev is not None and prev.end_line == c.line
        if trailing:
            prev.trailing = c.text
        elif prev_run == next_run and toks[after][0].text in CLOSERS:  # stays inside the brackets
            prev.after.append(c.text)
        elif prev_run == next_run:
            toks[after][0].leading.append(c.text)
        else:
            loose.append(c)
    return loose


def _runs(stmts: list[Stmt]) -> Iterator[Run]:
    for stmt in stmts:
        for part in stmt.parts:
            yield from [part] if isinstance(part, Run) else _runs(part)


class _Printer:
    def __init__(self, source_lines: list[str], loose: deque[Comment]) -> None:
        self.source_lines = source_lines
        self.loose = loose
        self.out: list[Line] = []
        self.last = 0  # the source line of what was printed last
        self.fresh = True  # at the start of the file or of a block: no blank line

    def block(self, stmts: list[Stmt], depth: int, end: int, outer_column: int) -> None:
        """Statements at a depth, then the comments before `end` indented deeper than the block's header."""
        for i, stmt in enumerate(stmts):
            self.statement(stmt, depth, stmts[i + 1].first.line if i + 1 < len(stmts) else end)
        self._comments(depth, end, outer_column)

    def statement(self, stmt: Stmt, depth: int, end: int) -> None:
        for i, part in enumerate(stmt.parts):
            if isinstance(part, Run):
                first: Tok = part.toks[0]
                self._comments(depth, first.line, 0)
                self._blank(first.line, depth)
                self.out += run_lines(part.toks, depth)
                self.last = part.toks[-1].end_line
            else:
                following = stmt.parts[i + 1] if i + 1 < len(stmt.parts) else None
                self.fresh = True
                self.block(part, depth + 1, following.toks[0].line if isinstance(following, Run) else end, stmt.first.column)

    def _comments(self, depth: int, before: int, min_column: int) -> None:
        """Own-line comments before a source line (and right of a column), at a depth."""
        while self.loose and self.loose[0].line < before and self.loose[0].column > min_column:
            comment = self.loose.popleft()
            self._blank(comment.line, depth)
            self.out.append(Line(depth, "", comment.text))
            self.last = comment.line

    def _blank(self, line: int, depth: int) -> None:
        """The blank lines the source had before `line` since what was printed last (a group kept as one)."""
        if not self.fresh:
            blank = sum(1 for text in self.source_lines[self.last : line - 1] if not text.strip())
            self.out += [Line(0, "") for _ in range(min(blank, BLANK_LINES[min(depth, 1)]))]
        self.fresh = False


def render(lines: list[Line]) -> str:
    """The text of the lines, with the trailing comments of adjacent lines aligned.

    A group of adjacent commented lines aligns its comments two spaces past its longest code; a line whose
    code is over ALIGN_SPREAD columns longer or shorter than the group's starts a new group.
    """
    column: dict[int, int] = {}
    group: list[int] = []
    for i, line in enumerate([*lines, Line(0, "")]):
        widths = [_width(lines[k]) for k in group]
        if line.code and line.comment and (not group or max(*widths, _width(line)) - min(*widths, _width(line)) <= ALIGN_SPREAD):
            group.append(i)
            continue
        column.update({k: max(widths, default=0) + 2 for k in group})
        group = [i] if line.code and line.comment else []
    out = []
    for i, line in enumerate(lines):
        code = INDENT * line.depth + line.code if line.code or line.comment else ""
        if line.code and line.comment:
            code = code.ljust(column[i]) + line.comment
        elif line.comment:
            code += line.comment
        out.append(code)
    return "\n".join(out) + "\n" if out else ""


def _width(line: Line) -> int:
    return len(INDENT) * line.depth + len(line.code)
