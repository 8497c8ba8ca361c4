"""`symdl fmt`: one canonical layout for model files, keeping every comment and blank-line group.

`format_source` is the whole formatter (the command and the language server call it): it parses,
lays out the concrete tree, and checks that the result parses to the same AST with the same comments.
"""

from __future__ import annotations

import dataclasses

from symdl.diagnostics.errors import InternalError, Source, split_lines
from symdl.fmt.layout import lay_out
from symdl.fmt.tokens import statements
from symdl.syntax import ast as A
from symdl.syntax.concrete import comments, concrete_tree
from symdl.syntax.parser import parse

__all__ = ["format_source"]


def format_source(text: str, path: str = "<string>") -> str:
    """The text in the canonical layout; a syntax error raises the located `UserError` (reported as `path`)."""
    source = Source(path, text)
    tree = concrete_tree(source)
    formatted = lay_out(statements(tree), comments(text), split_lines(text))
    if formatted != text:
        _check_same_program(source, formatted)
    return formatted


def _check_same_program(source: Source, formatted: str) -> None:
    """The formatter must not change what a file means or drop a comment: a bug if it did."""
    before = spanless(parse(source))
    try:
        after = spanless(parse(Source(source.name, formatted)))
    except Exception as err:
        raise InternalError(f"the formatted {source.name} does not parse: {err}") from err
    if after != before:
        raise InternalError(f"formatting {source.name} changed its syntax tree")
    if [c[2] for c in comments(source.text)] != [c[2] for c in comments(formatted)]:
        raise InternalError(f"formatting {source.name} lost or moved a comment")


def spanless(node: object) -> object:
    """An AST as nested tuples without spans: equal for two texts that differ only in layout."""
    if isinstance(node, A.Node):
        fields = [f.name for f in dataclasses.fields(node) if f.name != "span"]
        return (type(node).__name__, *(spanless(getattr(node, f)) for f in fields))
    if isinstance(node, tuple):
        return tuple(spanless(item) for item in node)
    return node
