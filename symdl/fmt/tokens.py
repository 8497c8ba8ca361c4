"""The concrete tree as the formatter sees it: statements made of token runs and suites, and where spaces go.

The walk is generic over the grammar: a statement is any tree directly under `start` or `suite`, its
tokens are laid out in order, and a `suite` inside it starts an indented block. A new statement in
the grammar formats without code here; only spacing asks about a token's text and its rule.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from lark import Token, Tree

BLOCK_RULES = ("start", "suite")  # the grammar's rules whose children are statements
OPENERS, CLOSERS = ("(", "["), (")", "]")
PREFIX_OPERATORS = ("-", "+")  # hug their operand when they open their rule (`-x`, not `a - x`)


@dataclass(eq=False)
class Tok:
    """One token of the source, with what spacing needs: its rule and whether it opens it."""

    text: str
    line: int
    column: int
    end_line: int
    end_column: int
    rule: str
    opens_rule: bool
    trailing: str = ""  # a comment after it on its line
    leading: list[str] = field(default_factory=list)  # comments on their own lines just before it
    after: list[str] = field(default_factory=list)  # comments on their own lines after it, before a closing bracket

    @property
    def breaks_after(self) -> bool:
        """A comment follows it: its line ends here."""
        return bool(self.trailing or self.after)


@dataclass(eq=False)
class Run:
    """Tokens laid out as one logical line (a statement, or a header up to its suite)."""

    toks: list[Tok]


@dataclass(eq=False)
class Stmt:
    """A statement: token runs, and the suites between them (`if c:` suite `else:` suite)."""

    parts: list[Run | list[Stmt]]

    @property
    def first(self) -> Tok:
        run = self.parts[0]
        assert isinstance(run, Run)
        return run.toks[0]


def statements(tree: Tree) -> list[Stmt]:
    """The statements under a `start` or `suite` tree."""
    return [_statement(child) for child in tree.children if isinstance(child, Tree)]


def _statement(tree: Tree) -> Stmt:
    parts: list[Run | list[Stmt]] = [Run([])]
    _collect(tree, parts)
    return Stmt([p for p in parts if not (isinstance(p, Run) and not p.toks)])


def _collect(tree: Tree, parts: list[Run | list[Stmt]]) -> None:
    for index, child in enumerate(tree.children):
        if isinstance(child, Tree) and child.data in BLOCK_RULES:
            parts += [statements(child), Run([])]
        elif isinstance(child, Tree):
            _collect(child, parts)
        elif isinstance(child, Token) and not _is_layout(child):
            run = parts[-1]
            assert isinstance(run, Run)
            run.toks.append(_tok(child, str(tree.data), index == 0))


def _is_layout(token: Token) -> bool:
    """Newlines, indents and dedents (the grammar's `_`-named terminals; Lark names anonymous ones `__ANON`)."""
    return token.type.startswith("_") and not token.type.startswith("__")


def _tok(token: Token, rule: str, first: bool) -> Tok:
    return Tok(str(token), token.line, token.column, token.end_line, token.end_column, rule, first)


def space_between(a: Tok, b: Tok) -> bool:
    """Whether one space separates two adjacent tokens on a line."""
    if b.text in (",", *CLOSERS) or a.text in OPENERS or "." in (a.text, b.text):
        return False
    if a.text == ",":
        return True
    if a.text in PREFIX_OPERATORS and a.opens_rule:  # `-x`: a unary sign
        return False
    if b.text in OPENERS and not b.opens_rule:  # a call, an index, a type's dims, a header's parameters
        return False
    if ":" in (a.text, b.text) and "slice" in (a.rule, b.rule):  # `x[1:n]`, `x[:, 0]`
        return False
    return b.text != ":"


def join(toks: list[Tok]) -> str:
    """Tokens on one line, spaced."""
    out = []
    for i, tok in enumerate(toks):
        if i and space_between(toks[i - 1], tok):
            out.append(" ")
        out.append(tok.text)
    return "".join(out)
