"""Batched @, einsum, conv2d padding and stride, average and overlapping pooling, the length of a `?`
dimension, a state initialised from another tensor, and assert: NumPy references against the lowering on
signed inputs with zeros, gradients against finite differences, the surface, and located errors."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

import symdl
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType
from symdl.lowering.backends import mode_of
from symdl.lowering.table import LOWER

RNG = np.random.default_rng(3)
FAST = mode_of("fast")


def signed(*shape: int) -> np.ndarray:
    """Signed values, about a quarter of them exact zeros."""
    return RNG.uniform(-2.0, 2.0, shape) * (RNG.random(shape) > 0.25)


def f64(shape) -> TensorType:
    return TensorType("f64", tuple(shape))


def check(op: str, values: list[np.ndarray], **attrs) -> np.ndarray:
    """The type rule's shape, the reference and the lowering agree; returns the lowering's result."""
    out_type = OPS[op].type_rule(tuple(f64(v.shape) for v in values), attrs)
    variables = [pt.tensor(dtype="float64", shape=v.shape) for v in values]
    got = pytensor.function(variables, LOWER[op](*variables, **attrs), mode=FAST)(*values)
    expected = OPS[op].reference(*values, **attrs)
    assert got.shape == out_type.shape == np.shape(expected)
    np.testing.assert_allclose(got, expected, rtol=1e-10, atol=1e-10)
    return got


def grad_check(op: str, values: list[np.ndarray], **attrs) -> None:
    verify_grad(lambda *vs: LOWER[op](*vs, **attrs), values, rng=np.random.default_rng(1), mode=FAST, abs_tol=1e-6, rel_tol=1e-6)


def run(write_model, text: str, **inputs):
    return symdl.load(write_model(text), backend="fast").fn.f(**inputs)


# ---- batched @ ------------------------------------------------------------------------------

MATMUL = [((2, 3, 4), (2, 4, 5)), ((2, 1, 3, 4), (5, 4, 2)), ((3, 4), (6, 4, 2)), ((4,), (2, 4, 3)), ((2, 3, 4), (4,)), ((3, 4), (4, 2))]


@pytest.mark.parametrize("a,b", MATMUL)
def test_batched_matmul_is_numpys(a, b):
    x, y = signed(*a), signed(*b)
    np.testing.assert_allclose(check("matmul", [x, y]), np.matmul(x, y), rtol=1e-12)


@pytest.mark.parametrize("a,b", MATMUL[:3])
def test_batched_matmul_gradient(a, b):
    grad_check("matmul", [signed(*a), signed(*b)])


def test_batched_matmul_from_the_surface_and_its_errors(write_model, cli):
    a, b = signed(2, 3, 4).astype("float32"), signed(4, 5).astype("float32")
    out = run(write_model, "model t\ninput a: f32[2, 3, 4]\ninput b: f32[4, 5]\nout = a @ b\nfn f(a, b) -> out\n", a=a, b=b)
    np.testing.assert_allclose(out, a @ b, rtol=1e-5)
    bad = write_model("model t\ninput a: f32[2, 3, 4]\ninput b: f32[3, 5, 2]\nout = a @ b\nfn f(a, b) -> out\n", "bad.sdl")
    status, _, err = cli("check", bad)
    assert status == 2 and ":4:7: error[E400]" in err and "inner dimensions differ: 4 vs 5" in err
    batch = write_model("model t\ninput a: f32[2, 3, 4]\ninput b: f32[3, 4, 2]\nout = a @ b\nfn f(a, b) -> out\n", "batch.sdl")
    status, _, err = cli("check", batch)
    assert status == 2 and "E404" in err and "dimension 0 differs: 2 vs 3" in err


# ---- einsum -------------------------------------------------------------------------------

EINSUM = [
    ("ij,jk->ik", [(3, 4), (4, 5)]),
    ("bij,bjk->bik", [(2, 3, 4), (2, 4, 5)]),
    ("ij->ji", [(3, 4)]),
    ("ij->", [(3, 4)]),
    ("i,i->", [(5,), (5,)]),
    ("i,j->ij", [(3,), (4,)]),
    ("bhqd,bhkd->bhqk", [(2, 2, 3, 4), (2, 2, 5, 4)]),
    ("ij,jk", [(3, 4), (4, 2)]),  # implicit output: ik
]


@pytest.mark.parametrize("spec,shapes", EINSUM, ids=[s for s, _ in EINSUM])
def test_einsum_is_numpys(spec, shapes):
    values = [signed(*s) for s in shapes]
    np.testing.assert_allclose(check("einsum", values, spec=spec), np.einsum(spec, *values), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("spec,shapes", EINSUM[:3], ids=[s for s, _ in EINSUM[:3]])
def test_einsum_gradient(spec, shapes):
    grad_check("einsum", [signed(*s) for s in shapes], spec=spec)


def test_einsum_from_the_surface(write_model):
    a, b = signed(3, 4).astype("float32"), signed(4, 2).astype("float32")
    text = 'model t\ninput a: f32[3, 4]\ninput b: f32[4, 2]\nout = einsum("ij,jk->ik", a, b) - einsum("ij,jk", [a, b])\nfn f(a, b) -> out\n'
    np.testing.assert_allclose(run(write_model, text, a=a, b=b), np.zeros((3, 2)), atol=1e-6)


@pytest.mark.parametrize(
    "call,words",
    [
        ('einsum("ij,jk->ik", a, c)', ["E400", 'axis "j" of "ij,jk->ik" has size 4 in one operand and 5']),
        ('einsum("ij,jk->il", a, b)', ["E410", 'names axis "l" but no operand has it']),
        ('einsum("ij->i", a, b)', ["E410", "1 operand term(s) for 2 tensor(s)"]),
        ('einsum("ijk,jk->ik", a, b)', ["E410", 'term "ijk"', "names 3 axes of operand 1, which is f32[3, 4]"]),
        ('einsum("i...,jk->ik", a, b)', ["E410", 'no "..."']),
        ('einsum("i1,jk->ik", a, b)', ["E410", 'letters only, not "1"']),
        ("einsum(3, a, b)", ["E305", "'spec' must be a string known at compile time"]),
    ],
)
def test_einsum_mistakes_are_located(cli, write_model, call, words):
    path = write_model(f"model t\ninput a: f32[3, 4]\ninput b: f32[4, 2]\ninput c: f32[5, 2]\nout = {call}\nfn f(a, b, c) -> out\n")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:5:" in err, err
    for word in words:
        assert word in err, err


# ---- conv2d padding and stride --------------------------------------------------------------

CONV = [
    ((2, 2, 7, 6), (3, 2, 3, 3), (1, 1), (1, 1)),
    ((2, 2, 7, 6), (3, 2, 3, 2), (0, 0), (2, 2)),
    ((1, 3, 8, 8), (2, 3, 3, 3), (2, 1), (2, 3)),
    ((2, 1, 5, 6), (2, 1, 4, 3), "same", (1, 1)),
    ((2, 1, 5, 6), (2, 1, 3, 3), "same", (1, 1)),
]


def _conv_loop(x, w, padding, stride, dilation=(1, 1), groups=1):
    """conv2d by definition: pad with zeros, then at every stride-th position the flipped kernel's dot product
    with the taps `dilation` apart, each output channel over its group's input channels."""
    (kh, kw), (dh, dw) = w.shape[2:], dilation
    eh, ew = (kh - 1) * dh + 1, (kw - 1) * dw + 1
    (t, b), (left, right) = (
        (((eh - 1) // 2, eh // 2), ((ew - 1) // 2, ew // 2)) if padding == "same" else ((padding[0],) * 2, (padding[1],) * 2)
    )
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (left, right)))
    oh, ow = (xp.shape[2] - eh) // stride[0] + 1, (xp.shape[3] - ew) // stride[1] + 1
    out = np.zeros((x.shape[0], w.shape[0], oh, ow))
    per_out, per_in = w.shape[0] // groups, w.shape[1]
    for i, j, o in np.ndindex(oh, ow, w.shape[0]):
        g = o // per_out
        patch = xp[:, g * per_in : (g + 1) * per_in, i * stride[0] : i * stride[0] + eh : dh, j * stride[1] : j * stride[1] + ew : dw]
        out[:, o, i, j] = np.einsum("bckl,ckl->b", patch, w[o, :, ::-1, ::-1])
    return out


