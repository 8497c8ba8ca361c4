"""Compile-time values: what a name can stand for while a model is elaborated.

Numbers, strings, booleans and lists are plain Python values; tensors are IR nodes;
the rest (functions, blocks, instances, parameter sets, data) are the classes here.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdl.diagnostics.errors import Span
from symdl.ir.nodes import DataSpec, Node
from symdl.syntax import ast as A


@dataclass(frozen=True)
class Builtin:
    """A function of the language (tanh, sum, grad, sgd, ...), callable and passable."""

    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class DefValue:
    decl: A.Def
    scope: Scope

    def __str__(self) -> str:
        return self.decl.name


@dataclass(frozen=True)
class BlockValue:
    decl: A.BlockDecl
    scope: Scope

    def __str__(self) -> str:
        return self.decl.name


@dataclass
class Instance:
    """One instantiated block: its path (`hidden`), its members and what it returned."""

    path: str
    members: dict[str, object]
    result: object
    params: tuple[Node, ...]


@dataclass(frozen=True)
class ParamSet:
    """Parameters to differentiate against: `params`, `NAME.params` or a list."""

    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Grads:
    """The result of `grad(cost, wrt)` for several parameters: (param, gradient) pairs."""

    pairs: tuple[tuple[Node, Node], ...]


@dataclass(frozen=True)
class DataValue:
    spec: DataSpec


@dataclass(frozen=True)
class DataField:
    data: str
    field: str


@dataclass(frozen=True)
class FnRef:
    name: str


@dataclass(frozen=True)
class Dtype:
    name: str


@dataclass(frozen=True)
class InitSpec:
    kind: str
    args: tuple[object, ...]


@dataclass
class Collection:
    """Values assigned by index in a compile-time loop (`layer[i] = dense(...)`)."""

    name: str
    items: dict[object, object] = field(default_factory=dict)


@dataclass
class Scope:
    """Names visible at a point: this scope's bindings, then its parent's."""

    names: dict[str, object] = field(default_factory=dict)
    spans: dict[str, Span] = field(default_factory=dict)
    parent: Scope | None = None
    prefix: str = ""  # the instance path parameters declared here are named under

    def lookup(self, name: str) -> object:
        scope: Scope | None = self
        while scope is not None:
            if name in scope.names:
                return scope.names[name]
            scope = scope.parent
        raise KeyError(name)

    def visible(self) -> set[str]:
        out: set[str] = set()
        scope: Scope | None = self
        while scope is not None:
            out |= set(scope.names)
            scope = scope.parent
        return out

    def child(self, prefix: str | None = None) -> Scope:
        return Scope(parent=self, prefix=self.prefix if prefix is None else prefix)


def as_list(value: object) -> object:
    """What a compile-time loop iterates: a parameter set in declaration order, gradients as (param, gradient) pairs."""
    if isinstance(value, ParamSet):
        return value.nodes
    if isinstance(value, Grads):
        return value.pairs
    return value


def is_plain(value: object) -> bool:
    """A compile-time value compared by `==` in Python: a number, string, none or a list of them."""
    if isinstance(value, tuple):
        return all(is_plain(v) for v in value)
    return value is None or isinstance(value, (int, float, bool, str))


def kind_of(value: object) -> str:
    """A word for a value's kind, for error messages."""
    if isinstance(value, Node):
        return f"a tensor {value.type}"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, tuple):
        return "a list"
    return {
        Builtin: "a function",
        DefValue: "a function",
        BlockValue: "a block",
        Instance: "a block instance",
        ParamSet: "a set of parameters",
        Grads: "gradients",
        DataValue: "a dataset",
        FnRef: "a compiled function",
        Dtype: "a dtype",
        Collection: "an indexed collection",
    }.get(type(value), type(value).__name__)


class ReturnSignal(Exception):
    """`return` inside a def or block body: unwinds to the call that expanded it, carrying the value."""

    def __init__(self, value: object) -> None:
        self.value = value
