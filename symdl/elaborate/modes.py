"""Training mode: a function trains when it updates a parameter, unless its body says `training = true/false`.

`training` is a placeholder (a bool scalar) in the forward pass, written once. Each fn's graph is
specialised to its mode: the placeholder becomes a constant and a `switch` on it keeps one branch,
so dropout's mask and batch norm's batch statistics exist only in training functions. An `update`
written in a block outside any fn (batch norm's running averages) is applied by every training
function that uses the block's result. Top-level definitions are shown in the inference mode.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.elaborate.values import Scope, kind_of
from symdl.ir import build
from symdl.ir.nodes import Node, rebuild_graph, toposort
from symdl.ir.types import TensorType

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator

NAME = "training"


@dataclass
class BlockUpdate:
    """An update a block makes outside any fn; `uses`: the block's results, set when it returns."""

    target: Node
    value: Node
    uses: tuple[Node, ...] = ()


@dataclass
class Modes:
    """One compilation's placeholder, its two constants and the rebuilt graphs of each mode (shared)."""

    placeholder: Node = field(default_factory=lambda: build.leaf("input", NAME, TensorType("bool", ())))
    constants: dict[bool, Node] = field(default_factory=lambda: {m: build.const(m, "bool") for m in (True, False)})
    memos: dict[bool, dict[int, Node]] = field(default_factory=dict)
    block_updates: list[BlockUpdate] = field(default_factory=list)  # updates written in blocks outside any fn
    used: bool = False  # whether the model read `training` at all

    def specialise(self, roots: list[Node], training: bool) -> list[Node]:
        if not self.used:
            return roots
        memo = self.memos.setdefault(training, {id(self.placeholder): self.constants[training]})
        return rebuild_graph(roots, lambda node: self._fold(node, training), memo)

    def add(self, pairs: list[tuple[Node, Node]]) -> None:
        self.block_updates += [BlockUpdate(target, value) for target, value in pairs]

    def returned(self, start: int, result: object) -> None:
        """The block whose updates begin at `start` returned `result`: a training fn that uses it applies them."""
        nodes = tuple(r for r in (result if isinstance(result, tuple) else (result,)) if isinstance(r, Node))
        for update in self.block_updates[start:]:
            update.uses = update.uses or nodes

    def _fold(self, node: Node, training: bool) -> Node:
        """`a if training else b` keeps one branch (when it has the switch's own type)."""
        if node.op == "switch" and node.inputs[0] is self.constants[training]:
            kept = node.inputs[1] if training else node.inputs[2]
            return kept if kept.type == node.type else node
        return node


def function_mode(inner: Scope, updates: list[tuple[Node, Node]]) -> bool:
    """Whether a fn trains: `training = true/false` in its body, else whether it updates a parameter."""
    said = inner.names.get(NAME)
    if said is None:
        return any(target.op == "param" for target, _ in updates)
    if not isinstance(said, bool):
        fail("E306", inner.spans[NAME], what="a fn's `training`", got=kind_of(said))
    return said


def specialise_function(
    elab: Elaborator, outputs: list[tuple[str, Node]], updates: list[tuple[Node, Node]], training: bool
) -> tuple[list[tuple[str, Node]], list[tuple[Node, Node]]]:
    """A fn's outputs and updates in its mode, with the block updates a training fn applies."""
    modes: Modes = elab.modes
    roots = modes.specialise([n for _, n in outputs] + [v for _, v in updates], training)
    outputs = [(name, node) for (name, _), node in zip(outputs, roots)]
    updates = [(target, node) for (target, _), node in zip(updates, roots[len(outputs) :])]
    if training and modes.block_updates:
        computed = {id(n) for n in toposort(roots)}
        for update in modes.block_updates:
            value, *uses = modes.specialise([update.value, *update.uses], training)
            if not uses or any(id(n) in computed for n in uses):
                updates.append((update.target, value))
    return outputs, updates


def specialise_definitions(elab: Elaborator, definitions: list[tuple[str, Node]]) -> list[tuple[str, Node]]:
    """Named top-level values as inference sees them (`--emit ir` names these nodes)."""
    roots = elab.modes.specialise([n for _, n in definitions], False)
    return [(name, node) for (name, _), node in zip(definitions, roots)]
