"""Text to AST: Lark parses with the grammar in `grammar/symdl.lark`, a transformer builds the AST.

Syntax errors are classified by example (`SYNTAX_EXAMPLES`): each known-bad snippet
maps to the catalog code of the sentence a person should read; the same table is a test fixture.
"""

from __future__ import annotations

import functools
from importlib import resources
from pathlib import Path

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken, VisitError
from lark.indenter import DedentError, Indenter

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span, split_lines
from symdl.syntax import ast as A
from symdl.syntax.limits import check_depth, check_size, int_literal


class _Indenter(Indenter):
    NL_type = "_NL"
    OPEN_PAREN_types = ["LPAR", "LSQB"]
    CLOSE_PAREN_types = ["RPAR", "RSQB"]
    INDENT_type = "_INDENT"
    DEDENT_type = "_DEDENT"
    tab_len = 8


def grammar_text() -> str:
    """The grammar: from the installed package, else from the source tree's `grammar/`."""
    packaged = resources.files("symdl").joinpath("grammar/symdl.lark")
    if packaged.is_file():
        return packaged.read_text(encoding="utf-8")
    return (Path(__file__).resolve().parents[2] / "grammar" / "symdl.lark").read_text(encoding="utf-8")


@functools.cache
def _lark() -> Lark:
    return Lark(grammar_text(), parser="lalr", postlex=_Indenter(), propagate_positions=True, maybe_placeholders=True)


# Known-bad snippets by the catalog code whose sentence a person should read for each (Lark's match_examples).
SYNTAX_EXAMPLES: dict[str, list[str]] = {
    "E120": ["input x f32[3]\n", "param W f32[3]\n"],
    "E121": ["input x: [3]\n", "param W: float[3]\n"],
    "E122": ["x = f(a, b\n", "x = a[1, 2\n"],
    "E123": [
        "block dense(x)\n    return x\n",
        "if a\n    b = 1\n",
        "def f(x)\n    return x\n",
    ],
    "E124": ["x = a +\n", "x = \n", "x = a *\n"],
    "E125": ["x = a b\n", "x = f(a b)\n"],
    "E126": [
        "fn train(x, y) cost\n",
        "fn train(x, y):\n    update sgd(c, params, 1)\n",
    ],
    "E127": ["hyper lr\n", "hyper lr, n = 3\n"],
}


def parse(source: Source) -> A.Module:
    """Parse one source text into its AST, or raise a UserError at the offending place."""
    check_size(source)
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    try:
        tree = _lark().parse(text)
        check_depth(tree, source)
        return _ToAst(source).transform(tree)
    except UnexpectedInput as err:
        _syntax_error(source, err)
    except DedentError:
        line = _dedent_line(source.text)
        fail("E102", Span.whole_line(source, line), hint="indent each line of a block by the same amount")
    except VisitError as err:
        raise err.orig_exc from None


def _syntax_error(source: Source, err: UnexpectedInput) -> None:
    _unclosed_bracket(source, err)
    _unexpected_indent(source, err)
    line, column = max(err.line, 1), max(err.column, 1)
    text = source.line(line)
    if isinstance(err, UnexpectedEOF) or line > len(source.lines):
        line, column = max(len(source.lines), 1), len(source.line(max(len(source.lines), 1))) + 1
    span = Span(source, line, column, line, column + max(1, _token_width(err, text, column)))
    if isinstance(err, UnexpectedCharacters):
        fail("E101", span, hint=_hint(err), char=repr(err.char))
    code = _classify(err) or _classify_line(text.strip())
    if code:
        fail(code, span, hint=_hint(err))
    fail("E100", span, hint=_hint(err), token=_unexpected(err))


_OPENERS, _CLOSERS = "([", ")]"
_HEADERS = ("fn ", "def ", "block ", "if ", "elif ", "for ", "else")


