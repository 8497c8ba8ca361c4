"""A `run` line feeds a function's scalar input per call: an expression of hypers, `step` and `epoch`."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

import symdl
from tests.test_loop import _params, _resumed, _same_params

# 64 examples in minibatches of 8: 8 steps an epoch. The rate warms up over the first 4 steps and halves each epoch.
FED = """model fed
hyper lr = 0.2, warm = 4
data d = dataset("gaussian_clouds", n = 64, seed = 3)
input x: f32[8, 2]
input y: f32[8]
input rate: f32
param w: f32[2] ~ normal(1.0)
param b: f32 = 0
cost = mean((x @ w + b - y) ** 2)
fn train(x, y, rate) -> cost, rate as fed:
    update sgd(cost, params, rate)
run epochs(train, data = d, epochs = 3, shuffle = 1, rate = RATE)
"""
SCHEDULE = "lr * 0.5 ** epoch * minimum(1, (step + 1) / warm)"


def _fed_column(run: Path) -> list[float]:
    with open(run / "metrics.csv") as f:
        return [float(row["train_fed"]) for row in csv.DictReader(f)]


def test_the_fed_value_follows_step_and_epoch_as_declared(cli, write_model, tmp_path):
    path = write_model(FED.replace("RATE", SCHEDULE))
    assert cli("run", path, "--out", tmp_path / "run", "--backend", "fast", "--quiet")[0] == 0
    # epoch 1: steps 0..7 feed lr * (1/4, 2/4, 3/4, 1, 1, 1, 1, 1); epochs 2 and 3: lr / 2 and lr / 4 at every step
    expected = [0.2 * (0.25 + 0.5 + 0.75 + 5) / 8, 0.1, 0.05]
    np.testing.assert_allclose(_fed_column(tmp_path / "run"), expected, rtol=1e-6)


def test_the_fed_rate_is_the_one_the_update_uses(cli, write_model, tmp_path):
    for name, rate in (("zero", "0 * epoch"), ("schedule", SCHEDULE)):
        assert cli("run", write_model(FED.replace("RATE", rate)), "--out", tmp_path / name, "--backend", "fast", "--quiet")[0] == 0
    still, moved = _params(tmp_path / "zero"), _params(tmp_path / "schedule")
    assert _fed_column(tmp_path / "zero") == [0.0, 0.0, 0.0]
    initial = symdl.load(write_model(FED.replace("RATE", "0"), "untrained.sdl"), backend="fast").params["w"]
    np.testing.assert_array_equal(still["w"], initial)  # a rate of 0 leaves w where it started
    assert np.abs(moved["w"] - initial).max() > 0.01


def test_a_run_with_a_fed_schedule_resumed_mid_epoch_ends_bit_identical(cli, write_model, tmp_path, monkeypatch):
    path = write_model(FED.replace("RATE", SCHEDULE))
    assert cli("run", path, "--out", tmp_path / "whole", "--backend", "fast", "--quiet")[0] == 0
    _resumed(cli, monkeypatch, path, tmp_path / "parts", 11)  # 8 steps an epoch: stopped mid-epoch 2
    _same_params(tmp_path / "whole", tmp_path / "parts")
    assert _fed_column(tmp_path / "whole") == _fed_column(tmp_path / "parts")


# (name, value of `rate`, code, column, words): each mistake located at the value, before anything compiles
MISTAKES = [
    ("a misspelt counter", "lr * 0.5 ** epochs", "E200", 73, "did you mean 'epoch'"),
    ("a vector", "w", "E330", 61, "got param w: f32[2]"),
    ("a data field", "d.x", "E330", 61, "got the data field d.x"),
    ("a parameter inside", "lr * mean(w)", "E331", 61, "depends on param w"),
    ("a random draw", "uniform(shape = [])", "E331", 61, "depends on `uniform`"),
]


@pytest.mark.parametrize("name,value,code,column,words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_bad_fed_expression_gets_a_located_error(cli, write_model, name, value, code, column, words):
    check_fails_at(cli, write_model(FED.replace("RATE", value)), f"12:{column}", code, words)


def test_an_unfed_scalar_input_is_told_how_to_feed_it(cli, write_model):
    path = write_model(FED.replace(", rate = RATE", ""))
    check_fails_at(cli, path, "12:26", "E208", "feed the scalar from the run line: rate = EXPRESSION of hypers, step and epoch")


def check_fails_at(cli, path: Path, where: str, code: str, words: str) -> None:
    """`symdl check` stops with exit 2 at `where` (line:column) with `code`, its sentence or hint holding `words`."""
    status, _, err = cli("check", path)
    assert status == 2, err
    assert f"{path}:{where}: error[{code}]" in err, err
    assert words in err and "Traceback" not in err


def test_mcmc_feeds_its_draw_without_data(cli, write_model, tmp_path):
    """`draw` called with scale = step + 1 (1, 2, ...): its kept outputs are the running sums plus the scale."""
    model = """model m
input scale: f32
state pos: f32[2, 1] = 0
fn draw(scale) -> pos + scale:
    update pos = pos + scale
run mcmc(draw, burn_in = 2, samples = 3, scale = step + 1)
"""
    assert cli("run", write_model(model), "--out", tmp_path / "run", "--backend", "fast", "--quiet")[0] == 0
    draws = np.load(tmp_path / "run" / "draws.npz")["draws"]
    np.testing.assert_array_equal(draws[:, :, 0], [[3 + 3, 3 + 3], [6 + 4, 6 + 4], [10 + 5, 10 + 5]])


def test_sequences_feed_each_piece_and_its_validation(cli, write_model, tmp_path):
    from tests.test_rnnrbm import _midi_pieces

    _midi_pieces(tmp_path / "midi", 6)
    model = """model s
hyper lr = 0.1
data chorales = dataset("bach-chorales")
input v: f32[?, 88]
input rate: f32
param b: f32[88] = 0
cost = mean((v - sigmoid(b)) ** 2)
fn train(v, rate) -> cost:
    update sgd(cost, params, rate)
fn watch(v, rate) -> rate
run sequences(train, data = chorales, v = chorales.x, epochs = 2, valid = watch, rate = lr * 0.5 ** epoch)
"""
    out = tmp_path / "run"
    status, _, err = cli("run", write_model(model), "--out", out, "--data", tmp_path / "midi", "--backend", "fast", "--quiet")
    assert status == 0, err
    with open(out / "metrics.csv") as f:
        np.testing.assert_allclose([float(row["valid_cost"]) for row in csv.DictReader(f)], [0.1, 0.05], rtol=1e-6)
