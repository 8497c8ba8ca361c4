"""How each kind of node looks, shared by the IR and the PyTensor drawings.

One table per concern, keyed by kind or operator; an operator without an entry draws as
a plain box, so a new operator needs no change here to be drawn.
"""

from __future__ import annotations

import graphviz

FONT = "Helvetica"

GRAPH = {"rankdir": "TB", "fontname": FONT, "fontsize": "11", "nodesep": "0.25", "ranksep": "0.35"}
NODE = {"fontname": FONT, "fontsize": "10", "shape": "box", "style": "rounded,filled", "fillcolor": "#f5f5f5", "color": "#616161"}
EDGE = {"fontname": FONT, "fontsize": "9", "color": "#757575", "arrowsize": "0.6"}

# Leaves and the ends of a function: distinct shapes and colours.
KIND = {
    "input": {"shape": "invhouse", "style": "filled", "fillcolor": "#bbdefb", "color": "#1565c0"},
    "param": {"shape": "box3d", "style": "filled", "fillcolor": "#c8e6c9", "color": "#2e7d32"},
    "state": {"shape": "box3d", "style": "filled", "fillcolor": "#d1c4e9", "color": "#4527a0"},
    "const": {"shape": "plaintext", "style": "", "fontcolor": "#616161", "fontsize": "9"},
    "output": {"shape": "house", "style": "filled,bold", "fillcolor": "#ffe0b2", "color": "#e65100"},
}

# Operators drawn apart from the rest; anything else uses NODE.
OP = {
    "grad": {"fillcolor": "#f3e5f5", "color": "#6a1b9a"},
    "stop_gradient": {"style": "rounded,dashed,filled", "fillcolor": "#ffffff", "color": "#c62828"},
}

# A node a rewrite built (PassReport.produced), drawn over its operator's style.
REWRITTEN = {"fillcolor": "#fff176", "color": "#f57f17", "penwidth": "2.5", "class": "rewritten"}

UPDATE_EDGE = {"color": "#c62828", "fontcolor": "#c62828", "style": "dashed", "constraint": "false", "label": "update"}
OUTPUT_EDGE = {"color": "#e65100", "penwidth": "1.5"}

CLUSTER = {
    "inputs": {"label": "inputs", "style": "rounded,dashed", "color": "#1565c0"},
    "leaves": {"label": "parameters and state", "style": "rounded,dashed", "color": "#2e7d32"},
    "fn": {"style": "rounded", "color": "#9e9e9e", "bgcolor": "#fafafa"},
    "body": {"style": "rounded,dotted", "color": "#6a1b9a"},
}


def short_shape(dtype: str, shape: tuple) -> str:
    """`f32[20,500]`: the type in a node's label, without spaces so labels stay narrow."""
    return dtype if not shape else f"{dtype}[{','.join('?' if d is None else str(d) for d in shape)}]"


def digraph(title: str) -> graphviz.Digraph:
    """An empty drawing with the shared defaults and `title` on top."""
    return graphviz.Digraph(name=title, graph_attr={**GRAPH, "label": title, "labelloc": "t"}, node_attr=NODE, edge_attr=EDGE)
