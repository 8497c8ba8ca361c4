"""Random draws and scan: reproducible streams, loops that compute what NumPy computes,
errors at the user's lines, and stability across the scan boundary."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import symdl
from symdl.ir.verify import verify
from symdl.passes import run_passes
from symdl.pipeline import front_end

DRAWS = """model draws
hyper seed = {seed}
input p: f32[2000]
u = uniform(shape = [3, 4])
z = normal(1.0, 2.0, shape = [2000])
b = bernoulli(p)
fn f(p) -> u, z, b
"""


def test_draws_are_reproducible_per_seed_and_move_on_between_calls(write_model):
    p = np.full(2000, 0.3, np.float32)
    first = symdl.load(write_model(DRAWS.format(seed=5)), backend="fast")
    again = symdl.load(write_model(DRAWS.format(seed=5), "again.sdl"), backend="fast")
    other = symdl.load(write_model(DRAWS.format(seed=6), "other.sdl"), backend="fast")
    a, b, c = first.fn.f(p), again.fn.f(p), other.fn.f(p)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])
    assert not np.array_equal(first.fn.f(p)[0], a[0])  # the generator advanced


def test_draws_have_their_shapes_dtypes_and_distributions(write_model):
    m = symdl.load(write_model(DRAWS.format(seed=1)), backend="fast")
    u, z, b = m.fn.f(np.full(2000, 0.3, np.float32))
    assert u.shape == (3, 4) and u.dtype == np.float32 and 0 <= u.min() and u.max() < 1
    assert abs(z.mean() - 1.0) < 0.15 and abs(z.std() - 2.0) < 0.15
    assert set(np.unique(b)) <= {0.0, 1.0} and abs(b.mean() - 0.3) < 0.04


COINS = """model coins
input z: f32[3, 4000]
once = bernoulli(sigmoid(z))
def flip(total):
    return total + bernoulli(sigmoid(z))
totals = scan(flip, init = zeros([3, 4000]), steps = 10)
fn f(z) -> once, totals[-1] as totals
"""


def test_bernoulli_of_a_sigmoid_comes_up_at_the_sigmoids_rate(write_model):
    """Drawn as logit(u) < z from logistic noise (noise.py), once and at every step of a loop."""
    z = np.repeat(np.array([[-2.0], [0.0], [3.0]], np.float32), 4000, axis=1)
    once, totals = symdl.load(write_model(COINS), backend="fast").fn.f(z)
    rate = 1 / (1 + np.exp(-z[:, 0]))
    np.testing.assert_allclose(once.mean(axis=1), rate, atol=0.03)
    np.testing.assert_allclose(totals.mean(axis=1) / 10, rate, atol=0.01)
    assert set(np.unique(once)) == {0.0, 1.0}


LOOPS = """model loops
input xs: f32[5, 3]
param w: f32[3] = 2
def acc(x, total):
    return total + w * x                  # closure over a parameter
sums = scan(acc, init = zeros([3]), over = xs)
def inner(a):
    return a * 2
def outer(a):
    return scan(inner, init = a, steps = 2)[-1] + 1
nested = scan(outer, init = ones([3]), steps = 3)
def noisy(a):
    return a + bernoulli(0.5, shape = [3])
walk = scan(noisy, init = zeros([3]), steps = 50)
fn f(xs) -> sums, nested[-1] as last, walk[-1] as walked
"""


def test_scan_over_sequences_with_closure_nested_and_sampling_inside(write_model):
    path = write_model(LOOPS)
    m = symdl.load(path, backend="fast")
    xs = np.arange(15, dtype=np.float32).reshape(5, 3)
    sums, last, walked = m.fn.f(xs)
    np.testing.assert_allclose(sums, np.cumsum(2 * xs, axis=0))
    a = np.ones(3)
    for _ in range(3):
        a = a * 4 + 1
    np.testing.assert_allclose(last, a)
    assert 10 < walked.mean() < 40 and walked.max() <= 50  # 50 coin flips per entry
    assert not np.array_equal(m.fn.f(xs)[2], walked)  # the generator moved on through the scan
    verify(run_passes(front_end(path).ir, after_each=verify)[0])


@pytest.mark.parametrize(
    "step, call, where, message",
    [
        ("def s(h):\n    return concatenate([h, h])", "scan(s, init = v, steps = 2)", "4:12", "changes its type from f32[3] to f32[6]"),
        ("def s(a, b):\n    return a", "scan(s, init = v, steps = 2)", "3:1", "takes 2 argument(s)"),
        ("def s(h):\n    return h", "scan(s, init = v)", "5:5", "missing argument 'steps'"),
        ("def s(h):\n    return h", "scan(s, init = v, steps = 0)", "5:23", "at least 1"),
    ],
)
def test_scan_mistakes_are_reported_at_their_lines(write_model, cli, step, call, where, message):
    path = write_model(f"model bad\ninput v: f32[3]\n{step}\ny = {call}\nfn f(v) -> y\n")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:{where}:" in err and message in err, err


CONSTANT_DRAWS = """model constant_draws
def step(a, b, c):
    coin = bernoulli(0.5, shape = [64])
    def twice(x):
        return x + normal(shape = [64])
    return a + uniform(shape = [64]), b + coin, scan(twice, init = c, steps = 2)[-1]
