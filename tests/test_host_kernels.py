"""The C backend's own forms of conv2d and pooling (patches.py, maxpool.py), its layout rewrites (layout.py) and
NumPy sums (host.py): values and gradients against the plain PyTensor graphs they stand in for, which every
other backend runs; each test also checks that the form it covers was used."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.compile.mode import get_mode

from symdl.lowering.backends import mode_of
from symdl.lowering.conv import conv2d, max_pool2d

RNG = np.random.default_rng(0)
GRAPH = get_mode("FAST_COMPILE")  # the graphs inlined, no host Ops, no layout rewrites


def _run(mode, inputs, outputs, values):
    fn = pytensor.function(inputs, outputs, mode=mode)
    return fn(*values), {type(node.op).__name__ for node in fn.maker.fgraph.apply_nodes}


def _against_graph(inputs, outputs, values, uses: set[str], rtol=1e-6, atol=1e-6):
    """Each output on the C and fast backends equals the graph's; `uses` are the Ops the C backend must run."""
    expected, graph_ops = _run(GRAPH, inputs, outputs, values)
    assert not uses & graph_ops
    for backend in ("c", "fast"):
        got, ops = _run(mode_of(backend), inputs, outputs, values)
        assert uses <= ops, (backend, ops)
        for g, e in zip(got, expected, strict=True):
            np.testing.assert_allclose(g, e, rtol=rtol, atol=atol)


# (image, filters, conv2d's settings): one channel, several, stride and dilation and padding, groups; then a batch of
# several chunks a thread (patches.py's CHUNK_BYTES), split unevenly between the threads
CONVS = [
    ((2, 1, 9, 8), (3, 1, 3, 3), {}),
    ((2, 3, 9, 8), (4, 3, 3, 2), {"stride": (2, 3), "dilation": (1, 2), "padding": (1, 2)}),
    ((3, 4, 8, 8), (4, 2, 3, 3), {"groups": 2}),
    ((41, 6, 12, 12), (5, 6, 5, 5), {}),
]


@pytest.mark.parametrize("xs,ws,settings", CONVS)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_conv2d_patch_product_loops_match_the_graph(xs, ws, settings, dtype):
    x, w = pt.tensor("x", dtype=dtype, shape=xs), pt.tensor("w", dtype=dtype, shape=ws)
    out = conv2d(x, w, **settings)
    g = pt.tensor("g", dtype=dtype, shape=out.type.shape)
    values = [RNG.standard_normal(s).astype(dtype) for s in (xs, ws, out.type.shape)]
    outputs = [out, *pytensor.grad((out * g).sum(), [x, w])]
    # the products' sums run in the BLAS's order on C (MKL's blocks, chunk by chunk), in NumPy's in the graph: the
    # filters' gradient of the last case sums 2624 terms to about 100, a float32 rounding off by a few 1e-5
    rtol, atol = (1e-5, 1e-4) if dtype == "float32" else (1e-12, 1e-11)
    _against_graph([x, w, g], outputs, values, {"PatchProduct", "PatchProductGrad"}, rtol=rtol, atol=atol)


def test_a_first_layer_computes_only_its_filters_gradient():
    """The image's gradient, unused (the image is data), is not computed: the loop runs without it."""
    x, w = pt.tensor("x", dtype="float32", shape=(5, 1, 9, 9)), pt.tensor("w", dtype="float32", shape=(3, 1, 3, 3))
    out = conv2d(x, w)
    g = pt.tensor("g", dtype="float32", shape=out.type.shape)
    values = [RNG.standard_normal(v.type.shape).astype("float32") for v in (x, w, g)]
    _against_graph([x, w, g], [out, pytensor.grad((out * g).sum(), w)], values, {"PatchProductGrad"}, rtol=1e-5, atol=1e-5)
    fn = pytensor.function([x, w, g], pytensor.grad((out * g).sum(), w), mode=mode_of("c"))
    grads = [n.op for n in fn.maker.fgraph.apply_nodes if type(n.op).__name__ == "PatchProductGrad"]
    assert [op.image for op in grads] == [False]


