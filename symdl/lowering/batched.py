"""Matrix products that share their right operand and do not depend on each other, made as one.

A product of a few rows runs far below the machine's peak: the RBM's 20 x 784 by 784 x 500 products reach about
half of it, and its step makes three that need only the data, on the same W (the positive phase's `x @ W`
and the pseudo-likelihood's two free energies). A graph of known shapes can stack their left operands and make
one product of 60 rows, whose row blocks are the three results (views). PyTorch eager, which sees one call at
a time, cannot. A rewrite on the C backend (`HOST_TAG`) does it for every group of float32 `Dot22`s on one
right operand where no member's left operand depends on another member's result.
"""

from __future__ import annotations

import pytensor.tensor as pt
from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.graph.traversal import ancestors
from pytensor.tensor.blas import Dot22, _dot22

from symdl.lowering.host import HOST_TAG

FEW_ROWS = 128  # products of more rows run near the peak already: stacking them would only copy


class StackProducts(GraphRewriter):
    """Each group of independent products on one right operand -> one product of the stacked left operands."""

    def add_requirements(self, fgraph) -> None:
        pass

    def apply(self, fgraph) -> None:
        # one group at a time, found anew: two groups on two operands could otherwise wait on each other
        while group := next(iter(_groups(fgraph)), None):
            lefts = [node.inputs[0] for node in group]
            joined = _dot22(pt.concatenate(lefts, axis=0), group[0].inputs[1])
            ends = [0]
            for left in lefts:
                ends.append(ends[-1] + left.type.shape[0])
            replacements = [
                (node.outputs[0], node.outputs[0].type.filter_variable(joined[a:b]))
                for node, a, b in zip(group, ends, ends[1:], strict=False)
            ]
            fgraph.replace_all_validate(replacements, reason="symdl_stack_products")


def _stackable(node) -> bool:
    if not isinstance(node.op, Dot22):
        return False
    left, right = node.inputs
    rows = left.type.shape[0]
    return left.dtype == right.dtype == "float32" and rows is not None and rows <= FEW_ROWS


def _groups(fgraph) -> list[list]:
    """Groups of two or more stackable products on one right operand, none depending on another (in topological
    order, a product can only depend on those before it)."""
    by_right: dict = {}
    for node in fgraph.toposort():
        if _stackable(node):
            by_right.setdefault(node.inputs[1], []).append(node)
    groups = []
    for candidates in by_right.values():
        while len(candidates) > 1:
            group, rest = [candidates[0]], []
            for node in candidates[1:]:
                upstream = set(ancestors([node.inputs[0]]))
                (rest if any(member.outputs[0] in upstream for member in group) else group).append(node)
            if len(group) > 1:
                groups.append(group)
            candidates = rest
    return groups


def _register() -> None:
    from pytensor.compile import optdb

    # after the products are Dot22s (specialize) and the host rewrites (48.7), before elementwise fusion (49)
    optdb.register("symdl_stack_products", StackProducts(), HOST_TAG, position=48.8)


_register()
