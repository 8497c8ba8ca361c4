"""Checkpoints hold everything needed to continue exactly: values, the draws' generator and the
recipe's position; `symdl run --resume DIR` continues an interrupted run to the same result."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symdl.runtime.checkpoint import load_arrays
from symdl.runtime.session import Session

ROOT = Path(__file__).resolve().parents[1]
RUNS = {
    "mlp": ("--train-limit", "400", "--max-epochs", "3", "--set", "n_hidden=16", "--set", "lr=0.1", "--set", "patience=100000"),
    "rbm": (
        "--train-limit",
        "200",
        "--max-epochs",
        "2",
        "--set",
        "n_hidden=9",
        "--set",
        "k=2",
        "--set",
        "plot_every=3",
        "--set",
        "n_samples=2",
        "--set",
        "n_chains=3",
    ),
    "dbn": ("--train-limit", "200", "--max-epochs", "2", "--set", "hidden_sizes=[12, 8]", "--set", "batch=20", "--set", "patience=100000"),
}


def _interrupt_after(monkeypatch, steps: int) -> None:
    """Ctrl-C as the user presses it: the session's stop flag, seen at the next step boundary."""
    calls = {"n": 0}
    original = Session.poll

    def poll(self):
        calls["n"] += 1
        if calls["n"] == steps:
            self.stop_requested = True
        original(self)

    monkeypatch.setattr(Session, "poll", poll)


@pytest.mark.parametrize("model, stop_at", [("mlp", 31), ("rbm", 13), ("dbn", 25)])
def test_an_interrupted_run_resumed_ends_where_an_uninterrupted_one_does(cli, tmp_path, monkeypatch, model, stop_at):
    path = ROOT / "models" / f"{model}.sdl"
    whole, parts = tmp_path / "whole", tmp_path / "parts"
    assert cli("run", path, "--out", whole, "--backend", "fast", "--quiet", *RUNS[model])[0] == 0
    with monkeypatch.context() as m:
        _interrupt_after(m, stop_at)  # mid-epoch, mid-stage
        status, _, err = cli("run", path, "--out", parts, "--backend", "fast", "--quiet", *RUNS[model])
    assert status == 130 and f"--resume {parts}" in err
    assert json.loads((parts / "summary.json").read_text())["interrupted"] is True
    status, _, err = cli("run", "--resume", parts, "--quiet")  # model file, --set values and backend from config.json
    assert status == 0, err
    a, b = load_arrays(whole / "params.npz"), load_arrays(parts / "params.npz")
    for name in a:
        if name != "__resume__":
            np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    done, resumed = json.loads((whole / "summary.json").read_text()), json.loads((parts / "summary.json").read_text())
    for key in ("final_cost", "best_valid_error", "test_error", "pretrain_final_costs"):
        assert done.get(key) == resumed.get(key), key
    assert (parts / "metrics.csv").read_text().count("\n") == (whole / "metrics.csv").read_text().count("\n")


def test_resume_needs_a_run_directory(cli, tmp_path):
    status, _, err = cli("run", "--resume", tmp_path)
    assert status == 2 and "not a run directory" in err


def test_resume_refuses_another_model_or_new_settings_and_out_refuses_an_existing_run(cli, tmp_path):
    run = tmp_path / "lin"
    assert cli("run", ROOT / "models" / "linear.sdl", "--out", run, "--backend", "fast", "--quiet", "--max-epochs", "3")[0] == 0
    before = (run / "params.npz").read_bytes()
    status, _, err = cli("run", ROOT / "models" / "da.sdl", "--resume", run)
    assert status == 2 and "is not the model of the run" in err
    status, _, err = cli("run", "--resume", run, "--set", "lr=0.5")
    assert status == 2 and "--resume continues a run with its own settings" in err
    status, _, err = cli("run", ROOT / "models" / "logreg.sdl", "--out", run, "--quiet")
    assert status == 2 and "already holds a run" in err
    status, _, err = cli("run", "--resume", run)  # a finished run: nothing to do, nothing rewritten
    assert status == 0 and "nothing to resume" in err
    assert (run / "params.npz").read_bytes() == before


@pytest.mark.parametrize("model", ["rbm", "da"])
def test_eval_never_runs_a_training_function(cli, tmp_path, model):
    status, _, err = cli("eval", ROOT / "models" / f"{model}.sdl", "--params", tmp_path)
    assert status == 2 and "no function to evaluate with" in err