def test_mixed_and_integer_convolutions_keep_the_products_dtype():
    """float32 by float64 is multiplied in float64 (as `pt.dot` upcasts); integers, which no BLAS multiplies, by the graph."""
    w = pt.tensor("w", dtype="float64", shape=(2, 1, 2, 2))
    x = pt.tensor("x", dtype="float32", shape=(2, 1, 4, 4))
    values = [RNG.standard_normal((2, 1, 4, 4)).astype("float32"), RNG.standard_normal((2, 1, 2, 2))]
    out = conv2d(x, w)
    assert out.dtype == "float64"
    _against_graph([x, w], [out], values, {"PatchProduct"}, rtol=1e-12, atol=1e-12)
    xi, wi = pt.tensor("xi", dtype="int32", shape=(2, 1, 4, 4)), pt.tensor("wi", dtype="int32", shape=(2, 1, 2, 2))
    ints = [RNG.integers(-5, 5, (2, 1, 4, 4)).astype("int32"), RNG.integers(-5, 5, (2, 1, 2, 2)).astype("int32")]
    _against_graph([xi, wi], [conv2d(xi, wi)], ints, set())


# the last one large enough to share between threads (threads.h)
POOLS = [((2, 3, 8, 8), (2, 2), True), ((2, 3, 7, 5), (2, 2), False), ((1, 6, 9), (3, 3), True), ((8, 16, 24, 24), (2, 2), True)]


@pytest.mark.parametrize("shape,size,ignore_border", POOLS)
def test_max_pool2d_gradient_loop_matches_the_graph_with_ties_and_nan(shape, size, ignore_border):
    x = pt.tensor("x", dtype="float32", shape=shape)
    out = max_pool2d(x, size, ignore_border)
    g = pt.tensor("g", dtype="float32", shape=out.type.shape)
    image = RNG.integers(0, 3, shape).astype("float32")  # many ties: each tied element gets the gradient
    image.flat[5] = np.nan
    values = [image, RNG.standard_normal(out.type.shape).astype("float32")]
    expected, _ = _run(GRAPH, [x, g], [out, pytensor.grad((out * g).sum(), x)], values)
    for backend in ("c", "fast"):
        got, ops = _run(mode_of(backend), [x, g], [out, pytensor.grad((out * g).sum(), x)], values)
        assert {"WindowMax", "WindowMaxGrad"} <= ops
        for a, b in zip(got, expected, strict=True):
            np.testing.assert_array_equal(a, b)


def test_elementwise_work_on_a_transposed_array_runs_in_its_memory_order():
    """tanh(x.T + b) and its gradients, with a sum over the transposed axes: the transposition moves past them
    (layout.py), so on C the elementwise work reads x in its own order; the numbers stay the graph's."""
    x = pt.tensor("x", dtype="float32", shape=(4, 2000, 6, 6))
    b = pt.tensor("b", dtype="float32", shape=(4,))
    y = pt.tanh(x.dimshuffle(1, 0, 2, 3) + b.dimshuffle("x", 0, "x", "x"))
    cost = (y * y.sum(axis=(0, 2, 3)).dimshuffle("x", 0, "x", "x")).sum()
    # tanh kept off its flat ends: there 1 - y**2 magnifies NumPy's and the C library's last-bit differences
    values = [0.3 * RNG.standard_normal((4, 2000, 6, 6)).astype("float32"), 0.1 * RNG.standard_normal(4).astype("float32")]
    _against_graph([x, b], [y, *pytensor.grad(cost, [x, b])], values, {"HostSum"}, rtol=1e-5)
    fn = pytensor.function([x, b], pytensor.grad(cost, b), mode=mode_of("c"))
    sums = [n for n in fn.maker.fgraph.apply_nodes if type(n.op).__name__ == "HostSum"]
    assert sums and all(n.op.axes == (1, 2, 3) for n in sums)  # over x's own axes, not the transposed view's


def test_large_float32_sums_accumulate_in_float64():
    x = pt.tensor("x", dtype="float32", shape=(3, 100_000))
    values = np.full((3, 100_000), 0.1, dtype="float32")
    values[1] = RNG.standard_normal(100_000)
    (got,), ops = _run(mode_of("c"), [x], [x.sum(axis=1)], [values])
    assert "HostSum" in ops and got.dtype == np.float32
    np.testing.assert_allclose(got, values.astype(np.float64).sum(axis=1), rtol=1e-7)


def test_only_sums_along_the_last_axis_leave_the_c_loop():
    """C's float64 accumulation is slow only along the last axis (one serial chain): a column sum stays in C."""
    x = pt.tensor("x", dtype="float32", shape=(20, 784))
    values = RNG.standard_normal((20, 784)).astype(np.float32)
    fn = pytensor.function([x], [x.sum(axis=1), x.sum(axis=0)], mode=mode_of("c"))
    sums = {type(n.op).__name__: n.op for n in fn.maker.fgraph.apply_nodes if "Sum" in type(n.op).__name__}
    assert sums["HostSum"].axes == (1,) and sums["Sum"].axis == (0,)
    for got, axis in zip(fn(values), (1, 0), strict=True):
        np.testing.assert_allclose(got, values.astype(np.float64).sum(axis=axis), rtol=1e-6)


