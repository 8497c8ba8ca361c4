"""The abstract syntax tree: frozen dataclasses, one per grammar alias, each with a span.

The AST is syntax only: names are not resolved and nothing is typed here.
"""

from __future__ import annotations

from dataclasses import dataclass

from symdl.diagnostics.errors import Span


@dataclass(frozen=True, slots=True)
class Node:
    span: Span


# ---- expressions -------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Name(Node):
    id: str


@dataclass(frozen=True, slots=True)
class Literal(Node):
    """A number, string, boolean, `none` or dtype (`f32`) written in the text."""

    value: object


@dataclass(frozen=True, slots=True)
class DtypeLit(Node):
    dtype: str


@dataclass(frozen=True, slots=True)
class ListLit(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Unary(Node):
    op: str  # neg | not_
    operand: Node


@dataclass(frozen=True, slots=True)
class Binary(Node):
    op: str  # add sub mul div floordiv mod matmul pow eq ne lt le gt ge and_ or_
    left: Node
    right: Node


@dataclass(frozen=True, slots=True)
class Conditional(Node):
    test: Node
    then: Node
    orelse: Node


@dataclass(frozen=True, slots=True)
class Keyword(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class Call(Node):
    func: Node
    args: tuple[Node, ...]
    kwargs: tuple[Keyword, ...]


@dataclass(frozen=True, slots=True)
class Slice(Node):
    lower: Node | None
    upper: Node | None
    step: Node | None


@dataclass(frozen=True, slots=True)
class Index(Node):
    value: Node
    subscripts: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Attr(Node):
    value: Node
    name: str


# ---- declarations and statements ----------------------------------------------


@dataclass(frozen=True, slots=True)
class TypeExpr(Node):
    """`f32[batch, n_in]`; a dimension of None is `?`, known only at run time."""

    dtype: str
    dims: tuple[Node | None, ...]


@dataclass(frozen=True, slots=True)
class LikeType(Node):
    """`like(p)`: the dtype and shape of another tensor (per-parameter state of an optimizer)."""

    value: Node


@dataclass(frozen=True, slots=True)
class Init(Node):
    """`= expr` (a value) or `~ expr` (a random initialiser)."""

    random: bool
    value: Node


@dataclass(frozen=True, slots=True)
class ModelDecl(Node):
    name: str


@dataclass(frozen=True, slots=True)
class Import(Node):
    path: Literal  # the string as written, with its own span for errors about the file
    names: tuple[Name, ...]


@dataclass(frozen=True, slots=True)
class HyperItem(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class Hyper(Node):
    items: tuple[HyperItem, ...]


@dataclass(frozen=True, slots=True)
class DataDecl(Node):
    name: str
    value: Node


@dataclass(frozen=True, slots=True)
class InputDecl(Node):
    name: str
    type: TypeExpr


@dataclass(frozen=True, slots=True)
class VarDecl(Node):
    """`param` (learned) or `state` (updated, never learned)."""

    kind: str
    name: str
    type: TypeExpr | LikeType
    init: Init | None


@dataclass(frozen=True, slots=True)
class Param(Node):
    name: str
    default: Node | None


@dataclass(frozen=True, slots=True)
class Def(Node):
    """`def f(a) = expr` (body is an expression) or `def f(a):` with statements."""

    name: str
    params: tuple[Param, ...]
    body: Node | tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class BlockDecl(Node):
    name: str
    params: tuple[Param, ...]
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Output(Node):
    value: Node
    alias: str | None


@dataclass(frozen=True, slots=True)
class FnDecl(Node):
    name: str
    inputs: tuple[Name, ...]
    outputs: tuple[Output, ...]
    body: tuple[Node, ...]
    index: Node | None = None  # `fn pretrain[i](x) -> ...` in a loop: one function per layer


@dataclass(frozen=True, slots=True)
class Update(Node):
    """`update target = value`, or `update rule(...)` when target is None."""

    target: Node | None
    value: Node


@dataclass(frozen=True, slots=True)
class Run(Node):
    recipe: Node


@dataclass(frozen=True, slots=True)
class If(Node):
    branches: tuple[tuple[Node, tuple[Node, ...]], ...]
    orelse: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class For(Node):
    names: tuple[Name, ...]
    iterable: Node
    body: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Return(Node):
    values: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Assert(Node):
    """`assert COND, "message"`: a compile-time check, an error at the assert when COND is false."""

    test: Node
    message: str


@dataclass(frozen=True, slots=True)
class Assign(Node):
    targets: tuple[Node, ...]
    value: Node


@dataclass(frozen=True, slots=True)
class ExprStmt(Node):
    value: Node


@dataclass(frozen=True, slots=True)
class Module(Node):
    body: tuple[Node, ...]


def dump(node: object, indent: int = 0) -> str:
    """The AST as indented text, spans as line:col (what `--emit ast` prints)."""
    pad = "  " * indent
    if isinstance(node, Node):
        fields = [f for f in node.__slots__ if f != "span"]  # type: ignore[attr-defined]
        head = f"{pad}{type(node).__name__} @{node.span.line}:{node.span.column}"
        simple = [f"{f}={getattr(node, f)!r}" for f in fields if not _is_tree(getattr(node, f))]
        lines = [head + (" " + " ".join(simple) if simple else "")]
        for f in fields:
            value = getattr(node, f)
            if _is_tree(value):
                lines.append(f"{pad}  {f}:")
                lines.append(dump(value, indent + 2))
        return "\n".join(lines)
    if isinstance(node, tuple):
        return "\n".join(dump(item, indent) for item in node) or f"{pad}()"
    return f"{pad}{node!r}"


def _is_tree(value: object) -> bool:
    return isinstance(value, Node) or (isinstance(value, tuple) and any(_is_tree(v) for v in value))
