"""grad(..., constant = [...]) as stop_gradient marks: in the IR text, in the gradient, and checked."""

from __future__ import annotations

import numpy as np

import symdl
from symdl.ir.printer import format_program
from symdl.pipeline import front_end

MODEL = """model sg
input x: f32[4, 3]
param W: f32[3, 2] ~ normal(0, 1)
h = x @ W
c = tanh(h)
cost = sum(h * c)
fn g(x) -> grad(cost, W, constant = [{constants}]) as dW
"""


def test_constant_is_a_mark_in_the_ir_and_the_gradient_treats_it_as_fixed(write_model):
    path = write_model(MODEL.format(constants="c"))
    text = format_program(front_end(path).optimized)
    assert "stop_gradient(" in text
    m = symdl.load(path, backend="fast")
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    dW = m.fn.g(x)
    c = np.tanh(x @ m.params["W"])
    np.testing.assert_allclose(dW, x.T @ c, rtol=1e-5)  # d/dW sum(xW * c) with c fixed


def test_without_the_constant_the_gradient_goes_through_it(write_model):
    path = write_model(MODEL.format(constants=""))
    assert "stop_gradient" not in format_program(front_end(path).optimized)
    m = symdl.load(path, backend="fast")
    x = np.random.default_rng(0).normal(size=(4, 3)).astype(np.float32)
    dW = m.fn.g(x)
    h = x @ m.params["W"]
    np.testing.assert_allclose(dW, x.T @ (np.tanh(h) + h * (1 - np.tanh(h) ** 2)), rtol=1e-4)


def test_a_constant_that_does_not_reach_the_cost_is_a_warning_at_its_span(write_model, cli):
    path = write_model(MODEL.format(constants="c, x @ x.T"))
    status, _, err = cli("check", path)
    assert status == 0
    assert f"{path}:7:41: warning[W100]: constant 'x @ x.T'" in err


def test_a_parameter_reached_only_through_a_constant_is_an_error(write_model, cli):
    path = write_model(MODEL.format(constants="h"))
    status, _, err = cli("check", path)
    assert status == 2
    assert f"{path}:7:23: error[E408]" in err and "only through a constant" in err


def test_unknown_exclude_name_is_an_error_with_a_suggestion(cli):
    from conftest import MODELS

    status, _, err = cli("check", MODELS / "mlp.sdl", "--exclude", "log_sigmoid_to_softplus")
    assert status == 2 and "did you mean 'log_sigmoid_to_neg_softplus'" in err