@pytest.mark.parametrize("xs,ws,padding,stride", CONV)
def test_conv2d_padding_and_stride_match_a_loop(xs, ws, padding, stride):
    x, w = signed(*xs), signed(*ws)
    got = check("conv2d", [x, w], padding=padding, stride=stride)
    np.testing.assert_allclose(got, _conv_loop(x, w, padding, stride), rtol=1e-10, atol=1e-12)
    if padding == "same":
        assert got.shape[2:] == x.shape[2:]


@pytest.mark.parametrize("xs,ws,padding,stride", CONV[1:4])
def test_conv2d_padding_and_stride_gradient(xs, ws, padding, stride):
    grad_check("conv2d", [signed(*xs), signed(*ws)], padding=padding, stride=stride)


# (image, filters, padding, stride, dilation, groups): filters [out, channels / groups, kh, kw]
DILATED_GROUPED = [
    ((2, 2, 7, 8), (3, 2, 3, 2), (0, 0), (1, 1), (2, 3), 1),
    ((2, 4, 6, 6), (6, 2, 3, 3), (1, 1), (1, 1), (1, 1), 2),
    ((1, 6, 9, 8), (3, 2, 2, 3), (1, 0), (2, 1), (2, 2), 3),
    ((2, 3, 6, 7), (3, 1, 3, 3), "same", (1, 1), (2, 1), 3),
    ((1, 4, 5, 5), (4, 1, 2, 2), "same", (1, 1), (3, 3), 4),
]


