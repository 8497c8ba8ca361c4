"""The catalog of user-facing error messages, keyed by code.

The wording lives here and nowhere else: stages call `fail(code, span, ...)`.
"""

from __future__ import annotations

from typing import NoReturn

from symdl.diagnostics.errors import Span, UserError

MESSAGES: dict[str, str] = {
    # syntax (E1xx)
    "E100": "syntax error: {detail}",
    "E101": "unexpected end of file: {detail}",
    "E102": "inconsistent indentation",
    "E103": "unexpected indentation",
    # limits on a file (E11x)
    "E110": "the file is longer than {limit} characters",
    "E111": "expressions and blocks are nested more than {limit} levels deep",
    "E112": "integer literal larger than {limit}",
    "E113": "the file is not UTF-8: byte {byte} cannot be read as text",
    # names (E2xx)
    "E200": "unknown name '{name}'",
    "E201": "'{name}' is already defined",
    "E202": "'{name}' has no member '{member}'",
    "E203": "unknown function '{name}'",
    "E204": "unknown hyperparameter '{name}'",
    "E205": "unknown keyword argument '{name}' for {callee}",
    "E206": "unknown dataset '{name}'",
    "E207": "unknown recipe '{name}'",
    "E208": "unknown data field '{name}'",
    "E210": "cannot import '{path}': {detail}",
    "E211": "'{name}' is not a block or def of {file}",
    "E212": "import cycle: {chain}",
    # arity and arguments (E3xx)
    "E300": "{callee} takes {expected} argument(s), got {got}",
    "E301": "missing argument '{name}' for {callee}",
    "E302": "argument '{name}' given twice",
    "E303": "{what} must be {expected}, got {got}",
    # types and shapes (E4xx)
    "E400": "shape mismatch in {what}",
    "E401": "dtype mismatch in {what}",
    "E402": "wrong kind of operand for {what}",
    "E403": "axis out of range in {what}",
    "E404": "cannot broadcast the operands of {what}",
    "E405": "{what} does not match its declaration",
    "E406": "update of '{name}' changes its type from {old} to {new}",
    "E407": "'{name}' cannot be updated: {why}",
    "E408": "the cost does not depend on '{name}', so its gradient is undefined",
    "E409": "index out of range in {what}",
    "E420": "{what} gives an integer beyond {limit}",
    # hyperparameters and overrides (E5xx)
    "E500": "bad override '{text}'",
    "E501": "override of '{name}' must be {expected}, got '{value}'",
    "E502": "hyperparameter '{name}' refers to itself",
    "E503": "--exclude names no rewrite '{name}'",
    "E504": "override '{text}' spans more than one line",
    # data (E6xx)
    "E600": "cannot read data: {detail}",
    "E601": "data does not match input '{name}': {detail}",
    "E602": "labels of '{name}' out of range: {detail}",
    # runs (E7xx)
    "E700": "{detail}",
    "E701": "function '{name}' has no input named '{input}'",
    "E705": "training stopped: the first {kind} came from {what}",
    "E710": "'{path}' is damaged: {detail}",
    # drawings: symdl graph (E70x)
    "E702": "cannot draw to '{path}': unknown format",
    "E703": "the graphviz program `dot` is not installed",
    "E704": "cannot write '{path}': {detail}",
    # warnings (W)
    "W100": "constant '{name}' does not reach the cost: holding it constant changes nothing",
}


def message(code: str, **fields: object) -> str:
    """The catalog's sentence for `code`, filled in."""
    return MESSAGES[code].format(**fields)


def warning(code: str, span: Span | None, hint: str = "", **fields: object) -> UserError:
    """The catalog's warning `code` at `span`, to be reported, not raised."""
    return UserError(span, message(code, **fields), hint=hint, code=code, severity="warning")


# When a call site has nothing more specific to say.
DEFAULT_HINTS = {
    "E303": "docs/LANGUAGE.md says what each argument and declaration takes",
    "E407": "only a param or a state (declared with `param` or `state`) can be updated",
}


def fail(code: str, span: Span | None, hint: str = "", label: str = "", notes: tuple[str, ...] = (), **fields: object) -> NoReturn:
    """Raise the catalog's error `code` at `span`."""
    raise UserError(span, message(code, **fields), hint=hint or DEFAULT_HINTS.get(code, ""), label=label, notes=notes, code=code)