us, coins, normals = scan(step, init = [zeros([64]), zeros([64]), zeros([64])], steps = 6)
fn f() -> us, coins, normals
"""


@pytest.mark.parametrize("backend", ["fast", "c"])
def test_a_draw_with_constant_parameters_inside_a_scan_is_drawn_at_every_step(write_model, backend):
    traces = symdl.load(write_model(CONSTANT_DRAWS), backend=backend).fn.f()
    for trace in traces:  # each step adds a fresh draw: no two steps' increments are equal
        increments = np.diff(trace, axis=0, prepend=0)
        assert len({row.tobytes() for row in increments}) == len(increments), increments


CHAIN = """model chain
input v: f32[4, 6]
param W: f32[6, 3] ~ normal(0.5)
param c: f32[3] = 0.1
def gibbs(h, a):  # a: a differentiable value carried beside the chain
    v_mean = sigmoid(h @ W.T)
    v_sample = bernoulli(v_mean)
    return v_mean, v_sample, bernoulli(sigmoid(v_sample @ W + c)), tanh(v_sample @ W + c) * a
h0 = sigmoid(v @ W)
means, samples, hs, ts = scan(gibbs, init = [h0, h0], steps = 5)
cost = sum(ts[-1]) + sum(means[2])
fn f(v) -> samples[-1] as last, means[1:3] as middle, samples, hs[-1] as h, cost, grad(cost, W) as g
"""


def test_an_unrolled_loop_computes_what_the_scan_computes(write_model, monkeypatch):
    """On C a short loop of known length is unrolled: same draws, traces, indexing and gradients as pytensor.scan."""
    from symdl.lowering import lower

    v = (np.arange(24).reshape(4, 6) % 3 == 0).astype(np.float32)
    path = write_model(CHAIN)
    unrolled = symdl.load(path, backend="c").fn.f(v)
    graph = symdl.load(path, backend="c").compile("f").maker.fgraph
    monkeypatch.setattr(lower, "UNROLL_BUDGET", 0)
    scanned = symdl.load(path, backend="c").fn.f(v)
    assert not any("Scan" in type(node.op).__name__ for node in graph.apply_nodes)
    for a, b in zip(unrolled, scanned):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-6)
    assert 0 < unrolled[2].mean() < 1  # the draws are draws


GIBBS = """model cd
input v: f32[4, 6]
param W: f32[6, 3] ~ normal(0.1)
param hbias: f32[3] = 0
param vbias: f32[6] = 0
def gibbs(h):
    v_mean = sigmoid(h @ W.T + vbias)
    v_sample = bernoulli(v_mean)
    return v_mean, v_sample, bernoulli(sigmoid(v_sample @ W + hbias))
h0 = bernoulli(sigmoid(v @ W + hbias))
v_means, v_samples, h_samples = scan(gibbs, init = h0, steps = 1)
nv = v_means[-1]
cross_entropy = mean(sum(v * log(nv) + (1 - v) * log(1 - nv), axis = 1))
fn monitor(v) -> cross_entropy
"""


def test_log_of_a_sigmoid_made_inside_a_scan_stays_finite(write_model):
    path = write_model(GIBBS)
    v = (np.arange(24).reshape(4, 6) % 2).astype(np.float32)
    saturating = np.where(np.arange(18).reshape(6, 3) % 2, 60.0, -60.0).astype(np.float32)
    stable = symdl.load(path, backend="fast")
    naive = symdl.load(path, backend="fast", exclude=("scan_sigmoid_output_to_preactivation",))
    for m in (stable, naive):
        m.params["W"] = saturating
    assert np.isfinite(stable.fn.monitor(v))
    assert not np.isfinite(naive.fn.monitor(v))
    report = front_end(path).report
    assert report.counts["scan_sigmoid_output_to_preactivation"] == 1 and report.counts["cross_entropy_to_logits"] == 1


def _break_inside_leapfrog(program):
    """The HMC program with one node of the leapfrog body retyped (f64), as a faulty rewrite could leave it."""
    from dataclasses import replace

    from symdl.ir.nodes import rebuild, toposort
    from symdl.ir.types import TensorType

    scan = next(n for n in toposort(program.roots()) if n.op == "scan")
    body = scan.attr("body")
    target = next(n for n in body.nodes(scan.inputs) if not n.is_leaf and n.op != "scan")
    broken = {id(target)}
    return rebuild(program, lambda n: replace(n, type=TensorType("f64", n.type.shape)) if id(n) in broken else n)


def test_the_verifier_enters_scan_bodies():
    from symdl.diagnostics.errors import InternalError

    program = front_end(Path(__file__).resolve().parents[1] / "models" / "hmc.sdl").optimized
    verify(program)
    with pytest.raises(InternalError, match=r"hmc.sdl:2[1-8]:"):  # the body: leapfrog and the energy gradient it takes
        verify(_break_inside_leapfrog(program))
