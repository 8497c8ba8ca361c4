"""A term-rewriting engine: declarative patterns with a function escape hatch.

A pattern is a nested tuple `(op, *argument_patterns)`; a lowercase name binds any
term (the same name twice must bind the same term); a number matches a scalar
constant of that value. A replacement is a pattern over the bound names, or a
function of the match returning a term (or None to decline).

The engine knows nothing about tensors: it reaches terms only through an `Algebra`,
so the tests run it on toy operators, and symdl runs it on IR nodes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

Term = Any
Pattern = tuple | str | int | float


class Algebra(Protocol):
    """How the engine sees and builds terms."""

    commutative: frozenset[str]

    def op(self, term: Term) -> str: ...

    def inputs(self, term: Term) -> tuple[Term, ...]: ...

    def constant(self, term: Term) -> float | None: ...

    def make(self, op: str, inputs: tuple[Term, ...], like: Term) -> Term: ...

    def const(self, value: float, like: Term) -> Term: ...

    def accepts(self, old: Term, new: Term) -> bool: ...


@dataclass(frozen=True)
class Match:
    """A successful match: the matched term and what the pattern's names bound."""

    term: Term
    env: dict[str, Term]
    algebra: Algebra = field(repr=False)

    def __getattr__(self, name: str) -> Term:
        try:
            return self.env[name]
        except KeyError:
            raise AttributeError(name) from None

    def build(self, template: Pattern) -> Term:
        return instantiate(template, self)


@dataclass(frozen=True)
class Rule:
    """A named rewrite: `pattern` -> `replacement`; its docstring is the formula."""

    name: str
    phase: str
    pattern: Pattern | None  # None matches every term (an escape hatch sees them all)
    replacement: Pattern | Callable[[Match], Term | None]
    doc: str = ""


def match(pattern: Pattern | None, term: Term, algebra: Algebra) -> Match | None:
    env: dict[str, Term] = {}
    return Match(term, env, algebra) if pattern is None or _match(pattern, term, algebra, env) else None


def _match(pattern: Pattern, term: Term, alg: Algebra, env: dict[str, Term]) -> bool:
    if isinstance(pattern, str):
        if pattern in env:
            return env[pattern] is term
        env[pattern] = term
        return True
    if isinstance(pattern, (int, float)):
        return alg.constant(term) == pattern
    op, *args = pattern
    inputs = alg.inputs(term)
    if alg.op(term) != op or len(inputs) != len(args):
        return False
    orders = [inputs, inputs[::-1]] if op in alg.commutative and len(inputs) == 2 else [inputs]
    for order in orders:
        trial = dict(env)
        if all(_match(p, t, alg, trial) for p, t in zip(args, order)):
            env.update(trial)
            return True
    return False


def format_pattern(pattern: Pattern | None, show: Callable[[str, list[Pattern], list[str]], str] | None = None) -> str:
    """A pattern as a formula: ("log", ("sigmoid", "x")) -> log(sigmoid(x)); `show(op, arg_patterns, shown_args)`
    prints one operator application (default: op(args))."""
    if pattern is None:
        return "any"
    if not isinstance(pattern, tuple):
        return str(pattern)
    op, *args = pattern
    shown = [format_pattern(a, show) for a in args]
    return show(op, args, shown) if show else f"{op}({', '.join(shown)})"


def instantiate(template: Pattern, m: Match) -> Term:
    if isinstance(template, str):
        return m.env[template]
    if isinstance(template, (int, float)):
        return m.algebra.const(template, m.term)
    op, *args = template
    return m.algebra.make(op, tuple(instantiate(a, m) for a in args), m.term)


def apply_rules(term: Term, rules: list[Rule], algebra: Algebra, fired: Callable[[Rule, Term, Term], None], limit: int = 16) -> Term:
    """Rewrite `term` at its root until no rule applies (its inputs are already rewritten)."""
    for _ in range(limit):
        for rule in rules:
            m = match(rule.pattern, term, algebra)
            if m is None:
                continue
            new = rule.replacement(m) if callable(rule.replacement) else instantiate(rule.replacement, m)
            if new is not None and new is not term and algebra.accepts(term, new):
                fired(rule, term, new)
                term = new
                break
        else:
            return term
    return term


def rewrite_bottom_up(
    root: Term, rules: list[Rule], algebra: Algebra, rebuild: Callable[[Term, tuple], Term], fired: Callable[[Rule, Term, Term], None]
) -> Term:
    """One sweep over a DAG of terms, inputs first, shared terms rewritten once."""
    memo: dict[int, Term] = {}

    def visit(term: Term) -> Term:
        if id(term) not in memo:
            inputs = tuple(visit(i) for i in algebra.inputs(term))
            memo[id(term)] = apply_rules(rebuild(term, inputs), rules, algebra, fired)
        return memo[id(term)]

    return visit(root)


def to_fixed_point(sweep: Callable[[], int], limit: int = 32) -> int:
    """Repeat `sweep` (returning how many rewrites fired) until one fires none."""
    for rounds in range(1, limit + 1):
        if sweep() == 0:
            return rounds
    return limit