@pytest.mark.parametrize("xs,ws,padding,stride,dilation,groups", DILATED_GROUPED)
def test_conv2d_dilation_and_groups_match_a_loop(xs, ws, padding, stride, dilation, groups):
    x, w = signed(*xs), signed(*ws)
    got = check("conv2d", [x, w], padding=padding, stride=stride, dilation=dilation, groups=groups)
    np.testing.assert_allclose(got, _conv_loop(x, w, padding, stride, dilation, groups), rtol=1e-10, atol=1e-12)
    if padding == "same":
        assert got.shape[2:] == x.shape[2:]


@pytest.mark.parametrize("xs,ws,padding,stride,dilation,groups", DILATED_GROUPED[:3])
def test_conv2d_dilation_and_groups_gradient(xs, ws, padding, stride, dilation, groups):
    grad_check("conv2d", [signed(*xs), signed(*ws)], padding=padding, stride=stride, dilation=dilation, groups=groups)


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_conv2d_dilation_and_groups_on_the_compiled_backends(write_model, backend):
    x, w = signed(2, 4, 7, 7).astype("float32"), signed(6, 2, 3, 3).astype("float32")
    text = "model t\ninput x: f32[2, 4, 7, 7]\ninput w: f32[6, 2, 3, 3]\nout = conv2d(x, w, dilation = 2, groups = 2)\nfn f(x, w) -> out\n"
    got = symdl.load(write_model(text), backend=backend).fn.f(x=x, w=w)
    np.testing.assert_allclose(got, _conv_loop(x, w, (0, 0), (1, 1), (2, 2), 2), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    "call,column,words",
    [
        ("conv2d(x, w, groups = 0)", 20, ["E307", "'groups' must be at least 1, got 0"]),
        ("conv2d(x, w, dilation = [1, 0])", 20, ["E307", "'dilation' must be at least 1, got [1, 0]"]),
        ("conv2d(x, w, dilation = [1, 2, 3])", 20, ["E312", "'dilation' must be one integer or two [h, w], got 3 integers"]),
        ("conv2d(x, w, groups = 2)", 20, ["E400", "the image's 3 channel(s) do not split into 2 groups"]),
        ("conv2d(x, v, groups = 3)", 20, ["E400", "the 4 filters do not split into 3 groups"]),
        ("conv2d(x, w, groups = 3)", 7, ["E400", "the image has 3 channel(s) in 3 groups, 1 each, the filters expect 3"]),
        ("conv2d(x, w, dilation = 4)", 7, ["E400", "a 9x9 filter (dilated) is larger than the 6x6 image"]),
    ],
)
def test_conv2d_dilation_and_groups_mistakes_are_located(cli, write_model, call, column, words):
    head = "model t\ninput x: f32[2, 3, 6, 6]\ninput w: f32[3, 3, 3, 3]\ninput v: f32[4, 1, 3, 3]\n"
    path = write_model(head + f"out = {call}\nfn f(x, w, v) -> out\n")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:5:{column}:" in err, err
    for word in words:
        assert word in err, err


