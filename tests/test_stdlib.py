"""The standard library written in .sdl (symdl/std): update rules against NumPy references,
per-parameter state, iteration over parameter sets, the prelude and user shadowing, training mode."""

from __future__ import annotations

import numpy as np
import pytest

import symdl

TARGET = np.array([1.0, -2.0, 0.5], dtype=np.float32)
W0, B0 = np.float32(0.5), np.float32(-0.25)

QUADRATIC = """model q
input target: f32[3]
param W: f32[3] = 0.5
param b: f32[2] = -0.25
cost = 0.5 * sum((W - target) ** 2) + sum(b ** 2)
fn train(target) -> cost:
    update {rule}
"""


def _gradients(p: dict, weight_decay: float, clip: float) -> dict:
    g = {"W": p["W"] - TARGET, "b": 2 * p["b"]}
    g = {k: v + weight_decay * p[k] for k, v in g.items()}
    if clip > 0:
        norm = np.sqrt(sum(float(np.sum(v**2)) for v in g.values()) + 1e-12)
        g = {k: v * min(1.0, clip / norm) for k, v in g.items()}
    return g


def _reference(rule: str, steps: int, lr: float, weight_decay: float = 0.0, clip: float = 0.0) -> dict:
    """The update rules as their papers write them, in NumPy (float64)."""
    p = {"W": np.full(3, W0, np.float64), "b": np.full(2, B0, np.float64)}
    s = {k: np.zeros_like(v) for k, v in p.items()}
    m = {k: np.zeros_like(v) for k, v in p.items()}
    for t in range(1, steps + 1):
        g = _gradients(p, weight_decay, clip)
        for k in p:
            if rule == "sgd":
                p[k] = p[k] - lr * g[k]
            elif rule == "momentum":
                s[k] = 0.9 * s[k] - lr * g[k]
                p[k] = p[k] + s[k]
            elif rule == "nesterov":
                s[k] = 0.9 * s[k] - lr * g[k]
                p[k] = p[k] + 0.9 * s[k] - lr * g[k]
            elif rule == "adagrad":
                s[k] = s[k] + g[k] ** 2
                p[k] = p[k] - lr * g[k] / (np.sqrt(s[k]) + 1e-8)
            elif rule == "rmsprop":
                s[k] = 0.9 * s[k] + 0.1 * g[k] ** 2
                p[k] = p[k] - lr * g[k] / (np.sqrt(s[k]) + 1e-8)
            elif rule == "adam":
                m[k] = 0.9 * m[k] + 0.1 * g[k]
                s[k] = 0.999 * s[k] + 0.001 * g[k] ** 2
                p[k] = p[k] - lr * (m[k] / (1 - 0.9**t)) / (np.sqrt(s[k] / (1 - 0.999**t)) + 1e-8)
    return p


CASES = [
    ("sgd", "sgd(cost, params, 0.1)", {}),
    ("momentum", "momentum(cost, params, 0.1)", {}),
    ("nesterov", "nesterov(cost, params, 0.1)", {}),
    ("adagrad", "adagrad(cost, params, 0.1)", {}),
    ("rmsprop", "rmsprop(cost, params, 0.1)", {}),
    ("adam", "adam(cost, params, 0.1)", {}),
    ("sgd", "sgd(cost, params, 0.1, weight_decay = 0.5, clip = 0.3)", {"weight_decay": 0.5, "clip": 0.3}),
    ("adam", "adam(cost, params, lr = 0.1, weight_decay = 0.01, clip = 1.0)", {"weight_decay": 0.01, "clip": 1.0}),
]


@pytest.mark.parametrize("name,rule,options", CASES, ids=[c[1] for c in CASES])
def test_update_rules_match_numpy(write_model, name, rule, options):
    m = symdl.load(write_model(QUADRATIC.format(rule=rule)), backend="fast")
    for _ in range(4):
        m.fn.train(target=TARGET)
    expected = _reference(name, 4, 0.1, **options)
    for k in ("W", "b"):
        np.testing.assert_allclose(m.params[k], expected[k], rtol=2e-5, atol=1e-6)
    assert not np.allclose(m.params["W"], W0)  # it moved


def test_state_like_a_parameter_is_named_after_it(write_model):
    m = symdl.load(write_model(QUADRATIC.format(rule="adam(cost, params, 0.1)")), backend="fast")
    assert sorted(m.state) == ["W.m", "W.v", "adam.t", "b.m", "b.v"]
    m.fn.train(target=TARGET)
    assert float(m.state["adam.t"]) == 1.0 and m.state["W.m"].shape == (3,)


def test_gradients_in_place_of_cost_and_params(write_model):
    m = symdl.load(write_model(QUADRATIC.format(rule="momentum(grad(cost, params), 0.1)")), backend="fast")
    m.fn.train(target=TARGET)
    np.testing.assert_allclose(m.params["W"], _reference("momentum", 1, 0.1)["W"], rtol=1e-6)


LOOPS = """model loops
hyper sizes = [3, 4, 2]
input x: f32[5, 3]
for i in range(len(sizes) - 1):
    layer[i] = dense(x if i == 0 else layer[i - 1], sizes[i], sizes[i + 1])
block dense(inp, n_in, n_out):
    param W: f32[n_in, n_out] = 0.1
    param b: f32[n_out] = 0
    return tanh(inp @ W + b)
"""


