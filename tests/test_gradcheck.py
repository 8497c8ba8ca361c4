"""`symdl gradcheck`: model gradients against central finite differences in float64."""

from __future__ import annotations

import re

import pytest

from symdl.ir.nodes import toposort
from symdl.ir.retype import to_float64
from symdl.lowering.lower import Lowered
from symdl.pipeline import front_end
from tests.conftest import MODELS

FAST = ("--backend", "fast")

HELD = """\
model held
input x: f32[?, 3]
param W: f32[3, 2] ~ normal(0.5)
param b: f32[2] = 0
h = tanh(x @ W + b)
target = sigmoid(x @ W) * 2
cost = mean((h - target) ** 2) + sum(W ** 2)
fn train(x) -> cost:
    update sgd(grad(cost, params, constant = [target]), 0.1)
"""


def errors_by_param(stdout: str) -> dict[str, float]:
    """The table's relative error per parameter."""
    rows = re.findall(r"^\s+\S+\s+\S+\s+(\S+)\s+\S+\s+(?:elements|\d+ directions)\s+(\S+)", stdout, re.M)
    return {param: float(err) for param, err in rows}


@pytest.mark.parametrize(
    "model,sets",
    [("logreg", []), ("mlp", ["--set", "n_hidden=7"]), ("mlp", ["--set", "n_hidden=7", "--set", "act=relu", "--set", "l1=0.01"])],
)
def test_tutorial_models_pass(cli, model, sets):
    status, out, _ = cli("gradcheck", MODELS / f"{model}.sdl", *sets, *FAST)
    errors = errors_by_param(out)
    assert status == 0, out
    assert set(errors) == ({"W", "b"} if model == "logreg" else {"hidden.W", "hidden.b", "out.W", "out.b"})
    assert max(errors.values()) < 1e-6


def test_small_parameters_by_element_large_ones_by_direction(cli):
    _, out, _ = cli("gradcheck", MODELS / "logreg.sdl", *FAST)
    assert re.search(r"\bW\s+784x10\s+4 directions", out)
    assert re.search(r"\bb\s+10\s+elements", out)


def test_a_wrong_gradient_is_caught_and_named(cli, monkeypatch):
    right = Lowered._grad

    def one_percent_off(self, node, memo, groups):
        grad = right(self, node, memo, groups)
        return grad * 1.01 if node.inputs[1].name == "b" else grad

    monkeypatch.setattr(Lowered, "_grad", one_percent_off)
    status, out, _ = cli("gradcheck", MODELS / "logreg.sdl", *FAST)
    errors = errors_by_param(out)
    assert status == 1
    assert errors["b"] == pytest.approx(0.01 / 1.01, rel=1e-3)
    assert errors["W"] < 1e-6
    assert "wrong: b" in out


def test_held_constant_is_frozen_in_the_reference(cli, write_model):
    status, out, _ = cli("gradcheck", write_model(HELD), *FAST)
    assert status == 0, out
    assert max(errors_by_param(out).values()) < 1e-6


def test_differencing_the_whole_cost_would_disagree_with_a_held_constant(cli, write_model, monkeypatch):
    """The reference must hold `target`: differencing the full cost is another gradient."""
    import symdl.runtime.gradcheck as gc

    monkeypatch.setattr(gc, "frozen_cost", lambda check, held: check.cost)
    status, out, _ = cli("gradcheck", write_model(HELD), *FAST)
    assert status == 1
    assert errors_by_param(out)["W"] > 1e-2


def test_float64_copy_has_no_float32_left_on_the_gradient_path():
    program = to_float64(front_end(MODELS / "mlp.sdl", ["n_hidden=7"]).optimized)
    train = program.function("train")
    dtypes = {n.type.dtype for n in toposort(train.roots())}
    assert "f32" not in dtypes and "f64" in dtypes
    assert all(n.attr("type").dtype == "f64" for n in program.params)


def test_unknown_fn_is_a_user_error(cli):
    status, _, err = cli("gradcheck", MODELS / "linear.sdl", "--fn", "trian", *FAST)
    assert status == 2
    assert "error[E203]: unknown function 'trian'" in err and "did you mean 'train'?" in err


def test_a_function_without_gradients_is_a_user_error(cli):
    status, _, err = cli("gradcheck", MODELS / "linear.sdl", "--fn", "predict", *FAST)
    assert status == 2
    assert "fn predict takes no gradient" in err


def test_a_gradient_inside_a_loop_body_is_differenced(cli, monkeypatch):
    status, out, _ = cli("gradcheck", MODELS / "hmc.sdl", *FAST)
    assert status == 0, out
    assert re.search(r"pos \(loop body\)\s+3x5\s+elements\s+\S+\s+ok", out), out
    right = Lowered._grad

    def off_in_the_body(self, node, memo, groups):  # leapfrog's energy gradient: wrt its carried position
        grad = right(self, node, memo, groups)
        return grad * 1.01 if node.inputs[1].op in ("arg", "add") else grad

    monkeypatch.setattr(Lowered, "_grad", off_in_the_body)
    status, out, _ = cli("gradcheck", MODELS / "hmc.sdl", *FAST)
    assert status == 1, out
    assert "wrong: pos (loop body)" in out
