"""conv2d and max_pool2d: the NumPy references against SciPy, the lowering against the references,
gradients against finite differences, and shape mistakes reported at their place."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad
from scipy.signal import convolve2d

from symdl.ir.ops import OPS
from symdl.lowering.backends import mode_of
from symdl.lowering.table import LOWER

RNG = np.random.default_rng(0)
# (image [b, c, h, w], filters [o, c, kh, kw]): one channel, several, non-square images and filters, 1x1
CONV_SHAPES = [((2, 1, 6, 6), (3, 1, 3, 3)), ((2, 3, 7, 5), (4, 3, 2, 3)), ((1, 2, 5, 5), (2, 2, 5, 5)), ((3, 4, 4, 6), (1, 4, 1, 1))]


def _scipy_conv(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """conv2d by definition: a 'valid' scipy convolution per (output, input) channel pair, summed over inputs."""
    return np.array([[sum(convolve2d(img[c], w[o, c], mode="valid") for c in range(w.shape[1])) for o in range(w.shape[0])] for img in x])


def _compile(op: str, shapes, **attrs):
    variables = [pt.tensor(dtype="float64", shape=s) for s in shapes]
    return pytensor.function(variables, LOWER[op](*variables, **attrs), mode=mode_of("fast"))


@pytest.mark.parametrize("xs,ws", CONV_SHAPES)
def test_conv2d_reference_and_lowering_match_scipy(xs, ws):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    expected = _scipy_conv(x, w)
    out_type = OPS["conv2d"].type_rule((_t(xs), _t(ws)), {})
    assert out_type.shape == expected.shape
    np.testing.assert_allclose(OPS["conv2d"].reference(x, w), expected, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(_compile("conv2d", (xs, ws))(x, w), expected, rtol=1e-10, atol=1e-10)


def test_conv2d_flips_the_kernel():
    """A true convolution: an impulse's response is the filter itself (a correlation would give it flipped)."""
    x = np.zeros((1, 1, 3, 3))
    x[0, 0, 1, 1] = 1.0
    w = np.arange(4.0).reshape(1, 1, 2, 2)
    assert _compile("conv2d", (x.shape, w.shape))(x, w)[0, 0].tolist() == [[0.0, 1.0], [2.0, 3.0]]


POOL_CASES = [
    ((2, 3, 6, 6), (2, 2), True, (2, 3, 3, 3)),
    ((2, 3, 7, 5), (2, 2), True, (2, 3, 3, 2)),
    ((2, 3, 7, 5), (2, 2), False, (2, 3, 4, 3)),
    ((1, 5, 6), (3, 2), False, (1, 2, 3)),
    ((4, 4), (1, 3), False, (4, 2)),
]


@pytest.mark.parametrize("shape,size,ignore_border,expected_shape", POOL_CASES)
def test_max_pool2d_matches_a_loop(shape, size, ignore_border, expected_shape):
    """Against windows taken one by one: a partial last window is kept (its own maximum) unless ignore_border."""
    x = RNG.standard_normal(shape)
    expected = np.empty(expected_shape)
    for i, j in np.ndindex(*expected_shape[-2:]):
        window = x[..., i * size[0] : (i + 1) * size[0], j * size[1] : (j + 1) * size[1]]
        expected[..., i, j] = window.max(axis=(-2, -1))
    attrs = {"size": size, "ignore_border": ignore_border}
    assert OPS["max_pool2d"].type_rule((_t(shape),), attrs).shape == expected_shape
    np.testing.assert_array_equal(OPS["max_pool2d"].reference(x, **attrs), expected)
    np.testing.assert_array_equal(_compile("max_pool2d", (shape,), **attrs)(x), expected)


@pytest.mark.parametrize("xs,ws", CONV_SHAPES[:2])
def test_conv2d_gradients_match_finite_differences(xs, ws):
    x, w = RNG.standard_normal(xs), RNG.standard_normal(ws)
    verify_grad(lambda a, b: LOWER["conv2d"](a, b), [x, w], rng=np.random.default_rng(1), mode=mode_of("fast"))


@pytest.mark.parametrize("ignore_border", [True, False])
def test_max_pool2d_gradients_match_finite_differences(ignore_border):
    x = RNG.permutation(2 * 2 * 5 * 5).reshape(2, 2, 5, 5) / 10.0  # distinct values: no ties, no kinks within the step
    verify_grad(
        lambda a: LOWER["max_pool2d"](a, size=(2, 2), ignore_border=ignore_border), [x], rng=np.random.default_rng(1), mode=mode_of("fast")
    )


def _t(shape):
    from symdl.ir.types import TensorType

    return TensorType("f64", tuple(shape))


HEAD = """model m
hyper b = 2
input x: f32[b, 3, 8, 8]
"""
# (body, line, column, words in the message: both operand shapes where there are two)
ERRORS = [
    ("param W: f32[4, 2, 3, 3]\nz = conv2d(x, W)\n", 5, 5, ["E400", "3 channel(s)", "x is f32[2, 3, 8, 8]", "W is f32[4, 2, 3, 3]"]),
    ("param W: f32[4, 3, 9, 3]\nz = conv2d(x, W)\n", 5, 5, ["E400", "larger than the 8x8 image", "W is f32[4, 3, 9, 3]"]),
    ("param W: f32[4, 3]\nz = conv2d(x, W)\n", 5, 5, ["E402", "filters [out, channels, kh, kw]", "W is f32[4, 3]"]),
    ("z = max_pool2d(x, size = [0, 2])\n", 4, 5, ["E402", "two positive integers", "[0, 2]", "f32[2, 3, 8, 8]"]),
    ("z = max_pool2d(x, size = [2])\n", 4, 5, ["E402", "two positive integers"]),
    ("z = max_pool2d(x, size = [9, 2])\n", 4, 5, ["E400", "larger than the 8x8 image"]),
    ("z = max_pool2d(x, ignore_border = 1)\n", 4, 19, ["E306", "true or false"]),
    ("param W: f32[4, 3, 3, 3] ~ glorot(tanh, pool = [2, 0])\n", 4, 28, ["E314", "glorot's pool"]),
]


@pytest.mark.parametrize("body,line,column,words", ERRORS, ids=[str(i) for i in range(len(ERRORS))])
def test_shape_mistakes_are_reported_at_the_call(cli, write_model, body, line, column, words):
    path = write_model(HEAD + body)
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:{line}:{column}: error[" in err, err
    for word in words:
        assert word in err


def test_glorot_pool_divides_fan_out_as_the_tutorial():
    from symdl.pipeline import front_end

    program = front_end("models/lenet.sdl").ir
    bounds = {p.name: p.attr("init").args[1] for p in program.params if p.attr("init").kind == "uniform"}
    # layer 1: fan_in = 20*5*5 = 500, fan_out = 50*5*5 / (2*2) = 312.5
    assert bounds["layer1.W"] == pytest.approx(np.sqrt(6 / (500 + 312.5)))
    assert bounds["layer0.W"] == pytest.approx(np.sqrt(6 / (25 + 125)))


def test_conv_filters_tile_as_enlarged_kernels():
    from symdl.runtime.pictures import filters_picture

    canvas = filters_picture(np.random.default_rng(0).normal(size=(20, 1, 5, 5)))
    assert canvas.shape == (4 * 21 - 1, 5 * 21 - 1)  # 20 kernels of 5x5 drawn 20x20, on a 4x5 grid
    assert 0 <= canvas.min() and canvas.max() <= 1
