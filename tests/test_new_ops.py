"""Newer operators: NumPy reference against the PyTensor lowering on signed inputs, gradients, surface."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

import symdl
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType
from symdl.lowering.backends import mode_of
from symdl.lowering.table import LOWER

FAST = mode_of("fast")

# signed values: negatives, zeros, positives, one large value to test stability
SIGNED = np.array([[-3.0, 0.0, 2.5, -0.5], [0.0, 0.0, 0.0, 0.0], [-1.0, 4.0, -2.0, 1.0]], dtype=np.float32)
LARGE = np.array([[1000.0, -1000.0, 999.0], [-800.0, -801.0, -799.5]], dtype=np.float64)


def lowered(op, values, **attrs):
    variables = [pt.tensor(dtype=str(v.dtype), shape=v.shape) for v in values]
    return pytensor.function(variables, LOWER[op](*variables, **attrs), mode=FAST)(*values)


def check_reference(op, x, **attrs):
    types = (TensorType({np.float32: "f32", np.float64: "f64"}[x.dtype.type], x.shape),)
    out_type = OPS[op].type_rule(types, attrs)
    expected = OPS[op].reference(x, **attrs)
    got = lowered(op, [x], **attrs)
    assert tuple(np.shape(got)) == out_type.shape
    np.testing.assert_allclose(np.asarray(got, "float64"), np.asarray(expected, "float64"), rtol=1e-5, atol=1e-5)
    return got


def check_grad(op, x, **attrs):
    """verify_grad of a weighted sum of the output (weights from -1 to 1, so every element counts)."""
    shape = OPS[op].type_rule((TensorType("f64", x.shape),), attrs).shape
    weights = np.linspace(-1, 1, int(np.prod(shape))).reshape(shape)
    pytensor.gradient.verify_grad(
        lambda v: pt.sum(LOWER[op](v, **attrs) * weights),
        [x.astype("float64")],
        rng=np.random.default_rng(0),
        mode=FAST,
        abs_tol=1e-5,
        rel_tol=1e-5,
    )


def run_model(write_model, body, **inputs):
    decls = "\n".join(
        f"input {k}: {'f64' if v.dtype == np.float64 else 'i32' if v.dtype == np.int32 else 'f32'}[{', '.join(map(str, v.shape))}]"
        for k, v in inputs.items()
    )
    path = write_model(f"model t\n{decls}\n{body}\nfn f({', '.join(inputs)}) -> out\n")
    return symdl.load(path, backend="fast").fn.f(**inputs)


REDUCE_CASES = [
    {"axis": (1,), "keepdims": False},
    {"axis": (0,), "keepdims": True},
    {"axis": None, "keepdims": False},
    {"axis": (0, 1), "keepdims": True},
]


# ---- logsumexp -----------------------------------------------------------------


@pytest.mark.parametrize("attrs", REDUCE_CASES)
def test_logsumexp_reference_matches_lowering(attrs):
    got = check_reference("logsumexp", SIGNED, **attrs)
    naive = np.log(np.sum(np.exp(SIGNED.astype("float64")), axis=attrs["axis"], keepdims=attrs["keepdims"]))
    np.testing.assert_allclose(got, naive, rtol=1e-5)


def test_logsumexp_is_stable_on_large_inputs():
    got = check_reference("logsumexp", LARGE, axis=(1,), keepdims=False)
    np.testing.assert_allclose(got, [1000.0 + np.log1p(np.exp(-1.0)), -799.5 + np.log(1 + np.exp(-0.5) + np.exp(-1.5))], rtol=1e-12)
    assert np.all(np.isfinite(got))


def test_logsumexp_of_minus_infinity_row():
    x = np.array([[-np.inf, -np.inf], [0.0, -np.inf]])
    got = lowered("logsumexp", [x], axis=(1,), keepdims=False)
    np.testing.assert_allclose(got, OPS["logsumexp"].reference(x, axis=(1,)))
    assert got[0] == -np.inf and got[1] == 0.0


@pytest.mark.parametrize("attrs", REDUCE_CASES[:3])
def test_logsumexp_gradient(attrs):
    check_grad("logsumexp", SIGNED, **attrs)


def test_logsumexp_gradient_is_softmax_on_large_inputs():
    v = pt.dmatrix()
    g = pytensor.function([v], pytensor.grad(pt.sum(LOWER["logsumexp"](v, axis=(1,))), v), mode=FAST)(LARGE)
    e = np.exp(LARGE - LARGE.max(axis=1, keepdims=True))
    np.testing.assert_allclose(g, e / e.sum(axis=1, keepdims=True), rtol=1e-12)


def test_logsumexp_builtin(write_model):
    out = run_model(write_model, "out = logsumexp(x, axis = 1)", x=SIGNED)
    np.testing.assert_allclose(out, OPS["logsumexp"].reference(SIGNED, axis=(1,)), rtol=1e-5)


# ---- var and std (population, ddof 0) -------------------------------------------------


@pytest.mark.parametrize("op", ["var", "std"])
@pytest.mark.parametrize("attrs", REDUCE_CASES)
def test_var_std_reference_matches_lowering(op, attrs):
    got = check_reference(op, SIGNED, **attrs)
    numpy = {"var": np.var, "std": np.std}[op](SIGNED.astype("float64"), axis=attrs["axis"], keepdims=attrs["keepdims"])
    np.testing.assert_allclose(got, numpy, rtol=1e-5, atol=1e-6)


def test_var_std_of_a_constant_row_is_zero():
    assert lowered("var", [SIGNED], axis=(1,))[1] == 0.0
    assert lowered("std", [SIGNED], axis=(1,))[1] == 0.0


@pytest.mark.parametrize("attrs", REDUCE_CASES[:3])
def test_var_gradient(attrs):
    check_grad("var", SIGNED, **attrs)


@pytest.mark.parametrize("attrs", REDUCE_CASES[:3])
def test_std_gradient(attrs):
    # std's gradient is undefined where the spread is 0 (the all-zero row); check away from it
    check_grad("std", SIGNED[[0, 2]], **attrs)


def test_var_std_builtins(write_model):
    out = run_model(write_model, "out = var(x, axis = 0) + std(x)", x=SIGNED)
    np.testing.assert_allclose(out, np.var(SIGNED, axis=0) + np.std(SIGNED), rtol=1e-5)


# ---- one_hot ------------------------------------------------------------------


LABELS = np.array([[0, 2, -1], [3, 1, 0]], dtype=np.int32)  # -1 and 3 are outside 0 .. 2


@pytest.mark.parametrize("dtype", ["int32", "int64", "uint8"])
def test_one_hot_reference_matches_lowering(dtype):
    y = np.abs(LABELS).astype(dtype) if dtype == "uint8" else LABELS.astype(dtype)
    out_type = OPS["one_hot"].type_rule((TensorType({"int32": "i32", "int64": "i64", "uint8": "u8"}[dtype], y.shape),), {"n": 3})
    got = lowered("one_hot", [y], n=3)
    assert out_type == TensorType("f32", (2, 3, 3)) and got.dtype == np.float32 and got.shape == (2, 3, 3)
    np.testing.assert_array_equal(got, OPS["one_hot"].reference(y, n=3))


def test_one_hot_values_and_out_of_range_labels():
    got = lowered("one_hot", [LABELS], n=3)
    np.testing.assert_array_equal(got[0], [[1, 0, 0], [0, 0, 1], [0, 0, 0]])  # -1: no class
    np.testing.assert_array_equal(got[1], [[0, 0, 0], [0, 1, 0], [1, 0, 0]])  # 3: no class


def test_one_hot_type_rule_refuses_float_labels_and_bad_n():
    from symdl.ir.types import TypeRuleError

    with pytest.raises(TypeRuleError) as e:
        OPS["one_hot"].type_rule((TensorType("f32", (3,)),), {"n": 3})
    assert "integer labels" in e.value.detail and e.value.code == "E401"
    with pytest.raises(TypeRuleError) as e:
        OPS["one_hot"].type_rule((TensorType("i32", (3,)),), {"n": 0})
    assert "positive integer" in e.value.detail


def test_gradient_through_one_hot_cross_entropy():
    """-sum(one_hot(y) * log_softmax(z)): its gradient in z, checked numerically, is softmax(z) - one_hot(y)."""
    y = np.array([0, 2, 1], dtype=np.int64)
    z0 = SIGNED[:, :3].astype("float64")
    target = LOWER["one_hot"](pt.constant(y), n=3)
    pytensor.gradient.verify_grad(
        lambda z: -pt.sum(target * LOWER["log_softmax"](z, axis=-1)),
        [z0],
        rng=np.random.default_rng(0),
        mode=FAST,
    )
    z = pt.dmatrix()
    g = pytensor.function([z], pytensor.grad(-pt.sum(target * LOWER["log_softmax"](z, axis=-1)), z), mode=FAST)(z0)
    np.testing.assert_allclose(g, OPS["softmax"].reference(z0) - OPS["one_hot"].reference(y, 3), rtol=1e-10)


def test_one_hot_builtin(write_model):
    out = run_model(write_model, "out = one_hot(y, 4)", y=LABELS)
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, OPS["one_hot"].reference(LABELS, 4))


def test_one_hot_n_must_be_a_compile_time_integer(write_model):
    with pytest.raises(Exception, match=r"E303.*integer known at compile time"):
        run_model(write_model, "out = one_hot(y, 2.5)", y=LABELS)


# ---- initialisers: he, lecun, glorot's gain per activation -----------------------------------


def inits(write_model, decls):
    from symdl.pipeline import front_end

    path = write_model(f"model t\ninput x: f32[3]\n{decls}\nout = sum(x)\nfn f(x) -> out\n")
    return {p.name: p.attr("init") for p in front_end(path).ir.params}


def test_he_and_lecun_are_normal_on_fan_in(write_model):
    got = inits(write_model, "param A: f32[50, 20] ~ he()\nparam B: f32[50, 20] ~ lecun()\nparam C: f32[8, 3, 5, 5] ~ he()")
    assert got["A"].kind == "normal" and got["A"].args == pytest.approx((0.0, np.sqrt(2 / 50)))
    assert got["B"].kind == "normal" and got["B"].args == pytest.approx((0.0, np.sqrt(1 / 50)))
    assert got["C"].args == pytest.approx((0.0, np.sqrt(2 / (3 * 5 * 5))))  # filter [out, in, h, w]: fan_in = in*h*w


def test_he_draws_have_the_right_spread_and_sign(write_model):
    from symdl.ir.init import initial_value

    init = inits(write_model, "param A: f32[400, 100] ~ he()")["A"]
    w = initial_value(init, TensorType("f32", (400, 100)), np.random.RandomState(0))
    assert abs(w.mean()) < 0.005 and w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    assert (w < 0).mean() == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("act,gain", [("tanh", 1.0), ("sigmoid", 4.0), ("relu", np.sqrt(2.0)), ("identity", 1.0)])
def test_glorot_gain_per_activation(write_model, act, gain):
    init = inits(write_model, f"param W: f32[30, 20] ~ glorot({act})")["W"]
    bound = gain * np.sqrt(6 / 50)
    assert init.kind == "uniform" and init.args == pytest.approx((-bound, bound))


def test_glorot_relu_is_not_the_tanh_bound(write_model):
    got = inits(write_model, "param R: f32[30, 20] ~ glorot(relu)\nparam T: f32[30, 20] ~ glorot(tanh)")
    assert got["R"].args[1] == pytest.approx(np.sqrt(2) * got["T"].args[1])


@pytest.mark.parametrize(
    "decl,words",
    [
        ("param W: f32[3, 2] ~ glorot(softmax)", ["E343", "glorot's activation", "relu"]),
        ("param W: f32[3, 2] ~ he(2)", ["E344", "no arguments"]),
        ("param b: f32[3] ~ lecun()", ["E342", "at least 2 static dimensions"]),
        ("param W: f32[3, 2] ~ kaiming()", ["E203", "he, lecun"]),
    ],
)
def test_initialiser_mistakes(write_model, decl, words):
    with pytest.raises(Exception) as e:
        inits(write_model, decl)
    for word in words:
        assert word in str(e.value)


# ---- categorical draws -------------------------------------------------------------------


def test_categorical_frequencies_match_p_including_zero_classes(write_model):
    p = np.array([0.0, 0.5, 0.0, 0.2, 0.3], dtype=np.float32)  # zero-probability classes are never drawn
    out = run_model(write_model, "out = categorical(p, shape = [40000])", p=p)
    assert out.dtype == np.int64 and out.shape == (40000,)
    freq = np.bincount(out, minlength=5) / out.size
    assert freq[0] == 0 and freq[2] == 0
    np.testing.assert_allclose(freq, p, atol=0.01)


def test_categorical_of_softmax_of_signed_logits_row_by_row(write_model):
    logits = np.tile(np.array([[-2.0, 0.0, 1.5], [3.0, -1.0, 0.0]], dtype=np.float32), (6000, 1))
    out = run_model(write_model, "out = categorical(softmax(z, axis = -1))", z=logits)
    assert out.shape == (12000,) and out.min() >= 0 and out.max() <= 2
    for row in (0, 1):
        freq = np.bincount(out[row::2], minlength=3) / 6000
        np.testing.assert_allclose(freq, OPS["softmax"].reference(logits[row]), atol=0.02)


def test_categorical_of_a_one_hot_row_is_that_class(write_model):
    y = np.array([2, 0, 1, 1], dtype=np.int32)
    out = run_model(write_model, "out = categorical(one_hot(y, 3))", y=y)
    np.testing.assert_array_equal(out, y)


def test_categorical_type_rule():
    from symdl.ir.types import TypeRuleError

    assert OPS["categorical"].type_rule((TensorType("f32", (4, 3)),), {"stream": 0}) == TensorType("i64", (4,))
    assert OPS["categorical"].type_rule((TensorType("f32", (3,)),), {"shape": (5,), "stream": 0}) == TensorType("i64", (5,))
    with pytest.raises(TypeRuleError):
        OPS["categorical"].type_rule((TensorType("f32", ()),), {"stream": 0})


def test_no_gradient_flows_through_a_categorical_draw(write_model):
    """A draw is a leaf for the gradient: the cost's gradient in p counts only the path outside the draw."""
    path = write_model(
        "model t\ninput x: f32[4, 3]\nparam W: f32[3, 3] = 0.5\np = softmax(x @ W)\n"
        "cost = sum(one_hot(categorical(p), 3) * p)\nfn f(x) -> cost:\n    update sgd(grad(cost, params), 0.1)\n"
    )
    m = symdl.load(path, backend="fast")
    x = SIGNED[:, :3].repeat(2, axis=0)[:4]
    assert np.isfinite(float(m.fn.f(x=x)))


def test_reductions_with_a_negative_axis_and_keepdims_from_the_surface(write_model):
    out = run_model(write_model, "out = logsumexp(x, axis = -1, keepdims = true) - std(x, axis = [-1], keepdims = true)", x=SIGNED)
    expected = OPS["logsumexp"].reference(SIGNED, axis=-1, keepdims=True) - np.std(SIGNED, axis=-1, keepdims=True)
    assert out.shape == (3, 1)
    np.testing.assert_allclose(out, expected, rtol=1e-5)
