"""The rewrite engine's view of symdl's IR: how nodes are read and built."""

from __future__ import annotations

from dataclasses import dataclass, field

from symdl.ir import build
from symdl.ir.nodes import Node
from symdl.ir.ops import OPS


@dataclass(frozen=True)
class IRAlgebra:
    commutative: frozenset[str] = field(default_factory=lambda: frozenset(n for n, d in OPS.items() if d.commutative))

    def op(self, term: Node) -> str:
        return term.op

    def inputs(self, term: Node) -> tuple[Node, ...]:
        return term.inputs

    def constant(self, term: Node) -> float | None:
        return term.attr("value") if term.op == "const" else None

    def make(self, op: str, inputs: tuple[Node, ...], like: Node, attrs: dict | None = None) -> Node:
        return build.make(op, inputs, attrs, span=like.span)

    def const(self, value: float, like: Node) -> Node:
        return build.const(value, like.type.dtype, like.span)

    def accepts(self, old: Node, new: Node) -> bool:
        """A rewrite may change how a value is computed, never its dtype or shape."""
        return new.type == old.type


IR_ALGEBRA = IRAlgebra()
