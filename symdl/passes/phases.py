"""The phases in order: each runs its pattern rules over the whole program to a fixed point, then its
whole-program passes (CSE, dead code). `--exclude NAME` switches off one by name.
"""

from __future__ import annotations

from collections.abc import Callable

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.nodes import Node, Program, rebuild
from symdl.passes import canonicalize, cleanup, scans, simplify, stabilize  # noqa: F401 - registers their rules
from symdl.passes.engine import Rule, apply_rules, to_fixed_point
from symdl.passes.ir_algebra import IR_ALGEBRA
from symdl.passes.registry import PASSES, PHASES, RULES, PassReport


def known_names() -> list[str]:
    return [r.name for r in RULES] + [p.name for p in PASSES]


def check_excludes(exclude: tuple[str, ...]) -> None:
    known = known_names()
    for name in exclude:
        if name not in known:
            fail("E503", None, hint=did_you_mean(name, known) or "symdl compile --explain lists the rewrites that fire", name=name)


def run_passes(
    program: Program, exclude: tuple[str, ...] = (), after_each: Callable[[Program], None] | None = None
) -> tuple[Program, PassReport]:
    """Every phase in order; `after_each` (the verifier, in the tests) sees the program after every step."""
    check_excludes(exclude)

    report = PassReport()
    for phase in PHASES:
        rules = [r for r in RULES if r.phase == phase and r.name not in exclude]
        if rules:
            program = _rules_to_fixed_point(program, rules, report, after_each, IR_ALGEBRA)
        for p in PASSES:
            if p.phase == phase and p.name not in exclude:
                program = p.run(program, report)
                if after_each:
                    after_each(program)
    return program, report


def _rules_to_fixed_point(program: Program, rules: list[Rule], report: PassReport, after_each, algebra) -> Program:
    def fired(r: Rule, old: Node, new: Node) -> None:
        report.fired(r.name, old.span, new)

    def sweep() -> int:
        nonlocal program
        before = sum(report.counts.values())
        program = rebuild(program, lambda node: apply_rules(node, rules, algebra, fired))
        if after_each:
            after_each(program)
        return sum(report.counts.values()) - before

    to_fixed_point(sweep)
    return program
