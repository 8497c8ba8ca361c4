"""The pass registry: named rewrites and passes in ordered phases, each reporting where it fired.

The rule modules register here; `symdl.passes.phases` loads them all and runs the phases.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from symdl.diagnostics.errors import Span
from symdl.ir.nodes import Program
from symdl.ir.ops import OPS
from symdl.passes.engine import Pattern, Rule, format_pattern


@dataclass
class PassReport:
    """How often each rewrite fired, and where (the user's source spans)."""

    counts: Counter = field(default_factory=Counter)
    sites: dict[str, list[Span | None]] = field(default_factory=dict)
    built: list[object] = field(default_factory=list, repr=False)  # held, so no freed node's id is reused
    pruned: list[str] = field(default_factory=list)  # definitions no function uses, dropped by dead_code

    @property
    def produced(self) -> set[int]:
        """The ids of the nodes rewrites built (`symdl graph` highlights them)."""
        return {id(n) for n in self.built}

    def fired(self, name: str, span: Span | None, result: object = None) -> None:
        self.counts[name] += 1
        self.sites.setdefault(name, []).append(span)
        if result is not None:
            self.built.append(result)

    def summary(self) -> str:
        fired = ", ".join(f"{name} x{n}" for name, n in self.counts.items()) or "none fired"
        return fired + (f"; pruned {len(set(self.pruned))} unused definition(s)" if self.pruned else "")

    def explain(self) -> str:
        lines = []
        width = max((len(name) for name in self.sites), default=0)
        for name, spans in self.sites.items():
            for span in spans:
                lines.append(f"  {name:<{width}}  {span if span else '(generated)'}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Pass:
    """A whole-program pass (for what a local pattern cannot say: CSE, dead code)."""

    name: str
    phase: str
    run: Callable[[Program, PassReport], Program]
    doc: str


PHASES = ("canonicalize", "stabilize", "simplify", "cleanup")
RULES: list[Rule] = []
PASSES: list[Pass] = []


def rule(name: str, phase: str, pattern: Pattern | None, replacement: Pattern | None = None):
    """Register a rewrite. With a replacement pattern it is declarative; without, decorate its function."""
    assert phase in PHASES, phase

    def add(fn_or_template, doc: str) -> None:
        RULES.append(Rule(name, phase, pattern, fn_or_template, doc))

    if replacement is not None:
        add(replacement, f"{formula(pattern)} -> {formula(replacement)}")
        return None

    def wrap(fn: Callable) -> Callable:
        add(fn, (fn.__doc__ or "").strip())
        return fn

    return wrap


def formula(pattern: Pattern | None) -> str:
    """A pattern as the operators print: ("log", ("sub", 1, ("sigmoid", "x"))) -> log(1 - sigmoid(x))."""
    return format_pattern(pattern, _show)


def _show(op: str, args: list[Pattern], shown: list[str]) -> str:
    opdef = OPS[op]
    if opdef.symbol is not None:  # an infix operand of an operator printed with a symbol is bracketed
        shown = [f"({s})" if isinstance(a, tuple) and " " in (OPS[a[0]].symbol or "") else s for a, s in zip(args, shown)]
    return opdef.format(shown)


def register(name: str, phase: str):
    """Register a whole-program pass function; its docstring states what it does."""

    def wrap(fn: Callable[[Program, PassReport], Program]) -> Callable:
        PASSES.append(Pass(name, phase, fn, (fn.__doc__ or "").strip()))
        return fn

    return wrap
