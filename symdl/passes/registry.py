"""The pass registry: named passes in phase order, each reporting the sites it changed."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from symdl.diagnostics.errors import Span
from symdl.ir.nodes import Program


@dataclass
class PassReport:
    """How often each rewrite fired, and where (the user's source spans)."""

    counts: Counter = field(default_factory=Counter)
    sites: dict[str, list[Span | None]] = field(default_factory=dict)
    produced: set[int] = field(default_factory=set)  # ids of the nodes rewrites built (drawn highlighted)
    _alive: list[object] = field(default_factory=list, repr=False)  # keeps them alive: a freed node's id is reused

    def fired(self, name: str, span: Span | None, result: object = None) -> None:
        self.counts[name] += 1
        self.sites.setdefault(name, []).append(span)
        if result is not None:
            self.produced.add(id(result))
            self._alive.append(result)

    def summary(self) -> str:
        return ", ".join(f"{name} x{n}" for name, n in self.counts.items()) or "none fired"

    def explain(self) -> str:
        lines = []
        for name, spans in self.sites.items():
            for span in spans:
                lines.append(f"  {name:<24} {span if span else '(generated)'}")
        return "\n".join(lines)


@dataclass(frozen=True)
class Pass:
    name: str
    phase: str
    run: Callable[[Program, PassReport], Program]
    doc: str


PHASES = ("canonicalize", "stabilize", "simplify", "cleanup")
PASSES: list[Pass] = []


def register(name: str, phase: str):
    """Register a pass function under `name` in `phase`; its docstring states what it does."""

    def wrap(fn: Callable[[Program, PassReport], Program]) -> Callable:
        PASSES.append(Pass(name, phase, fn, (fn.__doc__ or "").strip()))
        PASSES.sort(key=lambda p: PHASES.index(p.phase))
        return fn

    return wrap


def run_passes(program: Program, exclude: tuple[str, ...] = ()) -> tuple[Program, PassReport]:
    """Every registered pass not excluded by name, in phase order."""
    from symdl.passes import cleanup, stabilize  # noqa: F401 - registers their passes

    report = PassReport()
    for p in PASSES:
        if p.name not in exclude:
            program = p.run(program, report)
    return program, report
