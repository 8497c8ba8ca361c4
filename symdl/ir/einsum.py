"""einsum's type rule: the spec is read at compile time, and each of its mistakes named."""

from __future__ import annotations

from symdl.ir.types import TensorType, TypeRuleError, promote

LETTERS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


def parse_spec(spec: str, n_operands: int) -> tuple[list[str], str]:
    """The operand terms and the output term of `spec` ("ij,jk->ik"; without "->", NumPy's implicit
    output: the letters used once, in alphabetical order)."""
    text = spec.replace(" ", "")
    if text.count("->") > 1 or "." in text:
        raise TypeRuleError("einsum", f'the spec "{spec}" must read like "ij,jk->ik" (one "->", no "...")', "E410")
    inputs, arrow, output = text.partition("->")
    terms = inputs.split(",")
    for term in (*terms, output):
        if not set(term) <= LETTERS:
            bad = "".join(sorted(set(term) - LETTERS))
            raise TypeRuleError("einsum", f'the spec "{spec}" names axes by letters only, not "{bad}"', "E410")
    if len(terms) != n_operands:
        raise TypeRuleError("einsum", f'the spec "{spec}" has {len(terms)} operand term(s) for {n_operands} tensor(s)', "E410")
    used = "".join(terms)
    if not arrow:
        output = "".join(sorted(c for c in set(used) if used.count(c) == 1))
    for c in output:
        if output.count(c) > 1 or c not in used:
            why = "twice" if output.count(c) > 1 else "but no operand has it"
            raise TypeRuleError("einsum", f'the output of "{spec}" names axis "{c}" {why}', "E410")
    return terms, output


def einsum_rule(types: tuple[TensorType, ...], attrs: dict) -> TensorType:
    spec = attrs["spec"]
    terms, output = parse_spec(spec, len(types))
    sizes: dict[str, int | None] = {}
    for k, (term, t) in enumerate(zip(terms, types)):
        if len(term) != t.ndim:
            raise TypeRuleError("einsum", f'term "{term}" of "{spec}" names {len(term)} axes of operand {k + 1}, which is {t}', "E410")
        if len(set(term)) != len(term):
            raise TypeRuleError("einsum", f'term "{term}" of "{spec}" repeats an axis (a diagonal): not supported', "E410")
        for c, d in zip(term, t.shape):
            if d is not None and sizes.get(c) not in (None, d):
                raise TypeRuleError("einsum", f'axis "{c}" of "{spec}" has size {sizes[c]} in one operand and {d} in operand {k + 1}')
            sizes[c] = d if d is not None else sizes.get(c)
    return TensorType(promote(*(t.dtype for t in types)), tuple(sizes[c] for c in output))
