"""IR nodes and the program they form.

A `Node` is immutable: rewrites build new nodes. Nodes compare by identity;
passes that need structural equality (CSE) build their own keys.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from symdl.diagnostics.errors import Span
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType


@dataclass(frozen=True, slots=True, eq=False)
class Node:
    op: str
    inputs: tuple[Node, ...]
    attrs: tuple[tuple[str, object], ...]
    type: TensorType
    span: Span | None = field(default=None, repr=False)

    def attr(self, key: str, default: object = None) -> object:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @property
    def name(self) -> str:
        return str(self.attr("name", ""))

    @property
    def is_leaf(self) -> bool:
        return OPS[self.op].is_leaf

    def with_inputs(self, inputs: tuple[Node, ...]) -> Node:
        return self if inputs == self.inputs else replace(self, inputs=inputs)


@dataclass(frozen=True, slots=True, eq=False)
class ScanBody:
    """A scan's step as a graph from `args` (sequence elements, then carried values) to `outputs`
    (values not fed back, then the next carried values in the order of `init`).

    The outer nodes the step reads are the scan node's closure inputs, used in the body as they are.
    """

    args: tuple[Node, ...]
    outputs: tuple[Node, ...]
    n_seqs: int
    n_carried: int

    def __str__(self) -> str:
        return f"<step of {len(self.args)} args, {len(self.outputs)} outputs>"

    def nodes(self, outer: tuple[Node, ...]) -> list[Node]:
        """The body's own nodes, inputs first (args and the scan's inputs `outer` not followed)."""
        fixed = {id(n) for n in (*self.args, *outer)}
        return [n for n in toposort(self.outputs, stop=lambda n: id(n) in fixed) if id(n) not in fixed]


@dataclass(frozen=True, slots=True)
class Init:
    """How a parameter or state starts: `constant`, `uniform`, `normal`, `copy` (of another's initial value)."""

    kind: str
    args: tuple[object, ...] = ()

    def __str__(self) -> str:
        if self.kind in ("constant", "copy"):  # copy: another param or state's initial value
            return f"= {self.args[0]}"
        return f"~ {self.kind}({', '.join(_fmt(a) for a in self.args)})"


def _fmt(value: object) -> str:
    return f"{value:.6g}" if isinstance(value, float) else str(value)


@dataclass(frozen=True, slots=True)
class Function:
    """A compiled function: named inputs, named outputs, and updates of params and state."""

    name: str
    inputs: tuple[Node, ...]
    outputs: tuple[tuple[str, Node], ...]
    updates: tuple[tuple[Node, Node], ...]
    span: Span | None = field(default=None, repr=False)

    def roots(self) -> list[Node]:
        return [n for _, n in self.outputs] + [u for _, u in self.updates]


@dataclass(frozen=True, slots=True)
class RecipeCall:
    """One `run` statement, checked against its recipe's signature (`symdl/ir/recipes.py`): every
    parameter's IR-level value (defaults filled), the model inputs it binds to data fields, the scalar
    inputs it feeds per call (an expression of hypers, `step` and `epoch`: `ir.recipes.feed_value`), and
    where each value was written (for errors found when the data loads)."""

    name: str
    values: tuple[tuple[str, object], ...]
    binds: tuple[tuple[str, str], ...] = ()
    span: Span | None = field(default=None, repr=False)
    spans: tuple[tuple[str, Span], ...] = field(default=(), repr=False, compare=False)
    feeds: tuple[tuple[str, Node], ...] = ()

    def value(self, name: str) -> object:
        return dict(self.values).get(name)

    def span_of(self, name: str) -> Span | None:
        """Where the argument `name` was written, or the `run` line when it took its default."""
        return dict(self.spans).get(name, self.span)


@dataclass(frozen=True, slots=True)
class DataSpec:
    """One `data` declaration: a dataset kind (or a path) and its options."""

    name: str
    kind: str
    options: tuple[tuple[str, object], ...]
    span: Span | None = field(default=None, repr=False)


@dataclass(frozen=True, slots=True)
class Program:
    """The elaborated model: leaves, named definitions, functions, data and recipes."""

    name: str
    hypers: tuple[tuple[str, object], ...]
    inputs: tuple[Node, ...]
    params: tuple[Node, ...]
    states: tuple[Node, ...]
    definitions: tuple[tuple[str, Node], ...]
    functions: tuple[Function, ...]
    data: tuple[DataSpec, ...] = ()
    recipes: tuple[RecipeCall, ...] = ()
    source: str = ""
    warnings: tuple = ()  # UserErrors of severity "warning", printed by the CLI

    def function(self, name: str) -> Function:
        for f in self.functions:
            if f.name == name:
                return f
        raise KeyError(name)

    def roots(self) -> list[Node]:
        return [n for _, n in self.definitions] + [r for f in self.functions for r in f.roots()]


def toposort(roots: Iterable[Node], stop=None) -> list[Node]:
    """Every node reachable from `roots`, inputs before users, without recursion.

    `stop(node)` true: the node is listed but its inputs are not followed."""
    order: list[Node] = []
    seen: set[int] = set()
    for root in roots:
        stack: list[tuple[Node, bool]] = [(root, False)]
        while stack:
            node, expanded = stack.pop()
            if id(node) in seen:
                continue
            if expanded:
                seen.add(id(node))
                order.append(node)
                continue
            stack.append((node, True))
            if stop is None or not stop(node):
                stack.extend((i, False) for i in reversed(node.inputs) if id(i) not in seen)
    return order


def substitute(root: Node, replacements: dict[int, Node]) -> Node:
    """`root` with every node whose id is in `replacements` replaced (the rest, scan bodies too, rebuilt as needed)."""
    return rebuild_graph([root], lambda node: node, dict(replacements))[0]


def rebuild_graph(roots: list[Node], rewrite, memo: dict[int, Node]) -> list[Node]:
    """Rewrite the graph under `roots` into `memo` (id -> new node); nodes already in `memo` are kept."""
    for node in toposort(roots, stop=lambda n: id(n) in memo):
        if id(node) not in memo:
            inputs = tuple(memo[id(i)] for i in node.inputs)
            memo[id(node)] = rewrite(_rebuild_scan(node, inputs, rewrite) if node.op == "scan" else node.with_inputs(inputs))
    return [memo[id(r)] for r in roots]


def _rebuild_scan(node: Node, inputs: tuple[Node, ...], rewrite) -> Node:
    """A scan with new inputs: its body sees the new closure and is rewritten too."""
    body: ScanBody = node.attr("body")
    memo = {id(a): a for a in body.args} | {id(old): new for old, new in zip(node.inputs, inputs)}
    outputs = tuple(rebuild_graph(list(body.outputs), rewrite, memo))
    if outputs == body.outputs:
        return node.with_inputs(inputs)
    attrs = tuple((k, replace(body, outputs=outputs) if k == "body" else v) for k, v in node.attrs)
    return replace(node, inputs=inputs, attrs=attrs)


def rebuild(program: Program, rewrite) -> Program:
    """Apply `rewrite(node) -> node` bottom-up to every node of `program` (scan bodies too), sharing results."""
    memo: dict[int, Node] = {}
    rebuild_graph(program.roots() + list(program.params) + list(program.states) + list(program.inputs), rewrite, memo)

    def get(node: Node) -> Node:
        return memo[id(node)]

    def fn(f: Function) -> Function:
        return replace(
            f,
            inputs=tuple(get(i) for i in f.inputs),
            outputs=tuple((n, get(o)) for n, o in f.outputs),
            updates=tuple((get(t), get(u)) for t, u in f.updates),
        )

    return replace(
        program,
        inputs=tuple(get(n) for n in program.inputs),
        params=tuple(get(n) for n in program.params),
        states=tuple(get(n) for n in program.states),
        definitions=tuple((k, get(n)) for k, n in program.definitions),
        functions=tuple(fn(f) for f in program.functions),
    )
