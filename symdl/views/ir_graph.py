"""The IR of a program's functions as a graphviz digraph.

Inputs and parameters/state sit in their own clusters; each function is a cluster holding
the nodes only it uses and its outputs; nodes several functions share are drawn once,
outside any function. Update edges run from a new value back to its parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import graphviz

from symdl.ir.nodes import Function, Node, Program, toposort
from symdl.views import style

# Operator name -> (the body's results, the body's own nodes), drawn as a cluster beside the node.
BODIES: dict[str, Callable[[Node], tuple[Sequence[Node], Sequence[Node]]]] = {
    "scan": lambda node: (node.attr("body").outputs, [*node.attr("body").args, *node.attr("body").nodes(node.inputs)]),
}

# Names of an operator's operands, shown on its incoming edges (the last one repeats).
OPERAND_NAMES = {"grad": ("cost", "wrt", "const")}


@dataclass(frozen=True)
class Drawing:
    """A digraph and how many nodes it draws (what `symdl graph` reports)."""

    graph: graphviz.Digraph
    nodes: int


def draw_program(program: Program, functions: Sequence[Function], produced: frozenset[int] = frozenset(), title: str = "") -> Drawing:
    """Draw `functions` of `program`; nodes whose `id()` is in `produced` are highlighted."""
    return _IRDrawer(program, produced).draw(functions, title or program.name)


class _IRDrawer:
    def __init__(self, program: Program, produced: frozenset[int]) -> None:
        self.names = {id(n): name for name, n in program.definitions}
        self.produced = produced
        self.keys: dict[int, str] = {}
        self.edges: list[tuple[str, str, dict]] = []
        self.count = 0

    def draw(self, functions: Sequence[Function], title: str) -> Drawing:
        g = style.digraph(title)
        reach = {f.name: toposort([*f.roots(), *f.inputs, *(t for t, _ in f.updates)]) for f in functions}
        users: dict[int, set[str]] = {}
        for name, nodes in reach.items():
            for n in nodes:
                users.setdefault(id(n), set()).add(name)
        order = list({id(n): n for nodes in reach.values() for n in nodes}.values())
        self._cluster(g, "inputs", [n for n in order if n.op == "input"])
        self._cluster(g, "leaves", [n for n in order if n.op in ("param", "state")])
        for f in functions:
            with g.subgraph(name=f"cluster_fn_{f.name}", graph_attr={**style.CLUSTER["fn"], "label": _signature(f)}) as c:
                for n in order:
                    if not _is_leaf_kind(n) and users[id(n)] == {f.name}:
                        self._node(c, n)
                self._ends(c, f)
        for n in order:
            if not _is_leaf_kind(n) and len(users[id(n)]) > 1:
                self._node(g, n)
        for tail, head, attrs in self.edges:
            g.edge(tail, head, **attrs)
        return Drawing(g, self.count)

    def _cluster(self, g: graphviz.Digraph, kind: str, nodes: list[Node]) -> None:
        if nodes:
            with g.subgraph(name=f"cluster_{kind}", graph_attr=style.CLUSTER[kind]) as c:
                for n in nodes:
                    self._node(c, n)

    def _key(self, node: Node) -> str:
        return self.keys.setdefault(id(node), f"n{len(self.keys)}")

    def _node(self, g: graphviz.Digraph, node: Node) -> None:
        attrs = {**style.KIND.get(node.op, {}), **style.OP.get(node.op, {})}
        if id(node) in self.produced:
            attrs.update(style.REWRITTEN)
        g.node(self._key(node), _label(node, self.names.get(id(node))), tooltip=_tooltip(node), **attrs)
        self.count += 1
        operand_names = OPERAND_NAMES.get(node.op, ())
        for i, operand in enumerate(node.inputs):
            label = operand_names[min(i, len(operand_names) - 1)] if operand_names else ""
            self.edges.append((self._key(operand), self._key(node), {"label": label} if label else {}))
        if node.op in BODIES:
            self._body(g, node)

    def _body(self, g: graphviz.Digraph, node: Node) -> None:
        """A body subgraph as a cluster next to its operator, its results feeding the operator."""
        results, inner = BODIES[node.op](node)
        with g.subgraph(name=f"cluster_body_{self._key(node)}", graph_attr={**style.CLUSTER["body"], "label": f"body of {node.op}"}) as c:
            for n in inner:
                if id(n) not in self.keys:
                    self._node(c, n)
        for r in results:
            self.edges.append((self._key(r), self._key(node), {"style": "dotted", "label": "body"}))

    def _ends(self, c: graphviz.Digraph, f: Function) -> None:
        """A function's outputs as nodes of their own, and its update edges."""
        for name, value in f.outputs:
            key = f"out_{f.name}_{name}"
            c.node(key, name, tooltip=_where_span(f.span), **style.KIND["output"])
            self.count += 1
            self.edges.append((self._key(value), key, style.OUTPUT_EDGE))
        for target, value in f.updates:
            self.edges.append(
                (self._key(value), self._key(target), {**style.UPDATE_EDGE, "tooltip": f"{f.name}: {target.name} <- new value"})
            )


def _is_leaf_kind(node: Node) -> bool:
    return node.op in ("input", "param", "state")


def _label(node: Node, definition: str | None) -> str:
    kind = style.short_shape(node.type.dtype, node.type.shape)
    if node.op == "const":
        return graphviz.escape(f"{node.attr('value')!r}")
    if node.op in ("input", "param", "state"):
        return graphviz.escape(node.name) + "\\n" + kind
    head = node.op + (f"  ({definition})" if definition else "")
    attrs = " ".join(f"{k}={v}" for k, v in node.attrs if v is not None and v is not False and len(str(v)) <= 16)  # long ones: tooltip
    return graphviz.escape(head) + (f"\\n{graphviz.escape(attrs)}" if attrs else "") + "\\n" + kind


def _tooltip(node: Node) -> str:
    attrs = "; ".join(f"{k}={v}" for k, v in node.attrs if k != "name")
    return _where_span(node.span) + (f"\\n{graphviz.escape(attrs)}" if attrs else "")


def _where_span(span) -> str:
    """`file:line:col` and the source line: what a node's tooltip shows."""
    if span is None:
        return "(generated by symdl)"
    return graphviz.escape(f"{span}  {span.source.line(span.line).strip()}")


def _signature(f: Function) -> str:
    return graphviz.escape(f"fn {f.name}({', '.join(i.name for i in f.inputs)})")
