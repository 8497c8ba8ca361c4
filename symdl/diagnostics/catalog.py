"""The catalog of user-facing error messages, keyed by code: one code per sentence.

The wording lives here and nowhere else: stages call `fail(code, span, ...)` (or `error` for one reported later);
a `UserError` is built nowhere else (tests/test_catalog.py checks). The span is required: `None` only for a
mistake that lies outside any source text (a command-line option, a run directory).
docs/LANGUAGE.md's table of codes is generated from here (`python tools/error_table.py`).
"""

from __future__ import annotations

from typing import NoReturn

from symdl.diagnostics.errors import Span, UserError

MESSAGES: dict[str, str] = {
    "E000": "cannot read model file '{path}': {detail}",
    # syntax (E1xx)
    "E100": "syntax error: {detail}",
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
    "E218": "unknown writer '{name}'",
    # arity and arguments (E3xx)
    "E300": "{callee} takes {expected} argument(s), got {got}",
    "E301": "missing argument '{name}' for {callee}",
    "E302": "argument '{name}' given twice",
    "E303": "{what} must be {expected}, got {got}",
    "E330": "the value fed to input '{name}' must be a scalar number, got {got}",
    "E331": "the value fed to input '{name}' depends on {what}, which the loop does not know",
    "E332": "'write' takes writers such as tiles(samples, \"samples.png\"), got {got}",
    "E333": "the {writer} writer takes {takes}, got {got}",
    "E334": 'a writer\'s \'every\' must be "epoch" or "end", got {got}',
    "E335": "the {writer} writer's file must be a plain name ending in {suffix}, got {got}",
    # types and shapes (E4xx)
    "E400": "shape mismatch in {what}",
    "E401": "dtype mismatch in {what}",
    "E402": "wrong kind of operand for {what}",
    "E403": "axis out of range in {what}",
    "E404": "cannot broadcast the operands of {what}",
    "E406": "update of '{name}' changes its type from {old} to {new}",
    "E407": "'{name}' cannot be updated: {why}",
    "E408": "the cost does not depend on '{name}', so its gradient is undefined",
    "E409": "index out of range in {what}",
    "E410": "bad spec for {what}",
    "E420": "{what} gives an integer beyond {limit}",
    # hyperparameters and overrides (E5xx)
    "E500": "bad override '{text}'",
    "E501": "override of '{name}' must be {expected}, got '{value}'",
    "E503": "--exclude names no rewrite '{name}'",
    "E504": "override '{text}' spans more than one line",
    "E505": "assertion failed: {message}",
    "E506": "hyper backend is '{name}', not a backend",
    # data (E6xx)
    "E600": "cannot read data: {detail}",
    "E601": "data does not match input '{name}': {detail}",
    "E602": "labels of '{name}' out of range: {detail}",
    "E603": "{path} lacks {names}",
    "E604": "{path}: '{name}' has shape {shape}, the model declares {declared}",
    "E605": "cannot read parameters from '{path}': {detail}",
    "E606": "{path}: '{name}' holds {dtype} values",
    # runs (E7xx)
    "E705": "training stopped: the first {kind} came from {what}",
    "E710": "'{path}' is damaged: {detail}",
    "E730": "fn {name} cannot run on the JAX backend: a shape in it depends on a `?` dimension",
    "E731": "{file} has no run statement",
    "E732": "'{path}' already holds a run",
    "E733": "'{path}' is not a run directory with a checkpoint",
    "E735": "'{file}' is not the model of the run in '{path}' (it ran {source})",
    "E736": "--resume continues a run with its own settings: --set and --out cannot change them",
    "E737": "{file} has no function to evaluate with",
    "E738": "{what} takes no gradient: nothing to check",
    "E739": "dataset '{name}' has no '{split}' split (it has {splits})",
    "E741": "the {split} split has {size} examples, fewer than one batch of {batch}",
    "E742": "'{path}' is not a run directory (it has no metrics.csv)",
    "E743": "no model file given",
    # drawings: symdl graph (E70x)
    "E702": "cannot draw to '{path}': unknown format",
    "E703": "the graphviz program `dot` is not installed",
    "E704": "cannot write '{path}': {detail}",
    # statements, defs and scan (E8xx)
    "E800": "'{statement}' is not allowed {where}",
    "E801": "cannot assign to this expression",
    "E802": "fn {fn} uses input '{name}' but does not list it",
    "E803": "def {name} calls itself without end",
    "E804": "def {name} ends without a return",
    "E805": "scan's step takes {takes} argument(s), but scan gives {sequences} sequence element(s) and {carried} carried value(s)",
    "E806": "scan's step returns {returns} value(s) but init gives {carried} carried value(s)",
    "E807": "division by zero in a compile-time expression",
    # sweeps: symdl sweep (E72x)
    "E720": "bad search space entry '{text}'",
    "E721": "unknown distribution '{name}'",
    "E722": "{dist} takes {expected}, got {detail}",
    "E723": "the range of '{name}' holds nothing: {detail}",
    "E724": "'{name}' is given twice",
    "E750": "symdl sweep needs Ray Tune ({name} is not installed)",
    "E751": "nothing to sweep",
    "E752": "'{path}' already holds a sweep",
    "E753": "--resume continues a sweep with its own settings: {flags} cannot change them",
    "E754": "'{path}' is not a sweep directory",
    "E755": "{file} has no validation function to rank trials by",
    "E756": "cannot read search space '{path}': {detail}",
    # warnings (W)
    "W100": "constant '{name}' does not reach the cost: holding it constant changes nothing",
}


def message(code: str, **fields: object) -> str:
    """The catalog's sentence for `code`, filled in."""
    return MESSAGES[code].format(**fields)


def warning(code: str, span: Span | None, hint: str = "", **fields: object) -> UserError:
    """The catalog's warning `code` at `span`, to be reported, not raised."""
    return UserError(span, message(code, **fields), hint=hint, code=code, severity="warning")


def error(code: str, span: Span | None, hint: str = "", label: str = "", notes: tuple[str, ...] = (), **fields: object) -> UserError:
    """The catalog's error `code` at `span`, built to be raised (by `fail`) or reported later (the NaN guard)."""
    return UserError(span, message(code, **fields), hint=hint or DEFAULT_HINTS.get(code, ""), label=label, notes=notes, code=code)


# When a call site has nothing more specific to say.
DEFAULT_HINTS = {
    "E303": "docs/LANGUAGE.md says what each argument and declaration takes",
    "E407": "only a param or a state (declared with `param` or `state`) can be updated",
}


def fail(code: str, span: Span | None, hint: str = "", label: str = "", notes: tuple[str, ...] = (), **fields: object) -> NoReturn:
    """Raise the catalog's error `code` at `span`."""
    raise error(code, span, hint, label, notes, **fields)


AREAS = {
    "E0": "reading the model",
    "E1": "syntax",
    "E2": "names and imports",
    "E3": "arguments",
    "E4": "types and shapes",
    "E5": "`--set`, `--exclude` and hypers",
    "E6": "data and parameter files",
    "E7": "runs, `eval`, `gradcheck` and `symdl graph`",
    "E8": "statements, defs and scan",
    "W1": "warnings",
}


def markdown_table() -> str:
    """docs/LANGUAGE.md's table of codes: one row per code, its area and its sentence ({field}s filled in when raised)."""
    rows = ["| Code | Area | Message |", "|---|---|---|"]
    rows += [f"| {code} | {AREAS[code[:2]]} | {text} |" for code, text in sorted(MESSAGES.items())]
    return "\n".join(rows) + "\n"
