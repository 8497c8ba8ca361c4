"""One record per operator: a new operator is a registry entry and a lowering line, nothing else."""

from __future__ import annotations

import math
import re

import numpy as np
import pytensor.tensor as pt
import pytest

import symdl
from symdl.diagnostics.errors import UserError
from symdl.ir import opdef
from symdl.ir.ops import OPS
from symdl.ir.printer import format_program
from symdl.ir.types import TensorType, broadcast_shapes, promote, to_float
from symdl.lowering.table import LOWER
from symdl.passes import phases, registry
from symdl.pipeline import front_end


@pytest.fixture
def toy_erf(monkeypatch):
    """`gauss_erf`, an erf-like operator, added in the two places an operator lives (and removed after)."""

    def rule(types, attrs):
        return TensorType(to_float(promote(*(t.dtype for t in types))), broadcast_shapes(*(t.shape for t in types)))

    op = opdef.register(
        "gauss_erf",
        1,
        rule,
        np.vectorize(math.erf),
        "elementwise",
        doc="the error function",
        surface="gauss_erf",
        inputs=("x",),
        promoted=(0,),
    )
    monkeypatch.setitem(LOWER, "gauss_erf", pt.erf)
    yield op
    OPS.pop("gauss_erf", None)


MODEL = """model toy
input x: f32[4]
y = gauss_erf(x)
z = log(gauss_erf(x))
fn f(x) -> y, z
"""


def test_a_toy_operator_parses_checks_prints_and_lowers(toy_erf, write_model):
    path = write_model(MODEL)
    front = front_end(path)
    text = format_program(front.ir)
    assert re.search(r"= gauss_erf\(x\)", text), text
    x = np.array([-1.5, 0.0, 0.25, 2.0], dtype=np.float32)
    y, z = symdl.load(path, backend="fast").fn.f(x=x)
    np.testing.assert_allclose(y, [math.erf(v) for v in x], rtol=1e-6)
    assert z[1] == -np.inf and np.isnan(z[0]) and z[3] == pytest.approx(math.log(math.erf(2.0)), rel=1e-5)


def test_a_toy_operator_is_checked_and_its_mistakes_are_located(toy_erf, write_model):
    with pytest.raises(UserError) as e:
        front_end(write_model("model toy\ninput x: f32[4]\ny = gauss_erf(x, 2)\nfn f(x) -> y\n"))
    assert "E300" in str(e.value) and "gauss_erf(x): the error function" in str(e.value)


def test_a_pattern_naming_a_toy_operator_matches(toy_erf, write_model, monkeypatch):
    rules = list(registry.RULES)  # the rule lists as the phases read them, restored after the test
    monkeypatch.setattr(registry, "RULES", rules)
    monkeypatch.setattr(phases, "RULES", rules)
    registry.rule("log_gauss_erf_to_x", "simplify", ("log", ("gauss_erf", "x")), ("neg", "x"))
    program, report = phases.run_passes(front_end(write_model(MODEL)).ir)
    assert report.counts["log_gauss_erf_to_x"] == 1
    assert "log(gauss_erf(x)) -> -x" in next(r.doc for r in registry.RULES if r.name == "log_gauss_erf_to_x")
    assert "neg(x)" in format_program(program)


def test_every_operator_has_a_doc_and_every_built_in_operator_is_in_language_md():
    from pathlib import Path

    table = Path(__file__).resolve().parents[1].joinpath("docs/LANGUAGE.md").read_text()
    for name, op in OPS.items():
        assert op.doc, f"{name} has no doc"
    for surface in opdef.surface_ops():
        assert re.search(rf"`[^`\n]*\b{surface}\b[^`\n]*`", table), f"{surface} is missing from LANGUAGE.md"


def test_facts_derive_from_the_registry():
    from symdl.elaborate.builtins import find
    from symdl.passes.ir_algebra import IR_ALGEBRA

    assert IR_ALGEBRA.commutative == {"add", "mul", "maximum", "minimum", "eq", "ne", "and_", "or_"}
    assert find("where").params == find("switch").params == (("cond", find("switch").params[0][1]), *find("switch").params[1:])
    assert [p for p, _ in find("sum").params] == ["x", "axis", "keepdims"]
    assert {n for n, d in OPS.items() if d.is_leaf} == {"input", "param", "state", "const", "arg"}
    assert {n for n, d in OPS.items() if d.ahead} == {"uniform", "normal", "bernoulli"}
