"""The source as tools that rewrite or colour it see it: the concrete tree (every token kept), the
comments the parser drops, and the words the grammar reserves.
"""

from __future__ import annotations

import functools
import re

from lark import Lark, Tree
from lark.exceptions import UnexpectedInput
from lark.indenter import DedentError
from lark.lexer import PatternStr

from symdl.diagnostics.errors import Source, split_lines
from symdl.syntax.parser import _Indenter, _lark, grammar_text, parse


@functools.cache
def _concrete_lark() -> Lark:
    options = {"parser": "lalr", "postlex": _Indenter(), "propagate_positions": True, "maybe_placeholders": True}
    return Lark(grammar_text(), keep_all_tokens=True, **options)


def concrete_tree(source: Source) -> Tree:
    """The parse tree with every token kept (keywords, brackets, operators), or the located syntax error."""
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    try:
        return _concrete_lark().parse(text)
    except (UnexpectedInput, DedentError):
        parse(source)  # raises the error as `parse` reports it
        raise


@functools.cache
def _comment_or_string() -> re.Pattern[str]:
    lark = _lark()
    string, comment = (lark.get_terminal(name).pattern.to_regexp() for name in ("STRING", "COMMENT"))
    return re.compile(f"(?P<string>{string})|(?P<comment>{comment})")


def comments(text: str) -> list[tuple[int, int, str]]:
    """Every comment as (line, column, text), 1-based: the lexer drops them, a formatter must keep them.

    Scanning for the grammar's STRING and COMMENT terminals from the left finds each '#' that is not
    inside a string, as the lexer does (no other token contains '#' or '"').
    """
    found = []
    for number, line in enumerate(split_lines(text), 1):
        for match in _comment_or_string().finditer(line):
            if match.lastgroup == "comment":
                found.append((number, match.start() + 1, match.group().rstrip()))
    return found


def grammar_keywords() -> frozenset[str]:
    """The words the grammar reserves (`model`, `if`, `true`, ...): its literal terminals made of letters."""
    return frozenset(t.pattern.value for t in _lark().terminals if isinstance(t.pattern, PatternStr) and t.pattern.value.isalpha())


def grammar_dtypes() -> tuple[str, ...]:
    """The dtype names of the DTYPE terminal, in the grammar's order."""
    pattern = _lark().get_terminal("DTYPE").pattern.value
    return tuple(re.search(r"\(([^()]*)\)", pattern).group(1).split("|"))
