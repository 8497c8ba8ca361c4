"""Models trained end to end through the CLI and the Python API, on real and generated data.

Functions compile with the `fast` backend (PyTensor's FAST_COMPILE): Numba's cold compile
costs ~18 s per function on a fresh machine, so one deliberate test covers it.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

import symdl
from symdl.runtime.checkpoint import load_arrays, save_arrays

ROOT = Path(__file__).resolve().parents[1]
FAST = ("--backend", "fast", "--quiet")


def _run(cli, tmp_path, model, *args):
    out = tmp_path / model
    status, stdout, stderr = cli("run", ROOT / "models" / f"{model}.sdl", "--out", out, *FAST, *args)
    assert status == 0, stderr
    return out, json.loads((out / "summary.json").read_text())


def test_linear_neuron_finds_the_line(cli, tmp_path):
    out, summary = _run(cli, tmp_path, "linear")
    assert summary["params"]["w"] == pytest.approx(2.0, abs=0.02)
    assert summary["params"]["b"] == pytest.approx(1.0, abs=0.05)
    assert summary["final_cost"] < 1e-3
    rows = list(csv.DictReader(open(out / "metrics.csv")))
    assert len(rows) == 1000 and float(rows[0]["train_perf"]) > float(rows[-1]["train_perf"])


def test_momentum_mlp_separates_the_clouds(cli, tmp_path):
    out, summary = _run(cli, tmp_path, "mlp_momentum")
    assert summary["epochs"] == 20 and summary["valid_accuracy"] > 0.75
    assert summary["valid_error"] == pytest.approx(1 - summary["valid_accuracy"], abs=1e-6)
    values = load_arrays(out / "params.npz")
    assert "layers.0.W.velocity" in values and np.abs(values["layers.0.W.velocity"]).sum() > 0


def test_mlp_on_fashion_mnist_early_stopping(cli, tmp_path):
    out, summary = _run(cli, tmp_path, "mlp", "--train-limit", "2000", "--max-epochs", "3", "--set", "n_hidden=32", "--set", "lr=0.1")
    assert summary["epochs"] == 3
    assert 0 < summary["best_valid_error"] < 0.4 and 0 < summary["test_error"] < 0.4
    config = json.loads((out / "config.json").read_text())
    assert config["hypers"]["n_hidden"] == 32 and config["versions"]["pytensor"].startswith("3.")
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    status, stdout, _ = cli("eval", ROOT / "models" / "mlp.sdl", "--params", out, "--backend", "fast")  # the run's --set is reused
    assert status == 0
    assert float(stdout.split("test_errors:")[1]) == pytest.approx(summary["test_error"], abs=1e-6)


def test_eval_refuses_params_of_another_shape(cli, tmp_path):
    out, _ = _run(cli, tmp_path, "linear", "--max-epochs", "2")
    status, _, err = cli("eval", ROOT / "models" / "mlp.sdl", "--params", out, "--backend", "fast")
    assert status == 2 and "lacks" in err and "Traceback" not in err


def test_python_api(tmp_path):
    m = symdl.load(ROOT / "models" / "mlp.sdl", backend="fast", n_hidden=16, batch=5)
    assert m.hypers["n_hidden"] == 16 and m.fn.train.inputs == ["x", "y"]
    x = np.random.default_rng(0).random((5, 784), dtype=np.float32)
    y = np.array([0, 1, 2, 3, 4])
    before = m.params["out.b"].copy()
    costs = [float(m.fn.train(x=x, y=y)) for _ in range(5)]
    assert costs[-1] < costs[0] and not np.allclose(before, m.params["out.b"])
    m.params["out.b"] = np.zeros(10)
    assert np.all(m.params["out.b"] == 0) and m.params["out.b"].dtype == np.float32
    assert 0.0 <= float(m.fn.validate(x, y)) <= 1.0
    save_arrays(tmp_path / "params.npz", m.values())
    again = symdl.load(ROOT / "models" / "mlp.sdl", params=tmp_path, backend="fast", n_hidden=16, batch=5)
    np.testing.assert_array_equal(again.params["hidden.W"], m.params["hidden.W"])


def test_checkpoint_survives_a_crash_mid_write(tmp_path, monkeypatch):
    path = tmp_path / "params.npz"
    save_arrays(path, {"w": np.ones(3)})

    def explode(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", explode)
    with pytest.raises(KeyboardInterrupt):
        save_arrays(path, {"w": np.zeros(3)})
    np.testing.assert_array_equal(load_arrays(path)["w"], np.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["params.npz"]


def test_numba_backend_agrees_with_fast():
    """The one deliberate Numba test: the same steps give the same parameters."""
    results = []
    for backend in ("fast", "numba"):
        m = symdl.load(ROOT / "models" / "linear.sdl", backend=backend)
        x = np.array([[1], [2], [3], [4]], np.float32)
        for _ in range(50):
            m.fn.train(x=x, y=2 * x + 1)
        results.append((float(m.params["w"]), float(m.params["b"])))
    assert results[0] == pytest.approx(results[1], rel=1e-5)


def test_jax_backend_agrees_with_fast():
    """`--backend jax` (static shapes, int64 index arithmetic) trains the same model to the same values."""
    pytest.importorskip("jax")
    results = []
    for backend in ("fast", "jax"):
        m = symdl.load(ROOT / "models" / "mlp_momentum.sdl", backend=backend, n=40)
        x = np.random.default_rng(1).normal(size=(40, 2)).astype(np.float32)
        y = (x[:, 0] > 0).astype(np.float32)
        costs = [float(m.fn.train(x=x, y=y)) for _ in range(10)]
        results.append((costs, m.params["layers.1.W"]))
    np.testing.assert_allclose(results[0][0], results[1][0], rtol=1e-4)
    np.testing.assert_allclose(results[0][1], results[1][1], rtol=1e-4, atol=1e-6)


def test_ctrl_c_leaves_a_checkpoint(tmp_path):
    """SIGINT mid-training: exit 130, params.npz readable, summary.json says how far it got."""
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "run"
    args = [sys.executable, "-m", "symdl", "run", str(ROOT / "models" / "linear.sdl"), "--backend", "fast", "--quiet",
            "--out", str(out), "--set", "epochs=100000000"]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 120
    while not (out / "metrics.csv").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["interrupted"] is True and summary["epochs"] >= 1
    assert set(load_arrays(out / "params.npz")) == {"w", "b"}
