"""Tiered compilation (`symdl.runtime.tiers`): a training step starts on the quick tier while its backend compiles
in a child process, switches between two steps, and trains as the step compiled first would.

Numba's compile takes tens of seconds cold, so these tests tier `fast` (FAST_COMPILE, seconds) as Numba is tiered."""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import numpy as np
import pytest

from symdl.api import open_model
from symdl.lowering.backends import BACKENDS
from symdl.lowering.lower import Binding
from symdl.runtime import model as model_module
from symdl.runtime.config import RunConfig
from symdl.runtime.session import Session
from symdl.runtime.tiers import Tiered

ROOT = Path(__file__).resolve().parents[1]
MLP = ROOT / "models" / "mlp.sdl"
SMALL = ("--train-limit", "400", "--max-epochs", "2", "--set", "n_hidden=16", "--set", "lr=0.1", "--set", "patience=100000")


@pytest.fixture
def tiered_fast(monkeypatch, tmp_path):
    """`fast` tiered, with its marks (steps compiled before: not tiered again) in a fresh directory."""
    monkeypatch.setitem(BACKENDS, "fast", dataclasses.replace(BACKENDS["fast"], tiered=("steps",)))
    mark = model_module.mark
    monkeypatch.setattr(model_module, "mark", lambda graph, backend: tmp_path / "marks" / mark(graph, backend).name)


def _model(tiers: bool):
    config = RunConfig(file=MLP, overrides=("n_hidden=16", "lr=0.1"), backend="fast", tiers=tiers)
    return open_model(config, verbose=True)[1]


def _bound_step(model, data: dict[str, np.ndarray]):
    import pytensor

    slots = {name: pytensor.shared(array, borrow=True) for name, array in data.items()}
    return model.ready(model.compile_soon("train", Binding(slots, 20)))


def _children() -> list[int]:
    """This process's compile children still alive (or not yet reaped)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            command = (stat.parent / "cmdline").read_bytes()
        except (OSError, ValueError, IndexError):
            continue
        if parent == os.getpid() and b"compile_child" in command:
            found.append(int(stat.parent.name))
    return found


def test_a_tiered_step_switches_between_steps_and_trains_as_the_compiled_step_alone(tiered_fast, capsys):
    rng = np.random.default_rng(0)
    data = {"x": rng.random((120, 784), dtype=np.float32), "y": rng.integers(0, 10, 120).astype(np.int32)}
    tiered, plain = _model(tiers=True), _model(tiers=False)
    step, alone = _bound_step(tiered, data), _bound_step(plain, data)
    assert isinstance(step, Tiered) and not isinstance(alone, Tiered)
    costs = [float(step(i)[0]) for i in range(3)]
    assert step.compiled is None  # the quick tier ran these
    step.pending.result(quiet=True)  # the child's compile, then this process's build from the caches
    costs += [float(step(i)[0]) for i in range(3, 6)]
    assert step.compiled is not None and "train: pytensor/fast ready after" in capsys.readouterr().err
    np.testing.assert_allclose(costs, [float(alone(i)[0]) for i in range(6)], rtol=1e-5)
    for name in tiered.params:
        np.testing.assert_allclose(tiered.params[name], plain.params[name], rtol=1e-5, atol=1e-7, err_msg=name)


def test_a_step_compiled_once_is_not_tiered_again(tiered_fast):
    rng = np.random.default_rng(0)
    data = {"x": rng.random((40, 784), dtype=np.float32), "y": rng.integers(0, 10, 40).astype(np.int32)}
    first = _model(tiers=False)
    assert not isinstance(_bound_step(first, data), Tiered)  # its compile leaves the mark
    assert not isinstance(_bound_step(_model(tiers=True), data), Tiered)


def test_steps_that_draw_on_numba_are_not_tiered():
    """Numba's stream of draws differs from NumPy's, which the quick tier draws from: a switch would change them."""
    for name, tiers in (("mlp", True), ("mlp_dropout", False)):
        model = open_model(RunConfig(file=ROOT / "models" / f"{name}.sdl"))[1]
        fn = model.function("train")
        graph = model.lowered.graph(fn, None, {}, "numba")
        assert (model.tier_mark(fn, graph, "numba") is not None) is tiers, name


def test_a_tiered_run_ends_as_an_untiered_one_and_leaves_no_compile_running(tiered_fast, cli, tmp_path):
    status, _, err = cli("run", MLP, "--out", tmp_path / "tiered", "--backend", "fast", *SMALL)
    assert status == 0 and "compiling train with pytensor/py" in err and "while fast compiles beside it" in err
    assert _children() == []
    assert cli("run", MLP, "--out", tmp_path / "plain", "--backend", "fast", "--no-tiers", *SMALL)[0] == 0
    tiered, plain = (np.load(tmp_path / run / "params.npz") for run in ("tiered", "plain"))
    for name in ("hidden.W", "hidden.b", "out.W", "out.b"):
        np.testing.assert_allclose(tiered[name], plain[name], rtol=1e-4, atol=1e-6, err_msg=name)


def test_an_interrupted_tiered_run_stops_its_compile_and_resumes(tiered_fast, cli, tmp_path, monkeypatch):
    original = Session.poll

    def poll(self):
        self.stop_requested = True  # Ctrl-C at the first step boundary, while the compile is under way
        original(self)

    with monkeypatch.context() as m:
        m.setattr(Session, "poll", poll)
        status, _, err = cli("run", MLP, "--out", tmp_path / "run", "--backend", "fast", *SMALL)
    assert status == 130 and _children() == []
    status, _, err = cli("run", "--resume", tmp_path / "run", "--quiet")
    assert status == 0, err
    assert _children() == []


def test_a_compile_child_whose_parent_is_gone_exits_at_once():
    """The child sets its own death signal (no preexec_fn, so the parent never forks itself): when the parent it
    was told of is not its parent any more, it was orphaned before that took hold, and it quits before compiling."""
    import subprocess
    import sys

    child = subprocess.run([sys.executable, "-m", "symdl.cli.compile_child", "1"], input=b"{}", capture_output=True, timeout=60)
    assert child.returncode == 1 and not child.stderr


def test_a_sweep_trials_run_whose_worker_is_gone_exits_before_training(tmp_path):
    """A sweep's trial starts `symdl run` with its worker's pid in SYMDL_PARENT_PID (no preexec_fn); a run whose
    parent is not that process any more quits before it trains or writes its run directory."""
    import os
    import subprocess
    import sys

    from symdl.runtime.parent import PARENT_ENV

    env = {**os.environ, PARENT_ENV: "1"}
    command = [sys.executable, "-m", "symdl", "run", str(MLP), "--out", str(tmp_path / "run"), "--quiet", *SMALL]
    child = subprocess.run(command, env=env, capture_output=True, timeout=120)
    assert child.returncode == 1 and not child.stderr
    assert not (tmp_path / "run").exists()
