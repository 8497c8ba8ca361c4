"""The JAX backend: every model's step runs, agrees with `fast` where no draw enters, learns where draws do;
the dataset stays on the device; the random key advances and checkpoints as on the other backends.

Tiny hyperparameters keep each JAX compile at a few seconds (the deliberate backend test of the suite).
"""

from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pytest

jax = pytest.importorskip("jax")

import symdl  # noqa: E402
from symdl.diagnostics.errors import UserError  # noqa: E402
from symdl.ir.types import NUMPY_DTYPE  # noqa: E402
from symdl.lowering.device import on_device  # noqa: E402
from symdl.runtime.session import Session  # noqa: E402

MODELS = Path(__file__).resolve().parents[1] / "models"
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")  # the linker's note that it copies the generator


def _feeds(fn, seed: int = 0, labels: int = 2) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    feeds = {}
    for node in fn.inputs:
        shape, dtype = [d or 5 for d in node.type.shape], NUMPY_DTYPE[node.type.dtype]
        feeds[node.name] = rng.random(shape).astype(dtype) if dtype.startswith("float") else rng.integers(0, labels, shape).astype(dtype)
    return feeds


def _steps(model: str, backend: str, fn: str, steps: int, **hypers) -> list[float]:
    m = symdl.load(MODELS / f"{model}.sdl", backend=backend, **hypers)
    feeds = _feeds(m.function(fn), labels=10)
    return [float(np.asarray(getattr(m.fn, fn)(**feeds)).ravel()[0]) for _ in range(steps)]


@pytest.mark.parametrize(
    ("model", "hypers"),
    [("logreg", {"batch": 6}), ("mlp", {"batch": 6, "n_hidden": 12})],
)
def test_a_step_without_draws_agrees_with_fast(model, hypers):
    jax_costs = _steps(model, "jax", "train", 3, **hypers)
    fast_costs = _steps(model, "fast", "train", 3, **hypers)
    assert jax_costs[2] < jax_costs[0]
    np.testing.assert_allclose(jax_costs, fast_costs, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize(
    ("model", "fn", "sign", "hypers"),
    [
        ("da", "train", 1, {"batch": 4, "n_hidden": 8}),
        ("rbm", "train", -1, {"batch": 4, "n_hidden": 8, "k": 2, "persistent": False}),  # monitors a log-likelihood
        ("sda", "pretrain[1]", 1, {"batch": 4, "hidden_sizes": [8, 8], "corruption_levels": [0.1, 0.2]}),
    ],
)
def test_a_step_with_draws_learns(model, fn, sign, hypers):
    """Against the same steps with a zero learning rate: the draws differ per step, the trend must not."""
    lr = "pretrain_lr" if fn.startswith("pretrain") else "lr"
    trained = sign * np.array(_steps(model, "jax", fn, 30, **hypers, **{lr: 0.5}))
    frozen = sign * np.array(_steps(model, "jax", fn, 30, **hypers, **{lr: 0.0}))
    assert np.isfinite(trained).all()
    assert np.mean(trained[-5:]) < np.mean(frozen[-5:]) - 0.05 * abs(np.mean(frozen[-5:]))


def test_a_sampler_and_a_recurrent_model_run(tmp_path):
    hmc = symdl.load(MODELS / "hmc.sdl", backend="jax", n_steps=3)
    positions = [np.asarray(hmc.fn.draw(**_feeds(hmc.function("draw")))[0]) for _ in range(3)]
    assert np.isfinite(positions).all() and not np.allclose(positions[0], positions[2])
    rnnrbm = symdl.load(MODELS / "rnnrbm.sdl", backend="jax", n_hidden=8, n_hidden_recurrent=6, k=2, k_generate=2)
    prediction = np.asarray(rnnrbm.fn.predict(v=np.zeros((4, 88), np.float32))[0])
    assert prediction.shape == (4, 88) and set(np.unique(prediction)) <= {0.0, 1.0}
    with pytest.raises(UserError) as caught:  # its gradient through a loop of run-time length: not traceable by JAX
        rnnrbm.fn.train(v=np.zeros((4, 88), np.float32))
    assert caught.value.code == "E730" and caught.value.span.line > 1


def test_the_random_key_advances_and_restores():
    m = symdl.load(MODELS / "da.sdl", backend="jax", batch=4, n_hidden=8)
    x = _feeds(m.function("train"))["x"]
    m.fn.train(x=x)
    state, values = m.random_state(), m.values()
    first, second = float(m.fn.train(x=x)), float(m.fn.train(x=x))
    assert m.random_state() != state and first != second
    m.set_values(values)
    m.set_random_state(state)  # what --resume does with a checkpoint
    assert float(m.fn.train(x=x)) == pytest.approx(first, rel=1e-6)


def test_the_dataset_stays_on_the_device(capfd):
    """After the first step only the minibatch index crosses to the device (jax's transfer log)."""
    m = symdl.load(MODELS / "mlp_momentum.sdl", backend="jax", n=16)
    session = Session(m)
    bound = session.bind("train", m.program.data[0], "train", {})
    bound.call(0)
    assert all(on_device(slot) for name, slot in bound.call.slots.items() if name != "__active__")
    capfd.readouterr()
    with warnings.catch_warnings(), jax.transfer_guard_host_to_device("log"):
        bound.call(0)
        bound.call(0)
    shapes = re.findall(r"host-to-device transfer: aval=ShapedArray\(\w+\[([^\]]*)\]", capfd.readouterr().err)
    assert shapes and all(shape == "" for shape in shapes), shapes
