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
    "E000": "cannot read model file '{path}': {reason}",
    # syntax (E1xx)
    "E100": "syntax error: unexpected {token}",
    "E101": "syntax error: unexpected character {char}",
    "E102": "inconsistent indentation",
    "E103": "unexpected indentation",
    "E105": "'{bracket}' is never closed",
    # syntax errors recognised by example (SYNTAX_EXAMPLES in symdl/syntax/parser.py)
    "E120": "syntax error: missing ':' after a declared name (write `input x: f32[20, 784]`)",
    "E121": "syntax error: a type needs a dtype first: f32, f64, i32, i64, u8 or bool",
    "E122": "syntax error: unclosed parenthesis or bracket",
    "E123": "syntax error: missing ':' at the end of the header (a block, def, fn, if or for needs one)",
    "E124": "syntax error: an expression is missing its right-hand side",
    "E125": "syntax error: two expressions in a row: an operator or ',' is missing",
    "E126": "syntax error: a fn lists its outputs after '->' (write `fn train(x, y) -> cost`)",
    "E127": "syntax error: a hyperparameter needs a value (write `hyper lr = 0.1`)",
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
    "E210": "cannot import '{path}': {file}: {reason}",
    "E211": "'{name}' is not a block or def of {file}",
    "E212": "import cycle: {chain}",
    "E213": "cannot import '{path}': there is no file {file}",
    "E218": "unknown writer '{name}'",
    # arity and arguments (E3xx)
    "E300": "{callee} takes {expected} argument(s), got {got}",
    "E301": "missing argument '{name}' for {callee}",
    "E302": "argument '{name}' given twice",
    # a value that must be known at compile time
    "E303": "{what} must be an integer known at compile time, got {got}",
    "E304": "{what} must be known at compile time (a hyper, a static shape, a length), got {got}",
    "E305": "{what} must be a string known at compile time, got {got}",
    "E306": "{what} must be true or false, got {got}",
    # a compile-time number out of range, or a count that does not match
    "E307": "{what} must be at least {least}, got {got}",
    "E308": "range(n) makes at most {limit} items, got n = {got}",
    "E309": "hyper seed must be a whole number from 0 to 2**32 - 1, got {got}",
    "E310": "{what} gives {got} value(s) for {count} name(s)",
    "E311": "{what} gives {got} number(s) for {count} stage(s)",
    "E312": "{what} must be one integer or two [h, w], got {got} integers",
    "E313": '{what} must be an integer, two integers [h, w] or "same", got {got}',
    "E314": "glorot's pool must be two positive integers such as [2, 2], got {got}",
    # an argument of the wrong kind
    "E315": "{what} must be a function or block to be called, got {got}",
    "E317": "{what} must be a function declared with fn, got {got}",
    "E318": "{what} must be a function declared with fn, or functions in order (a list [f, g] or fn NAME[i] in a loop), got {got}",
    "E319": "{what} must be a tensor or a number, got {got}",
    "E320": "{what} must be a tensor, got {got}",
    "E321": "{what} must be a data field such as digits.x, got {got}",
    "E322": "{what} must be a dataset declared with data d = dataset(...), got {got}",
    "E323": "update must be given an update rule such as sgd(...) or `update NAME = expr`, got {got}",
    "E324": "run must be given a recipe call such as epochs(train, data = d)",
    "E325": "{what} must be a list, got {got}",
    "E326": "{what} must be a dtype such as f32 or i64, got {got}",
    "E327": "grad's wrt must be parameters or tensors the cost is computed from, not a constant",
    "E328": "{what} must be a number, got {got}",
    "E329": "{what} must be an integer, or a list of integers (one per stage), got {got}",
    "E336": "{what} must be a parameter or a state, got {got}",
    "E337": "fn input '{name}' must be a declared input, got {got}",
    # initial values of params and states
    "E340": "an initial value must be a number (~ draws a random one), got {got}",
    "E341": "a copied initial value must be a param or state of shape {shape}, got {got}",
    "E342": "{init} needs a parameter with at least 2 static dimensions, got {type}",
    "E343": "glorot's activation must be one of {names}, got {got}",
    "E344": "{init} takes no arguments (it reads fan_in from the parameter's shape), got {got}",
    "E345": "{init} takes one or two numbers, got {got}",
    "E346": "the shape of {kind} '{name}' must have static dimensions (it is allocated once), got {type}",
    # values fed per call from the run line, and writers
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
    "E407": "'{name}' cannot be updated: it is neither a param nor a state",
    "E408": "the cost does not depend on '{name}', so its gradient is undefined",
    "E409": "index out of range in {what}",
    "E410": "bad spec for {what}",
    "E411": "'{name}' is updated twice in one function",
    "E420": "{what} gives an integer beyond {limit}",
    # hyperparameters and overrides (E5xx)
    "E500": "bad override '{text}'",
    "E501": "override of '{name}' must be {expected}, got '{value}'",
    "E503": "--exclude names no rewrite '{name}'",
    "E504": "override '{text}' spans more than one line",
    "E505": "assertion failed: {message}",
    "E506": "hyper backend is '{name}', not a backend",
    # data (E6xx)
    "E601": "the {split} data for input '{name}' is {data}, the input is {type}",
    "E602": "the {split} labels for '{name}' span {low}..{high}, but '{name}' indexes a dimension of size {size}",
    "E603": "{path} lacks {names}",
    "E604": "{path}: '{name}' has shape {shape}, the model declares {declared}",
    "E605": "cannot read parameters from '{path}': {reason}",
    "E606": "{path}: '{name}' holds {dtype} values",
    "E607": "the chains of '{name}' are {shape}, but the {split} field '{field}' is {field_shape}",
    "E608": "the data field '{field}' fed whole to input '{name}' has shape {shape}, the input is {type}",
    "E609": "the {split} data for input '{name}' holds fractional values, the input is {type}",
    # data files and data sets that cannot be loaded (raised as DataError, located at the data declaration)
    "E610": "field '{field}' of split '{split}' in {source} holds {dtype} values, not numbers",
    "E611": "split '{split}' in {source} holds no examples",
    "E612": "the fields of split '{split}' in {source} have different numbers of examples ({found})",
    "E613": "data file '{path}' does not exist",
    "E614": "cannot read data file '{path}': {reason}",
    "E615": "'{path}' does not start with an IDX magic number",
    "E616": "the IDX header of '{path}' is truncated",
    "E617": "'{path}' holds {size} bytes of data where its header {shape} needs {expected}",
    "E618": "'{path}' holds no images (its header says {shape})",
    "E619": "'{images}' and '{labels}' are not an IDX image/label pair",
    "E620": "'{images}' has {image_count} images but '{labels}' has {label_count} labels",
    "E621": "'{directory}' has no file {file}[.gz]",
    "E622": "'{directory}' has only {count} training images",
    "E623": "cannot list data directory '{directory}': {reason}",
    "E624": "cannot find the labels file for '{images}'",
    "E625": "the pickle refers to '{name}', which a data file may not use",
    "E626": "cannot unpickle '{path}': {reason}",
    "E627": "'{path}' does not hold three splits",
    "E628": "split '{split}' of '{path}' is not a pair of arrays (x, y)",
    "E629": "split '{split}' of '{path}' has x of shape {x} and y of shape {y}",
    "E630": "cannot read '{path}' as .npz: {reason}",
    "E631": "'{path}' has no array 'train_x' (found: {found})",
    "E632": "array '{key}' in '{path}' is not named <split>_<field>",
    "E633": "Fashion-MNIST is not installed (no directory '{directory}')",
    "E634": "data set '{kind}' is read from a file and no file was given",
    "E635": "unknown option '{name}' for data set '{kind}'",
    "E636": "option '{name}' of data set '{kind}' must be a positive number, got {value}",
    "E637": "option '{name}' of data set '{kind}' must be a positive integer, got {value}",
    "E638": "option '{name}' of data set '{kind}' must be a non-negative integer, got {value}",
    "E639": "cannot tell the format of '{path}' from its name",
    "E640": "cannot limit the training set to {n} {what}",
    "E641": "cannot read MIDI file '{path}': {reason}",
    "E642": "the bach-chorales data set needs music21, which is not installed",
    "E643": "'{path}' holds no .mid or .midi file",
    # runs (E7xx)
    "E705": "training stopped: the first {kind} came from {what}",
    "E710": "'{path}' is damaged: {reason}",
    "E711": "'{path}' is damaged: it holds a {kind}, not an object",
    "E712": "'{path}' is damaged: its '{key}' is {value}, a value of the wrong kind",
    "E713": "'{path}' is damaged: its '{key}' is {value}, not one of {backends}",
    "E714": "'{path}' is damaged: its '{key}' is {value}, not a positive number",
    "E715": "'{path}' is damaged: its resume record cannot be read ({reason})",
    "E716": "'{path}' is damaged: its resume record is a {kind}, not an object",
    "E717": "'{path}' is damaged: its resume record's {key} is {value}, not a count",
    "E718": "'{path}' is damaged: its resume record's position, progress or generator state is not an object",
    "E719": "'{path}' is damaged: its generator state cannot be restored ({reason})",
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
    "E704": "cannot write '{path}': {reason}",
    # statements, defs and scan (E8xx)
    "E800": "'{statement}' is not allowed {where}",
    "E801": "cannot assign to this expression",
    "E802": "fn {fn} uses input '{name}' but does not list it",
    "E803": "def {name} calls itself without end",
    "E804": "def {name} ends without a return",
    "E805": "scan's step takes {takes} argument(s), but scan gives {sequences} sequence element(s) and {carried} carried value(s)",
    "E806": "scan's step returns {returns} value(s) but init gives {carried} carried value(s)",
    "E807": "division by zero in a compile-time expression",
    "E808": "scan's step must be a def, got {got}",
    "E809": "a sequence scanned over must have a leading time axis, got {type}",
    "E810": "scan's steps must be an integer or an integer scalar tensor, got {type}",
    # sweeps: symdl sweep (E72x)
    "E720": "bad search space entry '{text}'",
    "E721": "unknown distribution '{name}'",
    "E722": "{dist} takes {expected}, got {given}",
    "E723": "the range of '{name}' holds nothing: {range}",
    "E724": "'{name}' is given twice",
    "E750": "symdl sweep needs Ray Tune ({name} is not installed)",
    "E751": "nothing to sweep",
    "E752": "'{path}' already holds a sweep",
    "E753": "--resume continues a sweep with its own settings: {flags} cannot change them",
    "E754": "'{path}' is not a sweep directory",
    "E755": "{file} has no validation function to rank trials by",
    "E756": "cannot read search space '{path}': {reason}",
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


