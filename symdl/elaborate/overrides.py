"""Command-line overrides (`--set NAME=VALUE`): parsed as the assignment they look like.

The value is an expression of the language evaluated at compile time (so lists,
function names and arithmetic on other hypers work) and typed against the declared value.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span, UserError, did_you_mean
from symdl.elaborate.values import Builtin, DefValue, Scope, kind_of
from symdl.syntax import ast as A
from symdl.syntax.parser import parse

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator


def parse_overrides(texts: list[str]) -> dict[str, tuple[str, Span]]:
    """NAME=VALUE strings to {name: (value text, span of the whole override)}."""
    out: dict[str, tuple[str, Span]] = {}
    for text in texts:
        source = Source("--set", text)
        name, sep, value = text.partition("=")
        span = Span(source, 1, 1, 1, len(text) + 1)
        if "\n" in text or "\r" in text:  # a second line would be read as a second statement and dropped
            fail("E504", span, text=text.splitlines()[0] + " ...", hint="give each hyperparameter its own --set NAME=VALUE")
        if not sep or not name.strip().isidentifier() or not value.strip():
            fail("E500", span, text=text, hint="write --set NAME=VALUE, e.g. --set lr=0.05")
        out[name.strip()] = (text, span)
    return out


def apply_override(elab: Elaborator, name: str, declared: object, text: str, span: Span, scope: Scope) -> object:
    """The override's value, checked against the kind of the declared one."""
    value = _evaluate(elab, text, span, scope, declared)
    expected = _kind(declared)
    if _kind(value) == expected or (expected == "a number" and _kind(value) == "an integer"):
        return float(value) if expected == "a number" else value
    _refuse(name, declared, text, span)


def _evaluate(elab: Elaborator, text: str, span: Span, scope: Scope, declared: object) -> object:
    try:
        module = parse(Source("--set", text))
        stmt = module.body[0]
        assert isinstance(stmt, A.Assign)
        return elab.eval(stmt.value, scope)
    except UserError:
        if isinstance(declared, str):  # the shell ate the quotes: take the text itself
            return text.partition("=")[2]
        _refuse(text.partition("=")[0].strip(), declared, text, span)


def _refuse(name: str, declared: object, text: str, span: Span) -> None:
    value = text.partition("=")[2].strip()
    hint = f"the model declares {name} = {_show(declared)}"
    if _kind(declared) == "a function":  # a misspelt activation: name the one meant
        from symdl.elaborate.builtins import names

        hint = " ".join(filter(None, [did_you_mean(value, [k for k in names() if k.isidentifier()]), hint]))
    fail("E501", span, name=name, expected=_kind(declared), value=value, hint=hint)


def _kind(value: object) -> str:
    if isinstance(value, (Builtin, DefValue)):
        return "a function"
    return kind_of(value)


def _show(value: object) -> str:
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return f'"{value}"' if isinstance(value, str) else str(value)
