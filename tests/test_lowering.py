"""Each operator's NumPy reference against its PyTensor lowering, on random inputs."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE, TensorType
from symdl.lowering.backends import mode_of
from symdl.lowering.table import DRAWS, FROM_NOISE, LOWER

RNG = np.random.default_rng(0)


def test_tables_name_the_same_operators():
    assert set(LOWER) == {op for op, d in OPS.items() if not d.structural}
    assert set(DRAWS) == {op for op, d in OPS.items() if d.kind == "random"}
    assert set(FROM_NOISE) == {op for op, d in OPS.items() if d.ahead}


def _array(t: TensorType) -> np.ndarray:
    """Signed values with exact zeros among them, so a lowering that ignored a sign or a zero would fail."""
    if t.dtype == "bool":
        return RNG.random(t.shape) > 0.5
    if t.is_float:
        values = RNG.uniform(-2.0, 2.0, t.shape) * (RNG.random(t.shape) > 0.25)
        return values.astype(NUMPY_DTYPE[t.dtype])
    return RNG.integers(-3, 4, t.shape).astype(NUMPY_DTYPE[t.dtype])


# where an operator is defined only on part of the line, its inputs are moved there (by argument position)
POSITIVE = {("log", 0), ("log1p", 0), ("sqrt", 0), ("pow", 0)}
NONNEGATIVE = {("xlogx", 0)}
NONZERO = {("div", 1), ("floordiv", 1), ("mod", 1)}


def _in_domain(op: str, k: int, value: np.ndarray) -> np.ndarray:
    if (op, k) in POSITIVE:
        return np.abs(value) + np.asarray(0.1, value.dtype)
    if (op, k) in NONNEGATIVE:
        return np.abs(value)
    if (op, k) in NONZERO:
        return np.where(value == 0, np.asarray(1.5, value.dtype), value)
    return value


F = TensorType("f32", (3, 4))
CASES = [(op, (F,), {}) for op, d in OPS.items() if d.kind == "elementwise" and d.arity == (1, 1) and op not in ("cast", "not_")]
CASES += [(op, (F, F), {}) for op, d in OPS.items() if d.kind == "elementwise" and d.arity == (2, 2) and op not in ("and_", "or_")]
CASES += [
    ("not_", (TensorType("bool", (3,)),), {}),
    ("and_", (TensorType("bool", (3,)), TensorType("bool", (3,))), {}),
    ("cast", (F,), {"dtype": "i32"}),
    ("switch", (TensorType("bool", (3, 4)), F, F), {}),
    ("clip", (F, TensorType("f32", ()), TensorType("f32", ())), {}),
    ("matmul", (F, TensorType("f32", (4, 2))), {}),
    ("transpose", (F,), {}),
    ("reshape", (F,), {"shape": (2, -1)}),
    ("flatten", (TensorType("f32", (2, 3, 4)),), {"ndim": 2}),
    ("concatenate", (F, F), {"axis": 1}),
    ("softmax", (F,), {"axis": -1}),
    ("log_softmax", (F,), {"axis": -1}),
    ("argmax", (F,), {"axis": 1}),
    ("zeros", (), {"shape": (2, 3), "dtype": "f32"}),
    ("arange", (), {"n": 5}),
    ("index", (F, TensorType("i64", (3,)), TensorType("i32", (3,))), {"spec": (("tensor", 0), ("tensor", 1))}),
    ("index", (F,), {"spec": (("slice", 1, None, None), ("int", 2))}),
]
CASES += [(op, (F,), {"axis": (1,), "keepdims": False}) for op in ("sum", "mean", "max", "min", "prod")]


@pytest.mark.parametrize("op,types,attrs", CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_reference_matches_lowering(op, types, attrs):
    values = [_in_domain(op, k, _array(t)) for k, t in enumerate(types)]
    if op == "index":
        values[1:] = [np.array([0, 2, 1])[: len(v)].astype(v.dtype) for v in values[1:]]
    if op == "clip":
        values[1:] = [np.float32(0.5), np.float32(1.5)]
    out_type = OPS[op].type_rule(types, attrs)
    expected = OPS[op].reference(*values, **attrs)
    variables = [pt.tensor(dtype=NUMPY_DTYPE[t.dtype], shape=t.shape) for t in types]
    result = LOWER[op](*variables, **attrs)
    got = pytensor.function(variables, result, mode=mode_of("fast"))(*values)
    assert tuple(np.shape(got)) == tuple(d for d in out_type.shape)
    np.testing.assert_allclose(np.asarray(got, dtype="float64"), np.asarray(expected, dtype="float64"), rtol=1e-5, atol=1e-6)


def test_python_api_names_the_input_of_a_wrong_shape():
    from conftest import MODELS

    import symdl

    m = symdl.load(MODELS / "logreg.sdl", backend="fast")
    with pytest.raises(ValueError, match=r"input 'x' is declared f32\[600, 784\], got an array of shape \(3, 784\)"):
        m.fn.validate(np.zeros((3, 784)), np.zeros(3))


@pytest.mark.parametrize("backend", ["c", "fast", "numba"])
def test_float32_tanh_runs_through_numpy_where_python_ops_run_natively(backend):
    """On C and FAST_COMPILE a float32 tanh is NumPy's (host.py), with PyTensor's own gradient on its output;
    Numba keeps its compiled tanh. Values and gradients agree with NumPy's on signed inputs either way."""
    x = pt.matrix("x", dtype="float32")
    y = pt.tanh(2 * x)
    f = pytensor.function([x], [y, pytensor.grad(pt.sum(y * y), x)], mode=mode_of(backend))
    ops = {type(n.op).__name__ for n in f.maker.fgraph.toposort()}
    assert ("HostTanh" in ops) == (backend != "numba")
    a = RNG.uniform(-3, 3, (7, 5)).astype(np.float32)
    value, gradient = f(a)
    t = np.tanh(2 * a.astype(np.float64))
    np.testing.assert_allclose(value, t, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gradient, 4 * t * (1 - t * t), rtol=1e-5, atol=1e-6)
    kept = value.copy()
    again, _ = f(-a)
    np.testing.assert_array_equal(value, kept)  # the next call writes its own buffer, not the returned array
    np.testing.assert_allclose(again, -value, atol=1e-7)


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_products_of_transposes_take_the_untransposed_operands_on_numba(backend):
    """On Numba a product of a transposed matrix is a `TransposedDot` of the matrix itself (Numba's np.dot would
    copy the transpose first: transposed.py); on C the transposes stay. Values agree with NumPy's either way."""
    a, b, c, d = (pt.matrix(n, dtype="float32") for n in "abcd")
    f = pytensor.function([a, b, c, d], [a.T @ b, b @ d.T, a.T @ c.T, b @ c], mode=mode_of(backend))
    ops = [type(n.op).__name__ for n in f.maker.fgraph.toposort()]
    assert ops.count("TransposedDot") == (3 if backend == "numba" else 0)
    av, bv, cv, dv = (RNG.uniform(-2, 2, shape).astype(np.float32) for shape in ((5, 3), (5, 4), (4, 5), (6, 4)))
    for value, expected in zip(f(av, bv, cv, dv), (av.T @ bv, bv @ dv.T, av.T @ cv.T, bv @ cv), strict=True):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_minibatch_slices_keep_their_rows_contiguous_on_numba():
    """On Numba a slice without steps (a bound minibatch's rows) is a `StepFreeSubtensor` that its own Numba
    function indexes as `x[a:b]`, which keeps C-ordered rows C-ordered (PyTensor's `slice(a, b, None)` types as
    unknown layout, whose product np.dot copies first); a stepped slice stays. Values agree with NumPy's."""
    from pytensor.link.numba.dispatch.basic import numba_funcify_and_cache_key
    from pytensor.tensor.subtensor import Subtensor

    x, w, i = pt.matrix("x", dtype="float32"), pt.matrix("w", dtype="float32"), pt.lscalar("i")
    f = pytensor.function([x, w, i], [x[i * 2 : (i + 1) * 2] @ w, x[1:, :2] * 2, x[::2] * 2], mode=mode_of("numba"))
    slices = [n for n in f.maker.fgraph.toposort() if isinstance(n.op, Subtensor)]
    assert sorted(type(n.op).__name__ for n in slices) == ["StepFreeSubtensor", "StepFreeSubtensor", "Subtensor"]
    for node in (n for n in slices if type(n.op).__name__ == "StepFreeSubtensor"):
        assert numba_funcify_and_cache_key(node.op, node=node)[1].startswith("symdl:"), "PyTensor's Subtensor won the dispatch"
    xv, wv = RNG.uniform(-2, 2, (6, 3)).astype(np.float32), RNG.uniform(-2, 2, (3, 4)).astype(np.float32)
    for value, expected in zip(f(xv, wv, 1), (xv[2:4] @ wv, xv[1:, :2] * 2, xv[::2] * 2), strict=True):
        np.testing.assert_allclose(value, expected, rtol=1e-5, atol=1e-6)


def test_adams_gradient_products_are_computed_once_on_c(write_model):
    """Adam uses each gradient as `(1 - beta1) * g` and as `g ** 2`: PyTensor's Dot22Scalar folding, left on,
    computes every gradient product twice (once scaled, once not)."""
    from symdl.lowering.lower import Lowered
    from symdl.pipeline import front_end

    text = (
        'model t\nfrom "std/layers.sdl" import dense\nfrom "std/optim.sdl" import adam\n'
        "input x: f32[8, 6]\ninput y: f32[8, 3]\nh = dense(x, 6, 5, act = relu)\nout = dense(h, 5, 3, act = tanh)\n"
        "fn train(x, y) -> mean((out - y) ** 2) as cost:\n    update adam(mean((out - y) ** 2), params)\n"
    )
    program = front_end(write_model(text)).optimized
    fgraph = Lowered(program, 1, "c").function(program.function("train"), None, mode_of("c")).maker.fgraph
    products = [n for n in fgraph.toposort() if "Dot" in type(n.op).__name__ or "Gemm" in type(n.op).__name__]
    assert len(products) == 5, products  # two forward, two weight gradients, one input gradient
