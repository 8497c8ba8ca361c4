"""`symdl run --nan-guard`: the first NaN/Inf stops training and names its `.sdl` line.

Models train on the generated `line` data set (x = 1..4, y = 2x + 1); the guard compiles
with the C backend, so each model here costs one small C compile (cached afterwards).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from symdl.runtime.checkpoint import load_arrays

HEAD = """model m

hyper n = 4, lr = 0.01, epochs = 30, seed = 1, floor = 2.6

data points = dataset("line", n = n)

input x: f32[n, 1]
input y: f32[n, 1]
"""

# b falls from 3 towards 1 while training; log(b - floor) turns NaN once b passes floor (epoch 4).
LOG_OF_NEGATIVE = (
    HEAD
    + """
param w: f32 = 2.5
param b: f32 = 3

a = w * x + b
barrier = log(b - floor)
perf = sum((y - a) ** 2) + 0.001 * barrier

fn train(x, y) -> perf:
    update sgd(perf, params, lr)

run epochs(train, data = points, epochs = epochs)
"""
)
BARRIER_LINE = 14

# sqrt(s) at s = 0 is finite; its derivative 1 / (2 sqrt(s)) is not: the fault is in the backward pass.
SQRT_AT_ZERO = (
    HEAD
    + """
param w: f32 = 2
param s: f32 = 0

a = w * x + 1
spread = sqrt(s)
perf = sum((y - a) ** 2) + spread

fn train(x, y) -> perf:
    update sgd(perf, params, lr)

run epochs(train, data = points, epochs = epochs)
"""
)


def _run(cli, write_model, tmp_path, text, *args):
    out = tmp_path / "run"
    status, stdout, stderr = cli("run", write_model(text), "--out", out, "--quiet", *args)
    summary = json.loads((out / "summary.json").read_text()) if (out / "summary.json").exists() else {}
    return status, stdout + stderr, summary, out


def test_nan_in_forward_pass_names_the_log_line(cli, write_model, tmp_path):
    status, text, summary, out = _run(cli, write_model, tmp_path, LOG_OF_NEGATIVE, "--nan-guard")
    assert status == 1
    assert f"model.sdl:{BARRIER_LINE}:11: error[E705]: training stopped: the first nan came from `log`" in text
    assert f"{BARRIER_LINE} | barrier = log(b - floor)" in text and "^^^^^^^^^^^^^^" in text
    assert "model.sdl:16:" not in text and "model.sdl:15:" not in text  # not the cost, not the update
    assert summary["status"] == "nan" and summary["epochs"] == 3
    assert summary["fault"] == {**summary["fault"], "line": BARRIER_LINE, "column": 11, "sdl_op": "log", "value": "nan"}
    values = load_arrays(out / "params.npz")  # finite: the faulting step's updates were not applied
    assert all(np.isfinite(v).all() for v in values.values()) and 2.5 < values["b"] < 2.6


def test_inf_in_backward_pass_names_the_update_and_says_gradient(cli, write_model, tmp_path):
    status, text, summary, _ = _run(cli, write_model, tmp_path, SQRT_AT_ZERO, "--nan-guard")
    assert status == 1
    # sgd is library code (symdl/std/optim.sdl): the guard names the model's `update sgd(...)` call that
    # expanded it, and the library's line, where the gradient is used, as a note
    assert "model.sdl:18:12: error[E705]: training stopped: the first inf came from the gradient of the cost" in text
    assert "18 |     update sgd(perf, params, lr)" in text
    assert "note: inside optim.sdl:27:24: update p = p - lr * g" in text
    assert "model.sdl:15:" not in text  # sqrt(s) itself is finite
    assert summary["status"] == "nan" and summary["fault"]["file"].endswith("model.sdl") and summary["fault"]["line"] == 18
    assert summary["fault"]["library"].startswith("optim.sdl:27:24")


# p = w x / 5 passes 1 at x = 4 in the first step: log(1 - p) inside the library's binary_cross_entropy is NaN.
LIBRARY_LOSS = HEAD.replace("model m\n", 'model m\nfrom "std/losses.sdl" import binary_cross_entropy\n') + (
    """
param w: f32 = 1.3

loss = binary_cross_entropy(w * x / 5, x / 5)

fn train(x, y) -> loss:
    update sgd(loss, params, lr)

run epochs(train, data = points, epochs = epochs)
"""
)


def test_nan_in_library_code_names_the_models_call(cli, write_model, tmp_path):
    status, text, summary, _ = _run(cli, write_model, tmp_path, LIBRARY_LOSS, "--nan-guard")
    assert status == 1
    assert "model.sdl:13:8: error[E705]: training stopped: the first nan came from" in text, text
    assert "13 | loss = binary_cross_entropy(w * x / 5, x / 5)" in text
    assert "note: inside losses.sdl:12:" in text and "log(1 - p)" in text
    assert summary["fault"]["line"] == 13 and summary["fault"]["library"].startswith("losses.sdl:12:")


def test_without_the_guard_no_line_is_named(cli, write_model, tmp_path):
    status, text, summary, _ = _run(cli, write_model, tmp_path, LOG_OF_NEGATIVE, "--backend", "fast")
    assert status == 0
    assert "E705" not in text and f"model.sdl:{BARRIER_LINE}" not in text
    assert np.isnan(summary["final_cost"]) and "status" not in summary


def test_healthy_model_trains_the_same_with_the_guard(cli, write_model, tmp_path):
    healthy = LOG_OF_NEGATIVE.replace("floor = 2.6", "floor = -5")
    _, _, plain, _ = _run(cli, write_model, tmp_path / "plain", healthy, "--backend", "c", "--max-epochs", "10")
    status, _, guarded, _ = _run(cli, write_model, tmp_path / "guarded", healthy, "--nan-guard", "--max-epochs", "10")
    assert status == 0 and "status" not in guarded
    assert guarded["final_cost"] == pytest.approx(plain["final_cost"], rel=1e-6)
    assert guarded["params"] == pytest.approx(plain["params"], rel=1e-6)
