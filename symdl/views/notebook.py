"""What a model, a function and a run look like in Jupyter: HTML with the graph (SVG) and tables, a PNG of curves.

`Model._repr_html_` and friends in the runtime call these; nothing here runs or compiles a model.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

import graphviz

from symdl.ir.nodes import Function, Node, Program
from symdl.views.ir_graph import draw_program


def graph_svg(program: Program, functions: Sequence[Function], produced: frozenset[int] = frozenset()) -> str:
    """The IR of `functions` as inline SVG (as `symdl graph` draws it), or a note when graphviz is missing."""
    drawing = draw_program(program, functions, produced, program.name)
    try:
        svg = drawing.graph.pipe(format="svg").decode()
    except graphviz.ExecutableNotFound:
        return "<p><i>graphviz's <code>dot</code> is not installed: no drawing (apt-get install graphviz)</i></p>"
    return svg[svg.index("<svg") :]  # without the XML prologue, to sit inside HTML


def model_html(program: Program, backend: str, produced: frozenset[int] = frozenset()) -> str:
    """A model: its hypers, parameters and state with shapes, functions, and the graph of every function."""
    hypers = ", ".join(f"{k} = {html.escape(_value(v))}" for k, v in program.hypers)
    functions = "".join(f"<li><code>{html.escape(_signature(f))}</code></li>" for f in program.functions)
    return (
        f"<div><h4>model {html.escape(program.name)} <small>({html.escape(backend)} backend)</small></h4>"
        f"<p><b>hypers</b>: <code>{hypers}</code></p>"
        + values_table(program.params + program.states)
        + f"<p><b>functions</b></p><ul>{functions}</ul>"
        + graph_svg(program, program.functions, produced)
        + "</div>"
    )


def function_html(program: Program, fn: Function, produced: frozenset[int] = frozenset()) -> str:
    """One function: its signature, the values it updates, and its graph."""
    updated = [target for target, _ in fn.updates]
    rows = values_table(updated, caption="updates") if updated else "<p>updates nothing</p>"
    return f"<div><h4><code>{html.escape(_signature(fn))}</code></h4>{rows}{graph_svg(program, [fn], produced)}</div>"


def values_table(nodes: Sequence[Node], caption: str = "parameters and state") -> str:
    """Name, kind, dtype, shape and size of each leaf; the total size last."""
    rows = "".join(
        f"<tr><td><code>{html.escape(n.name)}</code></td><td>{n.op}</td><td>{n.type.dtype}</td>"
        f"<td>{' x '.join(str(d) for d in n.type.shape) or 'scalar'}</td><td style='text-align:right'>{_size(n):,}</td></tr>"
        for n in nodes
    )
    total = sum(_size(n) for n in nodes)
    return (
        f"<table><caption>{caption}</caption><tr><th>name</th><th>kind</th><th>dtype</th><th>shape</th><th>size</th></tr>"
        f"{rows}<tr><td colspan='4'><b>total</b></td><td style='text-align:right'><b>{total:,}</b></td></tr></table>"
    )


def _signature(fn: Function) -> str:
    outputs = ", ".join(name for name, _ in fn.outputs)
    return f"fn {fn.name}({', '.join(i.name for i in fn.inputs)}) -> {outputs}"


def _size(node: Node) -> int:
    size = 1
    for d in node.type.shape:
        size *= d or 0
    return size


def _value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return f'"{value}"' if isinstance(value, str) else str(value)
