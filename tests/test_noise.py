"""The noise block (lowering/noise.py): float32 noise for every step of a loop in one generator call per kind."""

from __future__ import annotations

import numpy as np
import pytensor
import pytensor.tensor as pt

from symdl.lowering.noise import NoiseBlock, Segment


def _draw(segments, steps, seed=7, mode="FAST_COMPILE"):
    rng = pt.random.shared_rng(seed=seed)
    nxt, *outs = NoiseBlock(tuple(segments), steps is not None)(rng, *([] if steps is None else [steps]))
    return pytensor.function([], outs, updates={rng: nxt}, mode=mode)


def test_uniform_and_logistic_segments_share_one_float32_call():
    segments = [Segment("uniform", (2, 3)), Segment("logistic", (4,)), Segment("normal", (5,))]
    u, logistic, z = _draw(segments, 3)()
    block = np.random.default_rng(7).random((3, 10), dtype=np.float32)
    assert u.dtype == logistic.dtype == z.dtype == np.float32 and z.shape == (3, 5)
    np.testing.assert_array_equal(u, block[:, :6].reshape(3, 2, 3))
    np.testing.assert_allclose(logistic, np.log(block[:, 6:] / (1 - block[:, 6:])), rtol=1e-6)


def test_the_generator_moves_on_and_a_single_draw_has_no_step_axis():
    f = _draw([Segment("uniform", (4,))], None)
    first, again = f()[0], f()[0]
    assert first.shape == (4,) and not np.array_equal(first, again)


def test_logistic_and_normal_noise_have_their_distributions():
    logistic, normal = _draw([Segment("logistic", (64, 100)), Segment("normal", (64, 100))], 20, mode="CVM")()
    u = 1 / (1 + np.exp(-logistic))  # the uniform it came from
    assert abs(u.mean() - 0.5) < 0.01 and abs(np.mean(u < 0.1) - 0.1) < 0.01
    assert abs(normal.mean()) < 0.02 and abs(normal.std() - 1) < 0.02 and normal.shape == (20, 64, 100)