# Each code's hint, when a call site has nothing more specific to say.
DEFAULT_HINTS = {
    "E303": "use a whole number, a hyper or a static length (len(x), x.shape[0]); a tensor's value is known only when it runs",
    "E304": "a tensor's value is known only when it runs: for a tensor condition use switch(cond, a, b) or `a if cond else b`",
    "E305": 'write the string in quotes, e.g. "ij,jk->ik"',
    "E306": "write true or false",
    "E307": "a count, a size or a number of steps cannot be below this bound",
    "E308": "a compile-time loop unrolls every step into the graph: use scan for long loops",
    "E309": "use a whole number such as 1234",
    "E310": "give one name per value, or assign the whole value to one name",
    "E311": "give one number per stage, or a single number for all of them",
    "E312": "write one integer for both axes, or a list [h, w]",
    "E313": 'write one integer, a list [h, w], or "same" to keep the input\'s size',
    "E314": "write the pooling layer's size, e.g. pool = [2, 2]",
    "E315": "only a def, a block, a builtin or a library function can be called",
    "E317": "declare the function with `fn NAME(inputs) -> outputs` and pass its name",
    "E318": "declare each function with `fn NAME(inputs) -> outputs` and pass a name or a list of names",
    "E319": "an operator works on tensors and numbers: call the function or take the value out first",
    "E320": "pass a param, a state, an input or an expression of them",
    "E321": "name a dataset's field, e.g. digits.x or digits.y",
    "E322": 'declare the data set with `data d = dataset("...")` and pass d',
    "E323": "call an update rule from std/optim.sdl (sgd, momentum, adam...) or write `update NAME = expr`",
    "E324": "run a recipe: epochs, early_stopping, layerwise, sequences, sample_chains or mcmc",
    "E325": "write a list in brackets, e.g. [a, b], or use range(n)",
    "E326": "name a dtype: f32, f64, i32, i64, u8 or bool",
    "E327": "take the gradient with respect to params (or tensors computed from them), not a constant",
    "E328": "write a number or a hyper",
    "E329": "write an integer, or one integer per stage, e.g. [15, 15]",
    "E336": "pass the name of a param or state",
    "E337": "list the fn's inputs by the names declared with `input`",
    "E340": "write a number, a param or state to copy, or `~ uniform(...)` / `~ normal(...)` for a random draw",
    "E341": "copy a param or state of the same shape, or give a number",
    "E342": "glorot, he and lecun read fan_in and fan_out from a matrix or a conv filter: use uniform or normal for a vector",
    "E343": "name the layer's activation, or none for a linear layer",
    "E344": "remove the arguments",
    "E345": "uniform(b) draws from [-b, b], uniform(low, high); normal(std), normal(mean, std)",
    "E346": "replace ? by a number or a hyper; an input may have ? dimensions",
    "E808": "write the step as `def step(...) = ...` and pass its name",
    "E809": "scan walks the first axis of each sequence: pass tensors of at least one dimension",
    "E810": "give a number of steps, or an i32/i64 scalar",
    "E407": "only a param or a state (declared with `param` or `state`) can be updated",
    "E411": "a function updates each param or state once: combine the two updates into one expression",
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