def test_conv2d_keywords_from_the_surface(write_model, cli):
    x, w = signed(2, 1, 6, 6).astype("float32"), signed(3, 1, 3, 3).astype("float32")
    head = "model t\ninput x: f32[2, 1, 6, 6]\ninput w: f32[3, 1, 3, 3]\n"
    out = run(
        write_model, head + 'out = conv2d(x, w, padding = "same") + conv2d(x, w, padding = 1, stride = 1)\nfn f(x, w) -> out\n', x=x, w=w
    )
    np.testing.assert_allclose(out, 2 * _conv_loop(x, w, (1, 1), (1, 1)), rtol=1e-4, atol=1e-5)
    strided = run(write_model, head + "out = conv2d(x, w, padding = [1, 0], stride = [2, 1])\nfn f(x, w) -> out\n", x=x, w=w)
    np.testing.assert_allclose(strided, _conv_loop(x, w, (1, 0), (2, 1)), rtol=1e-4, atol=1e-5)
    for call, words in [
        ('conv2d(x, w, padding = "valid")', ["E313", "'padding' must be an integer, two integers [h, w] or \"same\""]),
        ('conv2d(x, w, padding = "same", stride = 2)', ["E402", "only with stride 1"]),
        ("conv2d(x, w, stride = [1, 2, 3])", ["E312", "must be one integer or two [h, w], got 3 integers"]),
        ("conv2d(x, w, stride = 0)", ["E402", "stride 1 or more"]),
    ]:
        status, _, err = cli("check", write_model(head + f"out = {call}\nfn f(x, w) -> out\n", "bad.sdl"))
        assert status == 2 and all(word in err for word in words), err


def test_default_padding_stride_dilation_and_groups_do_not_change_the_printed_ir(write_model):
    from symdl.ir.printer import format_program
    from symdl.pipeline import front_end

    text = format_program(
        front_end(write_model("model t\ninput x: f32[2, 1, 6, 6]\ninput w: f32[3, 1, 3, 3]\nout = conv2d(x, w)\nfn f(x, w) -> out\n")).ir
    )
    assert "= conv2d(x, w)  # out" in text
    text = format_program(
        front_end(
            write_model("model t\ninput x: f32[2, 1, 6, 6]\ninput w: f32[3, 1, 3, 3]\nout = conv2d(x, w, stride = 2)\nfn f(x, w) -> out\n")
        ).ir
    )
    assert "{stride=(2, 2)}" in text
    head = "model t\ninput x: f32[2, 2, 6, 6]\ninput w: f32[2, 1, 3, 3]\n"
    text = format_program(front_end(write_model(head + "out = conv2d(x, w, dilation = 2, groups = 2)\nfn f(x, w) -> out\n")).ir)
    assert "dilation=(2, 2)" in text and "groups=2" in text and "stride" not in text


# ---- pooling: average, overlapping windows ----------------------------------------------------

POOLS = [
    ((2, 2, 6, 6), (2, 2), True, None),
    ((2, 2, 7, 5), (2, 2), False, None),
    ((2, 2, 7, 7), (3, 3), True, (2, 2)),
    ((1, 2, 7, 6), (3, 2), False, (2, 1)),
    ((5, 6), (2, 3), True, (1, 1)),
    ((2, 6, 6), (2, 2), False, (3, 3)),
]


