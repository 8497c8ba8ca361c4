"""Bounds on what a model file may hold, checked before anything recurses or overflows.

The parser builds a tree as deep as the text nests and every later stage walks it
recursively; integers are Python's, unbounded. These checks turn a hostile file
(a megabyte of `+`, a thousand nested `if`s, a 5000-digit number, bytes that are
not UTF-8) into a located error instead of a RecursionError or an overflow.
"""

from __future__ import annotations

from pathlib import Path

from lark import Token, Tree

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span

MAX_SOURCE_CHARS = 256 * 1024  # the largest model shipped is under 8 KiB
MAX_DEPTH = 100  # levels of the parse tree: expressions and blocks nested inside each other
MAX_INT = 2**63 - 1  # what an i64 holds: every integer a model computes at compile time stays within


def read_source(path: str | Path) -> Source:
    """A model file's text; bytes that are not UTF-8 are an error at their line and column."""
    data = Path(path).read_bytes()
    try:
        return Source(str(path), data.decode("utf-8-sig"))  # a BOM some editors write is not text
    except UnicodeDecodeError as err:
        shown = Source(str(path), data.decode("utf-8-sig", errors="replace"))
        line = data.count(b"\n", 0, err.start) + 1
        before = data[data.rfind(b"\n", 0, err.start) + 1 : err.start].decode("utf-8", errors="replace")
        column = len(before) + 1
        fail(
            "E113",
            Span(shown, line, column, line, column + 1),
            byte=f"0x{data[err.start]:02x}",
            hint="save the file as UTF-8 (the model language is UTF-8 text)",
        )


def check_size(source: Source) -> None:
    """A file longer than MAX_SOURCE_CHARS is refused at the line where it crosses the limit."""
    if len(source.text) <= MAX_SOURCE_CHARS:
        return
    head = source.text[:MAX_SOURCE_CHARS]
    line = head.count("\n") + 1
    column = MAX_SOURCE_CHARS - (head.rfind("\n") + 1) + 1
    fail(
        "E110",
        Span(source, line, column, line, column + 1),
        limit=MAX_SOURCE_CHARS,
        hint='split the model into files joined by `from "FILE.sdl" import ...`',
    )


def check_depth(tree: Tree, source: Source) -> None:
    """Refuse a parse tree deeper than MAX_DEPTH, at the first node past it (walked without recursion)."""
    stack: list[tuple[Tree, int]] = [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            line, column = _position(node)
            fail(
                "E111",
                Span(source, line, column, line, column + 1),
                limit=MAX_DEPTH,
                hint="name an inner part (x = ...) or move a nested block into a def",
            )
        stack.extend((child, depth + 1) for child in node.children if isinstance(child, Tree))


def _position(node: Tree) -> tuple[int, int]:
    meta = node.meta
    if not getattr(meta, "empty", True):
        return meta.line, meta.column
    pending: list[Tree | Token] = [node]
    while pending:  # the first token below, found without recursion
        item = pending.pop()
        if isinstance(item, Token):
            return item.line or 1, item.column or 1
        if isinstance(item, Tree):
            pending.extend(reversed(item.children))
    return 1, 1


def int_literal(text: str, span: Span) -> int:
    """An integer literal's value, refused beyond MAX_INT (before Python converts thousands of digits)."""
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(MAX_INT)) or int(digits) > MAX_INT:
        fail("E112", span, limit=MAX_INT, hint="write a large or fractional number as a float, e.g. 1e30")
    return int(digits)


def bounded(value: object, span: Span, what: str) -> object:
    """A compile-time result, refused when it is an integer beyond MAX_INT."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INT:
        fail("E420", span, what=what, limit=MAX_INT, hint="compute large values as floats (e.g. 10.0 ** 20)")
    return value
