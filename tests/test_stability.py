"""Stability rewrites: golden IR, equal values where the naive graph is finite, finite where it is not.

Each case compiles twice: with symdl's stabilize rules and without them. PyTensor's own
stabilize rewrites are excluded in both, so what stays finite does so because of symdl.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import check_golden

from symdl.ir.printer import format_program
from symdl.ir.verify import verify
from symdl.passes.phases import known_names
from symdl.passes.registry import RULES
from symdl.pipeline import front_end

GOLDEN = Path(__file__).parent / "golden" / "rewrites"

MODEL = """model case
input z: f32[2, 3]
input t: f32[2, 3]
input k: i32[2]
param w: f32[2, 3] = 0
s = z + w
y = {expr}
fn f(z, t, k) -> y, grad(sum(y), w) as g
"""

CASES = {
    "log_sigmoid_to_neg_softplus": "log(sigmoid(s))",
    "log_one_minus_sigmoid_to_neg_softplus": "log(1 - sigmoid(s))",
    "log_one_plus_exp_to_softplus": "log(1 + exp(s))",
    "log1p_exp_to_softplus": "log1p(exp(s))",
    "log_of_softmax_to_log_softmax": "log(softmax(s))",
    "log_indexed_softmax_to_indexed_log_softmax": "log(softmax(s)[arange(2), k])",
    "cross_entropy_to_logits": "t * log(sigmoid(s)) + (1 - t) * log(1 - sigmoid(s))",
    "x_log_x_to_xlogx": "relu(s) * log(relu(s))",
}
STABILIZE = tuple(r.name for r in RULES if r.phase == "stabilize") if RULES else ()


def _compile(path: Path, stable: bool):
    import pytensor.compile.mode as modes

    from symdl.lowering.lower import Lowered

    known_names()  # registers every rule
    exclude = () if stable else tuple(r.name for r in RULES if r.phase == "stabilize")
    program = front_end(path, exclude=exclude).optimized
    mode = modes.get_mode("FAST_COMPILE").excluding("stabilize")
    return program, Lowered(program, seed=0, backend="fast").function(program.function("f"), None, mode)


@pytest.fixture(scope="module")
def compiled(tmp_path_factory):
    out = {}
    for name, expr in CASES.items():
        path = tmp_path_factory.mktemp(name) / "case.sdl"
        path.write_text(MODEL.format(expr=expr))
        out[name] = (path, _compile(path, True), _compile(path, False))
    return out


def _inputs(z: np.ndarray) -> tuple:
    t = (np.arange(6).reshape(2, 3) % 2).astype(np.float32)
    return z.astype(np.float32), t, np.array([0, 2], np.int32)


@pytest.mark.parametrize("name", CASES)
def test_rewrite_fires_and_matches_golden(name, compiled):
    path, (program, _), _ = compiled[name]
    report = front_end(path).report
    assert report.counts[name] >= 1, report.summary()
    verify(program)
    check_golden(GOLDEN / f"{name}.ir-opt", format_program(program))


@pytest.mark.parametrize("name", CASES)
def test_values_agree_where_the_naive_graph_is_finite(name, compiled):
    _, (_, stable), (_, naive) = compiled[name]
    z = np.random.default_rng(1).normal(0, 3, (2, 3))
    for got, want in zip(stable(*_inputs(z)), naive(*_inputs(z))):
        finite = np.isfinite(want)
        assert finite.mean() > 0.5
        np.testing.assert_allclose(got[finite], want[finite], rtol=2e-5, atol=1e-6)


@pytest.mark.parametrize("name", CASES)
def test_stable_graph_stays_finite_at_extreme_inputs(name, compiled):
    _, (_, stable), (_, naive) = compiled[name]
    z = np.array([[100, -100, 100], [-100, 100, -100]], np.float64)
    y, g = stable(*_inputs(z))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(g))
    y0, g0 = naive(*_inputs(z))
    assert not (np.all(np.isfinite(y0)) and np.all(np.isfinite(g0))), "the naive form should overflow here"