def _unclosed_bracket(source: Source, err: UnexpectedInput) -> None:
    """A bracket left open swallows the lines after it: report the bracket, not where the parser gave up."""
    stack: list[tuple[int, int, str]] = []
    for number, text in enumerate(source.lines[: max(err.line, 1)], 1):
        quote = None
        for col, ch in enumerate(text, 1):
            if number == err.line and col >= err.column:
                break
            if quote:
                quote = None if ch == quote else quote
            elif ch in "\"'":
                quote = ch
            elif ch == "#":
                break
            elif ch in _OPENERS:
                stack.append((number, col, ch))
            elif ch in _CLOSERS and stack:
                stack.pop()
    if stack and stack[-1][0] < err.line:
        number, col, ch = stack[-1]
        closer = _CLOSERS[_OPENERS.index(ch)]
        fail(
            "E105",
            Span(source, number, col, number, col + 1),
            bracket=ch,
            hint=f"close it with '{closer}' (the lines after it were read as part of the same expression)",
        )


def _unexpected_indent(source: Source, err: UnexpectedInput) -> None:
    """An indented line where no block starts: E102 at that line, with the likely cause."""
    token = getattr(err, "token", None)
    if not (isinstance(token, Token) and token.type == "_INDENT"):
        return
    lines = source.lines
    number = next((n for n in range(err.line + 1, len(lines) + 1) if lines[n - 1].strip()), err.line)
    before = source.line(err.line).split("#")[0].rstrip()
    if before.lstrip().startswith(_HEADERS) and not before.endswith(":"):
        hint = f"end line {err.line} with ':' to start a block there"
    else:
        hint = "indent a line only inside a block (after a line ending in ':'), by the block's amount"
    fail("E103", Span.whole_line(source, number), hint=hint)


def _classify(err: UnexpectedInput) -> str:
    try:
        return err.match_examples(_lark().parse, SYNTAX_EXAMPLES, use_accepts=True) or ""
    except Exception:  # an example that does not fail in the same state proves nothing
        return ""


def _classify_line(line: str) -> str:
    """Classify by the offending line alone: the examples are written as first lines of a file."""
    try:
        _lark().parse(line + "\n")
    except UnexpectedInput as err:
        return "" if isinstance(err, UnexpectedCharacters) else _classify(err)
    except Exception:  # an indentation error or the like: no example applies
        return ""
    return ""


def _unexpected(err: UnexpectedInput) -> str:
    """The token the parser did not expect, as a person names it."""
    if isinstance(err, UnexpectedToken):
        return "end of line" if err.token.type == "_NL" else repr(str(err.token))
    return "end of file"


def _hint(err: UnexpectedInput) -> str:
    expected = sorted(getattr(err, "expected", None) or getattr(err, "allowed", None) or [])
    shown = list(dict.fromkeys(_TOKEN_NAMES.get(t, f"'{t.lower()}'") for t in expected if not t.startswith("__")))
    return f"expected one of: {', '.join(shown[:8])}" if shown else ""


_TOKEN_NAMES = {
    "NAME": "a name",
    "INT": "a number",
    "FLOAT": "a number",
    "STRING": "a string",
    "DTYPE": "a dtype",
    "COLON": "':'",
    "LPAR": "'('",
    "RPAR": "')'",
    "LSQB": "'['",
    "RSQB": "']'",
    "COMMA": "','",
    "EQUAL": "'='",
    "_NL": "end of line",
    "_INDENT": "an indented block",
    "_DEDENT": "end of block",
    "MINUS": "'-'",
    "PLUS": "'+'",
    "STAR": "'*'",
    "SLASH": "'/'",
    "AT": "'@'",
    "DOT": "'.'",
    "TILDE": "'~'",
    "LESSTHAN": "'<'",
    "MORETHAN": "'>'",
    "PERCENT": "'%'",
    "$END": "end of file",
}