def test_fused_float32_exponentials_run_as_numpy_passes_with_the_loops_values():
    """A fused loop with softplus, sigmoid, exp and log on enough elements runs as `UfuncElemwise` on C, with the
    graph's values, extremes included (no overflow to nan); a small one, and a float64 one, keep the C loop."""
    a, x = (pt.tensor(n, dtype="float32", shape=(20, 784)) for n in "ax")
    h = np.float32(0.05)
    outputs = [x * a - pt.softplus(a), -h * x + h * pt.sigmoid(a), pt.exp(a / np.float32(30)) + pt.log1p(x) * (a > 0)]
    values = [RNG.normal(0, 30, (20, 784)).astype(np.float32), RNG.random((20, 784), dtype=np.float32)]
    values[0][0, :4] = [-1e4, 1e4, 0, -0.0]
    expected, _ = _run(GRAPH, [a, x], outputs, values)
    got, ops = _run(mode_of("c"), [a, x], outputs, values)
    assert "UfuncElemwise" in ops
    for g, e in zip(got, expected, strict=True):
        assert g.dtype == np.float32 and g.flags.c_contiguous
        np.testing.assert_allclose(g, e, rtol=2e-6, atol=1e-6)
    for shape, dtype in (((4, 5), "float32"), ((20, 784), "float64")):
        b = pt.tensor("b", dtype=dtype, shape=shape)
        _, ops = _run(mode_of("c"), [b], [pt.softplus(b) * 2], [RNG.random(shape).astype(dtype)])
        assert "UfuncElemwise" not in ops and "Elemwise" in ops, (shape, dtype)


def test_an_l2_penalty_is_a_dot_of_rows_as_exact_as_a_float64_sum():
    """sum(W ** 2) (an L2 penalty's value) runs as `HostSumSquares` on C: float32 row dots added in float64, as
    exact as squaring and summing in float64, a transposed view included; its gradient stays 2 W."""
    w = pt.tensor("w", dtype="float32", shape=(784, 500))
    values = RNG.uniform(-0.07, 0.07, (784, 500)).astype(np.float32)
    penalty = (w**2).sum()
    (got, of_t, grad), ops = _run(mode_of("c"), [w], [penalty, (w.T**2).sum(), pytensor.grad(penalty, w)], [values])
    assert "HostSumSquares" in ops and "HostSum" not in ops and got.dtype == np.float32
    exact = (values.astype(np.float64) ** 2).sum()
    np.testing.assert_allclose([got, of_t], [exact, exact], rtol=1e-7)
    np.testing.assert_allclose(grad, 2 * values, rtol=1e-6)


def test_independent_products_on_one_operand_run_as_one_and_a_chain_stays_in_order():
    """On C, products of few rows on the same W that do not depend on each other are one product of the stacked
    rows; a Gibbs-like chain on W and W.T (each product waiting on the last) keeps its order; values agree."""
    from pytensor.tensor.blas import Dot22

    w = pt.tensor("w", dtype="float32", shape=(7, 5))
    a, b = (pt.tensor(n, dtype="float32", shape=(3, 7)) for n in "ab")
    h = pt.tanh(a @ w)
    for _ in range(3):  # the chain: v = tanh(h @ w.T), h = tanh(v @ w)
        h = pt.tanh(pt.tanh(h @ w.T) @ w)
    outputs = [a @ w, pt.round(b) @ w, (b * 2) @ w, h]
    values = [RNG.standard_normal(s).astype(np.float32) for s in ((7, 5), (3, 7), (3, 7))]
    fn = pytensor.function([w, a, b], outputs, mode=mode_of("c"))
    products = [n for n in fn.maker.fgraph.apply_nodes if isinstance(n.op, Dot22)]
    assert sorted(n.inputs[0].type.shape[0] for n in products) == [3] * 6 + [9]  # the three on the data: one
    expected, _ = _run(GRAPH, [w, a, b], outputs, values)
    for got, e in zip(fn(*values), expected, strict=True):
        np.testing.assert_allclose(got, e, rtol=1e-5, atol=1e-6)
