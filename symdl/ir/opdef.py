"""An operator's record: every fact about it, in one place.

The registry (`OPS`, filled by `ops.py` and its companions) is read by the built-ins (the
surface name, the signature and how arguments become attributes), the rewrite engine
(commutativity, how a pattern prints), the IR printer and verifier, and the lowering
(which inputs are promoted to a common dtype, what is lowered node by node, which draws
can be made ahead of a loop). The PyTensor lowering table is the only other place an
operator appears.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symdl.ir.types import TensorType

TypeRule = Callable[[tuple[TensorType, ...], dict], TensorType]

# How a built-in's argument becomes an attribute (the elaborator converts and checks each kind):
# int, int? (or none), ints (an int or a list), axes (none, an int or a list), bool, dtype,
# pair (an int n as [n, n], or two ints), pair? (or none), padding (a pair or "same"), str, shape? (none or ints),
# and stream (no argument: a fresh random stream per draw).
ATTR_KINDS = ("int", "int?", "ints", "axes", "bool", "dtype", "pair", "pair?", "padding", "str", "shape?", "stream")

REQUIRED = object()  # an argument without a default


@dataclass(frozen=True, slots=True)
class Attr:
    """An attribute the surface call sets: its keyword, how it is read, its default."""

    name: str
    kind: str
    default: object = REQUIRED
    leading: bool = False  # written before the tensor inputs: einsum("ij,jk->ik", a, b)
    quiet: bool = False  # left out of the printed IR at its default (attributes added to an existing operator)
    least: int | None = None  # the smallest value an int (or each of a pair) may take: E307 at the argument

    def __post_init__(self) -> None:
        assert self.kind in ATTR_KINDS, self.kind


# What the program lowering handles itself rather than node by node: leaves, gradients, draws, loops.
STRUCTURAL_KINDS = ("leaf", "grad", "random", "scan")


@dataclass(frozen=True, slots=True)
class OpDef:
    """One operator. `kind`: elementwise | reduce | tensor | leaf | grad | random | scan."""

    name: str
    arity: tuple[int, int | None]  # (min, max); max None is variadic
    type_rule: TypeRule
    reference: Callable[..., np.ndarray] | None = None  # NumPy, for constant folding and the tests
    kind: str = "tensor"
    doc: str = ""
    surface: tuple[str, ...] = ()  # the built-in names a model calls it by; () when only syntax or other built-ins make it
    inputs: tuple[tuple[str, object], ...] = ()  # the surface call's tensor arguments (name, default), in order
    attrs: tuple[Attr, ...] = ()  # the surface call's other arguments, after the inputs
    commutative: bool = False  # f(a, b) = f(b, a): a pattern matches either order
    promoted: tuple[int, ...] = ()  # input positions brought to one dtype (a number among them takes it)
    number_dtype: str | None = None  # the dtype a number given as a (non-promoted) input becomes; None: its own
    ahead: str | None = None  # a draw made from standard noise ("uniform" | "normal"): drawable ahead of a loop
    symbol: str | None = None  # how a formula prints it: "{0} + {1}", "-{0}"; None: name(args)
    hidden: tuple[str, ...] = ()  # attributes the IR printer leaves out (a scan's body prints as its own lines)

    @property
    def is_leaf(self) -> bool:
        return self.kind == "leaf"

    @property
    def structural(self) -> bool:
        """Lowered by the program lowering itself, not by a line of the lowering table."""
        return self.kind in STRUCTURAL_KINDS

    @property
    def variadic(self) -> bool:
        return self.arity[1] is None

    def signature(self) -> tuple[tuple[str, object], ...]:
        """The surface call's parameters in order: leading attributes, inputs, the other attributes (never a stream)."""
        lead = tuple((a.name, a.default) for a in self.attrs if a.leading)
        return lead + self.inputs + tuple((a.name, a.default) for a in self.attrs if a.kind != "stream" and not a.leading)

    def collects(self) -> int | None:
        """The position of the parameter that collects a variadic operator's positional inputs."""
        return sum(a.leading for a in self.attrs) if self.variadic else None

    def usage(self, name: str | None = None) -> str:
        """`name(x, axis = none)`: the call as LANGUAGE.md writes it, then what it does."""
        parts = [p if d is REQUIRED else f"{p} = {_show(d)}" for p, d in self.signature()]
        return f"{name or self.surface[0]}({', '.join(parts)})" + (f": {self.doc}" if self.doc else "")

    def format(self, args: list[str]) -> str:
        """The operator applied to printed arguments, as a formula."""
        if self.symbol is None:
            return f"{self.name}({', '.join(args)})"
        return self.symbol.format(*args)


def _show(value: object) -> str:
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


OPS: dict[str, OpDef] = {}


def register(name: str, arity: int | tuple[int, int | None], rule: TypeRule, reference=None, kind: str = "tensor", **facts) -> OpDef:
    """Add an operator; `facts` are the remaining OpDef fields (doc, surface, inputs, attrs, ...)."""
    assert name not in OPS, f"operator {name} registered twice"
    if "surface" in facts and isinstance(facts["surface"], str):
        facts["surface"] = (facts["surface"],)
    facts["inputs"] = tuple((i, REQUIRED) if isinstance(i, str) else i for i in facts.get("inputs", ()))
    OPS[name] = OpDef(name, arity if isinstance(arity, tuple) else (arity, arity), rule, reference, kind, **facts)
    return OPS[name]


def surface_ops() -> dict[str, OpDef]:
    """Every built-in name that calls an operator directly, with its operator."""
    return {s: d for d in OPS.values() for s in d.surface}