def _token_width(err: UnexpectedInput, text: str, column: int) -> int:
    token = getattr(err, "token", None)
    if isinstance(token, Token) and token.type != "_NL" and token.value:
        return len(split_lines(str(token.value))[0] or " ")
    return 1


def _dedent_line(text: str) -> int:
    """The first line whose indentation matches no enclosing block."""
    stack = [0]
    for number, line in enumerate(split_lines(text), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        width = len(line) - len(line.lstrip())
        if width > stack[-1]:
            stack.append(width)
        while width < stack[-1]:
            stack.pop()
        if width != stack[-1]:
            return number
    return 1


def _binary(op: str):
    """The transformer method for one binary operator alias."""

    def build(self, meta, c):
        return A.Binary(self._span(meta), op, c[0], c[1])

    return build


@v_args(meta=True)
class _ToAst(Transformer):
    """Parse tree to AST; each method is one grammar alias."""

    def __init__(self, source: Source) -> None:
        super().__init__()
        self.source = source

    def _span(self, meta: object) -> Span:
        if getattr(meta, "empty", True):
            return Span(self.source, 1, 1, 1, 2)
        return Span(self.source, meta.line, meta.column, meta.end_line, meta.end_column)  # type: ignore[attr-defined]

    def _tok_span(self, tok: Token) -> Span:
        return Span(self.source, tok.line, tok.column, tok.end_line, tok.end_column)

    # -- module and statements
    def start(self, meta, children):
        return A.Module(self._span(meta), tuple(c for c in children if isinstance(c, A.Node)))

    def suite(self, meta, children):
        return tuple(children)

    def model_stmt(self, meta, c):
        return A.ModelDecl(self._span(meta), str(c[0]))

    def import_stmt(self, meta, c):
        path = A.Literal(self._tok_span(c[0]), c[0].value[1:-1])
        return A.Import(self._span(meta), path, tuple(A.Name(self._tok_span(n), str(n)) for n in c[1:]))

    def hyper_item(self, meta, c):
        return A.HyperItem(self._span(meta), str(c[0]), c[1])

    def hyper_stmt(self, meta, c):
        return A.Hyper(self._span(meta), tuple(c))

    def data_stmt(self, meta, c):
        return A.DataDecl(self._span(meta), str(c[0]), c[1])

    def input_stmt(self, meta, c):
        return A.InputDecl(self._span(meta), str(c[0]), c[1])

    def param_stmt(self, meta, c):
        return A.VarDecl(self._span(meta), "param", str(c[0]), c[1], c[2])

    def state_stmt(self, meta, c):
        return A.VarDecl(self._span(meta), "state", str(c[0]), c[1], c[2])

    def init_value(self, meta, c):
        return A.Init(self._span(meta), False, c[0])

    def init_random(self, meta, c):
        return A.Init(self._span(meta), True, c[0])

    def type(self, meta, c):
        dims = tuple(d for d in c[1:] if d is not _ABSENT) if len(c) > 1 else ()
        return A.TypeExpr(self._span(meta), str(c[0]), tuple(None if d is _UNKNOWN else d for d in dims))

    def like_type(self, meta, c):
        return A.LikeType(self._span(meta), c[0])

    def dim(self, meta, c):
        return c[0]

    def unknown_dim(self, meta, c):
        return _UNKNOWN

    def params(self, meta, c):
        return tuple(c)

    def param(self, meta, c):
        return A.Param(self._span(meta), str(c[0]), c[1])

    def def_expr(self, meta, c):
        return A.Def(self._span(meta), str(c[0]), c[1] or (), c[2])

    def def_body(self, meta, c):
        return A.Def(self._span(meta), str(c[0]), c[1] or (), c[2])

    def block_stmt(self, meta, c):
        return A.BlockDecl(self._span(meta), str(c[0]), c[1] or (), c[2])

    def names(self, meta, c):
        return tuple(A.Name(self._tok_span(t), str(t)) for t in c)

    def outputs(self, meta, c):
        return tuple(c)

    def output(self, meta, c):
        return A.Output(self._span(meta), c[0], str(c[1]) if c[1] is not None else None)

    def fn_stmt(self, meta, c):
        body = c[4] if len(c) > 4 and isinstance(c[4], tuple) else ()
        return A.FnDecl(self._span(meta), str(c[0]), c[2] or (), c[3], body, c[1])

    def update_stmt(self, meta, c):
        if c[1] is None:
            return A.Update(self._span(meta), None, c[0])
        return A.Update(self._span(meta), c[0], c[1])

    def run_stmt(self, meta, c):
        return A.Run(self._span(meta), c[0])

    def if_stmt(self, meta, c):
        branches = [(c[0], c[1])] + [b for b in c[2:-1]]
        return A.If(self._span(meta), tuple(branches), c[-1] or ())

    def elif_clause(self, meta, c):
        return (c[0], c[1])

    def else_clause(self, meta, c):
        return c[0]

    def for_stmt(self, meta, c):
        return A.For(self._span(meta), c[0], c[1], c[2])

    def return_stmt(self, meta, c):
        return A.Return(self._span(meta), c[0])

    def assert_stmt(self, meta, c):
        return A.Assert(self._span(meta), c[0], "" if c[1] is None else str(c[1])[1:-1])

    def assign_stmt(self, meta, c):
        return A.Assign(self._span(meta), c[0], c[1])

    def expr_stmt(self, meta, c):
        return A.ExprStmt(self._span(meta), c[0])

    def exprlist(self, meta, c):
        return tuple(c)

    # -- expressions
    def conditional(self, meta, c):
        return A.Conditional(self._span(meta), c[1], c[0], c[2])

    add, sub, mul, div, floordiv = (_binary(o) for o in ("add", "sub", "mul", "div", "floordiv"))
    mod, matmul, pow, and_, or_ = (_binary(o) for o in ("mod", "matmul", "pow", "and_", "or_"))
    eq, ne, lt, le, gt, ge = (_binary(o) for o in ("eq", "ne", "lt", "le", "gt", "ge"))

    def neg(self, meta, c):
        return A.Unary(self._span(meta), "neg", c[0])

    def not_(self, meta, c):
        return A.Unary(self._span(meta), "not_", c[0])

    def call(self, meta, c):
        args = c[1] or ()
        return A.Call(
            self._span(meta),
            c[0],
            tuple(a for a in args if not isinstance(a, A.Keyword)),
            tuple(a for a in args if isinstance(a, A.Keyword)),
        )

    def args(self, meta, c):
        return tuple(c)

    def kwarg(self, meta, c):
        return A.Keyword(self._span(meta), str(c[0]), c[1])

    def index(self, meta, c):
        return A.Index(self._span(meta), c[0], tuple(c[1:]))

    def slice(self, meta, c):
        return A.Slice(self._span(meta), c[0], c[1], c[2])

    def attr(self, meta, c):
        return A.Attr(self._span(meta), c[0], str(c[1]))

    def name(self, meta, c):
        return A.Name(self._span(meta), str(c[0]))

    def int_lit(self, meta, c):
        return A.Literal(self._span(meta), int_literal(str(c[0]), self._span(meta)))

    def float_lit(self, meta, c):
        return A.Literal(self._span(meta), float(c[0]))

    def str_lit(self, meta, c):
        return A.Literal(self._span(meta), str(c[0])[1:-1])

    def true_lit(self, meta, c):
        return A.Literal(self._span(meta), True)

    def false_lit(self, meta, c):
        return A.Literal(self._span(meta), False)

    def none_lit(self, meta, c):
        return A.Literal(self._span(meta), None)

    def dtype_lit(self, meta, c):
        return A.DtypeLit(self._span(meta), str(c[0]))

    def list_lit(self, meta, c):
        return A.ListLit(self._span(meta), c[0] or ())


_UNKNOWN = object()
_ABSENT = None