def _pool_loop(x, size, ignore_border, stride, reduce):
    """Windows one by one from Theano's output size; a partial window reduces what it holds."""
    stride = stride or size
    sides = []
    for d, z, s in zip(x.shape[-2:], size, stride):
        if ignore_border:
            sides.append((d - z) // s + 1)
        else:
            sides.append((d - 1) // s + 1 if s >= z else max(0, (d - 1 - z + s) // s) + 1)
    out = np.empty((*x.shape[:-2], *sides))
    for i, j in np.ndindex(*sides):
        window = x[..., i * stride[0] : i * stride[0] + size[0], j * stride[1] : j * stride[1] + size[1]]
        out[..., i, j] = reduce(window, axis=(-2, -1))
    return out


@pytest.mark.parametrize("op,reduce", [("max_pool2d", np.max), ("avg_pool2d", np.mean)])
@pytest.mark.parametrize("shape,size,ignore_border,stride", POOLS)
def test_pooling_matches_a_loop(op, reduce, shape, size, ignore_border, stride):
    x = signed(*shape)
    got = check(op, [x], size=size, ignore_border=ignore_border, stride=stride)
    np.testing.assert_allclose(got, _pool_loop(x, size, ignore_border, stride, reduce), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("op", ["max_pool2d", "avg_pool2d"])
@pytest.mark.parametrize("shape,size,ignore_border,stride", POOLS[1:4])
def test_pooling_gradient(op, shape, size, ignore_border, stride):
    # distinct, signed: no ties; within [-2, 2) as signed() (larger values put the finite differences'
    # rounding, about |cost| * 1e-16 / step, above the tolerance)
    n = int(np.prod(shape))
    x = RNG.permutation(n).reshape(shape) * (4.0 / n) - 2.0
    grad_check(op, [x], size=size, ignore_border=ignore_border, stride=stride)


def test_pooling_from_the_surface(write_model):
    x = signed(2, 1, 5, 5).astype("float32")
    text = (
        "model t\ninput x: f32[2, 1, 5, 5]\n"
        "out = avg_pool2d(x, size = [3, 3], stride = 2) - max_pool2d(x, [3, 3], stride = [2, 2])\nfn f(x) -> out\n"
    )
    expected = _pool_loop(x, (3, 3), True, (2, 2), np.mean) - _pool_loop(x, (3, 3), True, (2, 2), np.max)
    np.testing.assert_allclose(run(write_model, text, x=x), expected, rtol=1e-5, atol=1e-6)


# ---- the length of a `?` dimension --------------------------------------------------------------


def test_length_of_an_unknown_dimension(write_model):
    text = (
        "model t\ninput v: f32[?, 3]\nn = v.shape[0]\nmean_row = sum(v, axis = 0) / len(v)\n"
        "k = v.shape[1] * 2\nout = cast(n, f32) * k\nfn f(v) -> n, mean_row, out\n"
    )
    v = signed(7, 3).astype("float32")
    n, mean_row, out = run(write_model, text, v=v)
    assert n.dtype == np.int64 and n == 7 and out == 7 * 6
    np.testing.assert_allclose(mean_row, v.mean(axis=0), rtol=1e-5)
    n, _, _ = symdl.load(write_model(text), backend="fast").fn.f(v=signed(2, 3).astype("float32"))
    assert n == 2


def test_static_lengths_stay_compile_time_integers(write_model):
    text = "model t\nhyper k = 4\ninput v: f32[k, 3]\nout = zeros([len(v), v.shape[1]])\nfn f(v) -> out\n"
    assert run(write_model, text, v=np.zeros((4, 3), "float32")).shape == (4, 3)


def test_a_length_known_only_at_run_time_is_no_compile_time_integer(cli, write_model):
    path = write_model("model t\ninput v: f32[?, 3]\nout = zeros([len(v), 3])\nfn f(v) -> out\n")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:3:13: error[E303]" in err and "integer known at compile time" in err


# ---- a state initialised from another tensor's initial value --------------------------------------


def test_state_starts_as_another_tensors_initial_value(write_model):
    text = (
        "model t\nhyper seed = 5\ninput x: f32[3]\nparam W: f32[3, 2] ~ normal(1)\nparam b: f32[2] ~ uniform(1)\n"
        "state W_avg: f32[3, 2] = W\nstate W64: f64[3, 2] = W_avg\nout = sum(x @ W + b)\nfn f(x) -> out:\n    update W = W + 1\n"
    )
    m = symdl.load(write_model(text), backend="fast")
    w0, avg, w64 = m.params["W"].copy(), m.state["W_avg"], m.state["W64"]
    np.testing.assert_array_equal(avg, w0)
    assert w64.dtype == np.float64 and np.array_equal(w64, w0.astype("float64"))
    reference = symdl.load(
        write_model(text.replace("state W_avg: f32[3, 2] = W\nstate W64: f64[3, 2] = W_avg\n", ""), "plain.sdl"), backend="fast"
    )
    np.testing.assert_array_equal(reference.params["b"], m.params["b"])  # a copy draws nothing: the others' draws are unchanged
    m.fn.f(x=np.ones(3, "float32"))
    np.testing.assert_array_equal(m.params["W"], w0 + 1)
    np.testing.assert_array_equal(m.state["W_avg"], w0)


def test_state_from_a_tensor_of_another_shape_is_refused(cli, write_model):
    path = write_model("model t\ninput x: f32[3]\nparam W: f32[3, 2]\nstate m: f32[2, 3] = W\nfn f(x) -> x\n")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:4:22: error[E341]" in err and "a param or state of shape f32[2, 3], got f32[3, 2]" in err


# ---- assert ------------------------------------------------------------------------------------

ASSERT_MODEL = """model t
hyper sizes = [784, 500, 10], acts = [tanh]
assert len(acts) == len(sizes) - 2, "one activation per hidden layer"
block layer(n_in, n_out):
    assert n_in > n_out, "layers narrow"
    param W: f32[n_in, n_out]
    return W
input x: f32[4]
h = layer(4, 2)
fn f(x) -> x
"""


def test_assert_passes_and_fails_at_its_span(cli, write_model):
    status, _, err = cli("check", write_model(ASSERT_MODEL))
    assert status == 0, err
    path = write_model(ASSERT_MODEL.replace("acts = [tanh]", "acts = [tanh, tanh]"), "top.sdl")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:3:1: error[E505]: assertion failed: one activation per hidden layer" in err
    assert "hint: len(acts) == len(sizes) - 2 is false" in err
    path = write_model(ASSERT_MODEL.replace("layer(4, 2)", "layer(2, 4)"), "block.sdl")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:5:5: error[E505]: assertion failed: layers narrow" in err and "in the call of layer" in err


def test_assert_without_a_message_and_on_a_tensor(cli, write_model):
    path = write_model("model t\nhyper n = 3\nassert n % 2 == 0\ninput x: f32[3]\nfn f(x) -> x\n")
    status, _, err = cli("check", path)
    assert status == 2 and "error[E505]: assertion failed: n % 2 == 0" in err
    path = write_model("model t\ninput x: f32[3]\nassert sum(x) > 0\nfn f(x) -> x\n", "tensor.sdl")
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:3:8: error[E304]" in err and "known at compile time" in err


# ---- every new operator on the compiled backends ------------------------------------------------

ALL_NEW = """model t
input x: f32[2, 1, 6, 6]
input v: f32[?, 3]
param W: f32[2, 1, 3, 3] ~ normal(0.5)
param A: f32[2, 3, 4] ~ normal(0.5)
state W0: f32[2, 1, 3, 3] = W
c = conv2d(x, W, padding = "same") + conv2d(x, W, padding = 1, stride = 1)
s = conv2d(x, W, padding = [1, 0], stride = 2)
p = avg_pool2d(c, [3, 3], stride = 1) + max_pool2d(c, [3, 3], stride = [2, 1], ignore_border = false)[:, :, :1, :1]
b = (A @ transpose(A, [0, 2, 1])) + einsum("bij,bkj->bik", A, A)
cost = sum(p) + sum(s) + sum(b) + sum(W0 * W)
n = len(v)
fn f(x, v) -> cost, n, sum(v) / cast(n, f32):
    update sgd(cost, params, 0.01)
"""


@pytest.mark.parametrize("backend", ["c", "numba"])
def test_new_operators_agree_across_backends(write_model, backend):
    """One function using every new operator and its gradient, on each backend against `fast` (Numba's
    cold compile of the gradient graph takes minutes: there the function only evaluates)."""
    path = write_model(ALL_NEW if backend == "c" else ALL_NEW.replace(":\n    update sgd(cost, params, 0.01)\n", "\n"))
    x, v = signed(2, 1, 6, 6).astype("float32"), signed(5, 3).astype("float32")
    results = {}
    for name in ("fast", backend):
        m = symdl.load(path, backend=name)
        outs = m.fn.f(x=x, v=v)
        results[name] = ([np.asarray(o) for o in outs], m.params["W"].copy(), m.params["A"].copy())
    (outs_fast, w_fast, a_fast), (outs, w, a) = results["fast"], results[backend]
    assert outs[1] == 5
    for got, expected in zip(outs, outs_fast):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(w, w_fast, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(a, a_fast, rtol=1e-4, atol=1e-5)
