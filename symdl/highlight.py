"""Syntax highlighting of model files: a Pygments lexer (`pygmentize -l sdl model.sdl`, Sphinx, Jupyter)
and the TextMate grammar of the VS Code extension in `editors/vscode/`, both from the same word lists.

The words are derived, not copied: keywords and dtypes from the grammar (`grammar/symdl.lark`),
built-in functions from the elaborator's table. Pygments loads this module to list its plugins, so
the lists are computed on first use, not on import.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator

from pygments.lexer import RegexLexer, bygroups
from pygments.token import Comment, Keyword, Name, Number, Operator, Punctuation, String, Text, Whitespace, _TokenType

WORD_OPERATORS = frozenset({"and", "or", "not"})
CONSTANTS = frozenset({"true", "false", "none"})
DEFINERS = ("def", "block", "fn")  # the name after one of these is being defined
WORD = r"[A-Za-z_][A-Za-z0-9_]*"
FLOAT = r"([0-9]+\.[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?|[0-9]+[eE][-+]?[0-9]+"  # the grammar's FLOAT
OPERATORS = r"\*\*|//|->|==|!=|<=|>=|[-+*/%@<>=~?]"


@functools.cache
def words() -> dict[str, frozenset[str]]:
    """Each highlighted kind of word and its members: keywords, constants, word operators, dtypes, builtins."""
    from symdl.elaborate.builtins import INITIALIZERS, names
    from symdl.syntax.concrete import grammar_dtypes, grammar_keywords

    reserved = grammar_keywords()
    return {
        "keyword": reserved - WORD_OPERATORS - CONSTANTS,
        "constant": reserved & CONSTANTS,
        "operator": reserved & WORD_OPERATORS,
        "dtype": frozenset(grammar_dtypes()),
        "builtin": frozenset(names()) | frozenset(INITIALIZERS),
    }


_TOKEN_OF_KIND = {
    "keyword": Keyword,
    "constant": Keyword.Constant,
    "operator": Operator.Word,
    "dtype": Keyword.Type,
    "builtin": Name.Builtin,
}


def _word(lexer: RegexLexer, match: re.Match[str]) -> Iterator[tuple[int, _TokenType, str]]:
    text = match.group()
    kind = next((k for k, members in words().items() if text in members), None)
    yield match.start(), _TOKEN_OF_KIND[kind] if kind else Name, text


class SymdlLexer(RegexLexer):
    """Pygments lexer for symdl model files (`.sdl`)."""

    name = "symdl"
    aliases = ["sdl", "symdl"]
    filenames = ["*.sdl"]
    mimetypes = ["text/x-symdl"]
    url = "https://github.com/symdl/symdl"

    tokens = {
        "root": [
            (r"[ \t\f]+", Whitespace),
            (r"\n", Whitespace),
            (r"\\[ \t\f]*\r?\n", Text),  # a line continuation
            (r"#[^\n]*", Comment.Single),
            (r'"[^"\n]*"', String.Double),
            (FLOAT, Number.Float),
            (r"[0-9]+", Number.Integer),
            (rf"({'|'.join(DEFINERS)})(\s+)({WORD})", bygroups(Keyword, Whitespace, Name.Function)),
            (rf"(model)(\s+)({WORD})", bygroups(Keyword, Whitespace, Name.Namespace)),
            (rf"(run)(\s+)({WORD})", bygroups(Keyword, Whitespace, Name.Function)),  # a recipe
            (WORD, _word),
            (OPERATORS, Operator),
            (r"[()\[\],:.]", Punctuation),
        ]
    }


def textmate_grammar() -> dict:
    """The TextMate grammar of `editors/vscode/syntaxes/symdl.tmLanguage.json` (tools/textmate.py writes it).

    Only the grammar's words are listed (a change to the grammar means running tools/textmate.py again).
    """
    w = words()

    def alternatives(names: frozenset[str]) -> str:
        return r"\b(" + "|".join(sorted(names)) + r")\b"

    return {
        "$schema": "https://raw.githubusercontent.com/martinring/tmlanguage/master/tmlanguage.json",
        "name": "symdl",
        "scopeName": "source.symdl",
        "fileTypes": ["sdl"],
        "patterns": [
            {"name": "comment.line.number-sign.symdl", "match": "#.*$"},
            {"name": "string.quoted.double.symdl", "match": '"[^"]*"'},
            {
                "match": rf"\b({'|'.join(DEFINERS)}|run)\s+({WORD})",
                "captures": {"1": {"name": "keyword.control.symdl"}, "2": {"name": "entity.name.function.symdl"}},
            },
            {"name": "keyword.control.symdl", "match": alternatives(w["keyword"])},
            {"name": "constant.language.symdl", "match": alternatives(w["constant"])},
            {"name": "keyword.operator.logical.symdl", "match": alternatives(w["operator"])},
            {"name": "storage.type.symdl", "match": alternatives(w["dtype"])},
            {  # any call: a list of builtins here would go stale with each new operator
                "match": rf"\b({WORD})\s*(?=\()",
                "captures": {"1": {"name": "entity.name.function.call.symdl"}},
            },
            {"name": "constant.numeric.float.symdl", "match": rf"\b({FLOAT})"},
            {"name": "constant.numeric.integer.symdl", "match": r"\b[0-9]+\b"},
            {"name": "keyword.operator.symdl", "match": OPERATORS},
            {"name": "variable.other.symdl", "match": rf"\b{WORD}\b"},
        ],
    }