def test_for_over_params_in_declaration_order(write_model):
    text = """model loops
input x: f32[5, 3]
param A: f32[3, 4] = 0.1
param c: f32[4] = 0
param B: f32[4, 2] = 0.1
cost = sum(tanh(x @ A + c) @ B)
hyper n = len(params)
for i, p in enumerate(params):
    state copy: like(p) = i
for p, g in grad(cost, params):
    total = sum(g)
fn f(x) -> cost
"""
    m = symdl.load(write_model(text), backend="fast")
    assert m.hypers["n"] == 3
    assert list(m.state) == ["A.copy", "c.copy", "B.copy"]
    assert float(m.state["B.copy"][0, 0]) == 2.0


def test_library_imports_from_any_directory_and_users_shadow_it(cli, write_model, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    text = """model shadow
from "std/layers.sdl" import dense
input x: f32[4, 3]
input y: f32[4]
h = dense(x, 3, 1)
cost = sum((flatten(h) - y) ** 2)
block sgd(cost, params, lr):
    for p in params:
        update p = p + 0 * grad(cost, p)
fn train(x, y) -> cost:
    update sgd(cost, params, 0.5)
"""
    m = symdl.load(write_model(text, "sub.sdl"), backend="fast")
    before = m.params["h.W"].copy()
    m.fn.train(x=np.ones((4, 3), np.float32), y=np.zeros(4, np.float32))
    np.testing.assert_array_equal(m.params["h.W"], before)  # the user's sgd, which does not move
    status, _, err = cli("check", write_model('model m\nfrom "std/nothing.sdl" import x\n'))
    assert status == 2 and "E213" in err and "symdl/std" in err


MODES = """model modes
from "std/layers.sdl" import dropout, batch_norm
input x: f32[64, 4]
param W: f32[4, 4] = 0.25
h = dropout(x @ W + 1, 0.5)
bn = batch_norm(h, 4, decay = 0.5)
cost = sum(bn ** 2)
fn train(x) -> h, bn:
    update sgd(cost, params, 0.0)
fn infer(x) -> h, bn
fn masked(x) -> h:
    training = true
"""


def test_training_mode_switches_dropout_and_batch_norm(write_model):
    m = symdl.load(write_model(MODES), backend="fast")
    x = np.random.default_rng(0).normal(size=(64, 4)).astype(np.float32)
    plain = x @ np.full((4, 4), 0.25, np.float32) + 1
    h, bn = m.fn.infer(x=x)
    np.testing.assert_allclose(h, plain, rtol=1e-6)  # dropout is the identity
    np.testing.assert_allclose(bn, plain / np.sqrt(1 + 1e-5), rtol=1e-5)  # running statistics 0 and 1
    assert np.all(m.state["bn.running_mean"] == 0)  # inference updates nothing
    h, bn = m.fn.train(x=x)
    dropped = h == 0
    assert 0.3 < dropped.mean() < 0.7
    np.testing.assert_allclose(h[~dropped], 2 * plain[~dropped], rtol=1e-6)  # kept units scaled by 1 / keep
    np.testing.assert_allclose(bn.mean(axis=0), 0, atol=1e-5)  # batch statistics
    np.testing.assert_allclose(m.state["bn.running_mean"], 0.5 * h.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(m.state["bn.running_var"], 0.5 + 0.5 * h.var(axis=0), rtol=1e-4)
    (h,) = m.fn.masked(x=x) if isinstance(m.fn.masked(x=x), tuple) else (m.fn.masked(x=x),)
    assert 0.3 < (h == 0).mean() < 0.7  # `training = true` turned dropout on


def test_emit_ir_shows_each_function_in_its_mode(cli, write_model):
    status, out, _ = cli("compile", write_model(MODES), "--emit", "ir")
    assert status == 0
    train = out.split("fn train")[0]
    assert "bernoulli" in train  # the training copy of the forward pass
    infer_line = next(line for line in out.splitlines() if line.startswith("fn infer"))
    infer_root = infer_line.split("h=")[1].split(",")[0]
    assert f"{infer_root}: f32[64, 4] = add(" in out  # x @ W + 1, no mask


def test_the_library_conv_takes_padding_and_strides(write_model):
    """`conv` passes padding and stride to conv2d and its pooling stride to max_pool2d."""
    text = (
        'model t\nfrom "std/layers.sdl" import conv\ninput x: f32[2, 1, 8, 8]\n'
        'a = conv(x, 1, 3, size = [3, 3], padding = "same")\n'
        "b = conv(x, 1, 3, size = [3, 3], padding = 1, stride = 2, pool = [2, 2], pool_stride = 1)\nfn f(x) -> a, b\n"
    )
    a, b = symdl.load(write_model(text), backend="fast").fn.f(x=np.ones((2, 1, 8, 8), np.float32))
    assert a.shape == (2, 3, 8, 8) and b.shape == (2, 3, 3, 3)


def test_the_library_conv_takes_dilation_and_groups(write_model):
    """`conv` passes dilation and groups to conv2d, and its filters hold n_in / groups channels each."""
    text = (
        'model t\nfrom "std/layers.sdl" import conv\ninput x: f32[2, 4, 9, 9]\n'
        "c = conv(x, 4, 6, size = [3, 3], dilation = 2, groups = 2)\nfn f(x) -> c\n"
    )
    model = symdl.load(write_model(text), backend="fast")
    assert model.params["c.W"].shape == (6, 2, 3, 3)
    c = model.fn.f(x=np.ones((2, 4, 9, 9), np.float32))
    assert c.shape == (2, 6, 5, 5)  # a 3x3 kernel two apart spans 5
