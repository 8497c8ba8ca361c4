"""A compiled PyTensor function's graph (`fn.maker.fgraph`) as a graphviz digraph.

Drawn: every apply node, the graph's inputs (shared variables as parameters), the
constants applies read, and one node per output; an intermediate variable is an edge.
Update outputs point back at their shared variable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import graphviz
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.basic import Constant, Variable
from pytensor.graph.fg import FunctionGraph

from symdl.ir.types import FROM_NUMPY
from symdl.views import style
from symdl.views.ir_graph import Drawing


@dataclass(frozen=True)
class Compiled:
    """One compiled function to draw: its name, graph and the names of its own outputs."""

    name: str
    fgraph: FunctionGraph
    output_names: tuple[str, ...] = ()


def draw_functions(functions: Sequence[Compiled], title: str) -> Drawing:
    """Draw each function's graph as its own cluster (graphs of compiled functions share nothing)."""
    g = style.digraph(title)
    count = 0
    for f in functions:
        with g.subgraph(
            name=f"cluster_fn_{f.name}", graph_attr={**style.CLUSTER["fn"], "label": graphviz.escape(f"fn {f.name} (compiled)")}
        ) as c:
            count += _draw_fgraph(c, f, prefix=f"f{len(g.body)}_")
    return Drawing(g, count)


def _draw_fgraph(g: graphviz.Digraph, f: Compiled, prefix: str) -> int:
    """Draw into `g`; returns how many nodes: applies, inputs, constants and outputs."""
    fgraph = f.fgraph
    keys: dict[object, str] = {}

    def add(label: str, kind: str, tooltip: str = "") -> str:
        key = f"{prefix}{len(g.body)}"  # one body line per statement: unique
        g.node(key, label, tooltip=tooltip or label, **style.KIND.get(kind, {}))
        return key

    for v in fgraph.inputs:
        keys[v] = add(f"{_name(v)}\\n{_type(v)}", "param" if isinstance(v, SharedVariable) else "input")
    for apply in fgraph.toposort():
        keys[apply] = add(
            f"{graphviz.escape(str(apply.op))}\\n{', '.join(_type(o) for o in apply.outputs)}", "", graphviz.escape(str(apply))
        )
        for v in apply.inputs:
            if isinstance(v, Constant) and v not in keys:
                keys[v] = add(_constant(v), "const")
            g.edge(_source(v, keys), keys[apply], tooltip=_type(v))
    updates = getattr(fgraph, "update_mapping", None) or {}
    for i, v in enumerate(fgraph.outputs):
        target = fgraph.inputs[updates[i]] if i in updates else None
        label = f"new {_name(target)}" if target is not None else (f.output_names[i] if i < len(f.output_names) else f"output {i}")
        key = add(graphviz.escape(label), "output")
        g.edge(_source(v, keys), key, **style.OUTPUT_EDGE)
        if target is not None:
            g.edge(key, keys[target], **style.UPDATE_EDGE)
    return len(keys) + len(fgraph.outputs)


def _source(v: Variable, keys: dict) -> str:
    """The drawn node a variable comes from: itself when drawn, else the apply that made it."""
    return keys[v] if v in keys else keys[v.owner]


def _name(v: Variable) -> str:
    return graphviz.escape(v.name or str(v))


def _type(v: Variable) -> str:
    dtype = getattr(v.type, "dtype", None)
    shape = getattr(v.type, "shape", None)
    if dtype is None or shape is None:
        return graphviz.escape(str(v.type))  # random generators and other non-tensors
    return style.short_shape(FROM_NUMPY.get(dtype, dtype), shape)


def _constant(v: Constant) -> str:
    data = getattr(v, "data", None)
    size = getattr(data, "size", 2)
    return graphviz.escape(str(data.item() if size == 1 else f"const {_type(v)}"))
