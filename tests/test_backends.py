"""Run settings resolved once: the CLI and the Python API open every model with the same settings."""

from __future__ import annotations

import dataclasses
import json
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import symdl
from symdl.api import open_model
from symdl.cli.main import _parser, run_config
from symdl.cli.run import resumed as resumed_config
from symdl.ir.printer import format_program
from symdl.lowering.backends import BACKENDS, DEFAULT_BACKEND
from symdl.runtime.background import Compiles
from symdl.runtime.config import RunConfig

MODELS = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.sdl"))


def _mode(model, backend: str) -> tuple:
    mode = model.mode_of(backend)
    query = mode.provided_optimizer
    return repr(mode.provided_linker), sorted(query.include), sorted(query.exclude), sorted(query.require)


def _settings(model) -> dict[str, object]:
    """Everything a run takes from its settings: backends, PyTensor modes, seed, hypers and the rewritten program."""
    backends = model.backends()
    return {
        "backend": model.backend,
        "backends": backends,
        "modes": {fn: _mode(model, b) for fn, b in backends.items()},
        "seed": model.seed,
        "hypers": model.hypers,
        "program": format_program(model.program),
    }


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_cli_and_python_api_agree_on_every_setting(path):
    _, cli_model = open_model(run_config(_parser().parse_args(["run", str(path)])))
    api_model = symdl.load(path)
    assert _settings(cli_model) == _settings(api_model)
    assert api_model.backend == dict(api_model.program.hypers).get("backend", DEFAULT_BACKEND)


def test_overrides_exclusions_and_backend_reach_both_alike():
    mlp = next(p for p in MODELS if p.stem == "mlp")
    argv = ["run", str(mlp), "--set", "n_hidden=7", "--set", "lr=0.5", "--exclude", "log_of_softmax_to_log_softmax", "--backend", "fast"]
    _, cli_model = open_model(run_config(_parser().parse_args(argv)))
    api_model = symdl.load(mlp, backend="fast", exclude=("log_of_softmax_to_log_softmax",), n_hidden=7, lr=0.5)
    assert _settings(cli_model) == _settings(api_model)
    assert api_model.hypers["n_hidden"] == 7 and api_model.backend == "fast"


def test_an_explicit_backend_wins_over_the_models_hyper():
    rbm = next(p for p in MODELS if p.stem == "rbm")
    assert symdl.load(rbm).backend == "c" and symdl.load(rbm, backend="fast").backend == "fast"


def test_the_nan_guard_runs_on_c_in_its_own_mode():
    rbm = next(p for p in MODELS if p.stem == "rbm")
    _, model = open_model(RunConfig(file=rbm, backend="fast", nan_guard=True))
    linker = model.mode_of(model.backend_of("train")).linker
    assert model.backend == "c" and set(model.backends().values()) == {"c"}
    assert type(linker).__name__ == "VMLinker" and not linker.use_cloop


def test_resume_takes_saved_settings_unless_given_again(tmp_path):
    saved = {"overrides": ["lr=0.1"], "max_epochs": 3, "train_limit": 50, "data": None, "backend": "c"}
    given = RunConfig(resume=tmp_path, max_epochs=5)
    resumed = given.resumed(tmp_path / "m.sdl", saved)
    assert dataclasses.astuple(resumed) == dataclasses.astuple(
        RunConfig(file=tmp_path / "m.sdl", overrides=("lr=0.1",), backend="c", max_epochs=5, train_limit=50, resume=tmp_path)
    )


def test_cli_choices_derive_from_the_table():
    run = _parser().parse_args(["run", "m.sdl", "--backend", "jax"])
    assert run.backend == "jax" and set(BACKENDS) == {"numba", "c", "jax", "fast", "auto"}
    with pytest.raises(SystemExit):
        _parser().parse_args(["gradcheck", "m.sdl", "--backend", "jax"])  # float64 differences are not run on JAX


# ---- auto: the backend per function -----------------------------------------------------------


def _model(stem: str, **settings):
    return open_model(RunConfig(file=next(p for p in MODELS if p.stem == stem), **settings))[1]


def test_auto_puts_training_steps_on_numba_and_measures_on_c():
    mlp = _model("mlp", overrides=("backend=auto",))  # its own hyper says c: asked for auto here
    assert DEFAULT_BACKEND == "auto" and mlp.backends() == {"train": "numba", "validate": "c"}


def test_auto_puts_loops_and_convolutions_on_c():
    lenet = _model("lenet", overrides=("backend=auto",))  # its own hyper says c: asked for auto here
    assert lenet.backends()["train"] == "c"
    hmc = _model("hmc")  # leapfrog steps in a scan
    assert set(hmc.backends().values()) == {"c"}


def test_a_backend_asked_for_or_named_by_the_model_holds_for_every_function():
    assert set(_model("mlp", backend="numba").backends().values()) == {"numba"}
    assert set(_model("rbm").backends().values()) == {"c"}  # its `backend` hyper


def test_config_json_records_each_functions_backend_and_resume_keeps_them(cli, tmp_path):
    mlp, out = next(p for p in MODELS if p.stem == "mlp"), tmp_path / "run"
    args = ("--train-limit", "200", "--max-epochs", "1", "--set", "n_hidden=8", "--set", "patience=100000", "--quiet")
    assert cli("run", mlp, "--out", out, "--backend", "fast", *args)[0] == 0
    saved = json.loads((out / "config.json").read_text())
    assert saved["backend"] == "fast" and saved["backends"] == {"train": "fast", "validate": "fast"}
    saved |= {"backend": "auto", "backends": {"train": "c", "validate": "fast"}}  # as if auto had picked these
    (out / "config.json").write_text(json.dumps(saved))
    _, resumed = open_model(resumed_config(RunConfig(resume=out)))
    assert resumed.backends() == {"train": "c", "validate": "fast"}
    _, again = open_model(resumed_config(RunConfig(resume=out, backend="numba")))  # --backend again: chosen anew
    assert again.backends() == {"train": "numba", "validate": "numba"}


def test_a_damaged_backends_record_is_a_located_error(cli, tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"source": "m.sdl", "backends": {"train": "gpu"}}))
    (tmp_path / "params.npz").write_bytes(b"")
    status, _, err = cli("run", "--resume", tmp_path)
    assert status == 2 and "E713" in err and "'backends' is {'train': 'gpu'}" in err


# ---- functions compiled side by side ----------------------------------------------------------


def _steps(model, batches: list[tuple[np.ndarray, np.ndarray]]) -> list[float]:
    return [float(model.fn.train(x=x, y=y)) for x, y in batches] + [float(model.fn.validate(x=x, y=y)) for x, y in batches]


def test_functions_compiled_side_by_side_compute_what_serial_compiles_do():
    rng = np.random.default_rng(0)
    batches = [(rng.random((20, 784), dtype=np.float32), rng.integers(0, 10, 20).astype(np.int32)) for _ in range(3)]
    pinned = (("train", "fast"), ("validate", "c"))  # two backends at once, each compiling in its own thread
    serial, concurrent = (_model("mlp", backends=pinned, overrides=("n_hidden=16",)) for _ in range(2))
    pending = [concurrent.compile_soon(name) for name in ("train", "validate")]
    concurrent.settle()
    for name, job in zip(("train", "validate"), pending):
        getattr(concurrent.fn, name)._compiled = concurrent.ready(job)
    assert _steps(concurrent, batches) == _steps(serial, batches)
    assert all(job.seconds is not None for job in pending)


def test_a_compile_that_fails_in_the_background_raises_where_it_is_needed():
    compiles = Compiles(verbose=False)
    compiles.add("broken", lambda: 1 / 0, concurrent=True)
    with pytest.raises(ZeroDivisionError):
        compiles.settle()


def test_the_progress_line_of_a_background_compile_counts_from_its_start(capsys):
    gate = threading.Event()
    job = Compiles(verbose=True).add("f with pytensor/c", lambda: gate.wait(5) and "compiled", concurrent=True)
    time.sleep(0.3)
    gate.set()
    assert job.result() == "compiled"
    err = capsys.readouterr().err
    seconds = float(err.split("done in ")[1].split("s")[0])
    assert "compiling f with pytensor/c" in err and "(in the background)" in err and seconds >= 0.3


def test_c_functions_hold_no_graph_op_that_compiles_with_numba_at_its_first_call():
    from pytensor.compile.builders import OpFromGraph

    model = _model("mlp", backend="c", overrides=("n_hidden=8",))
    nodes = model.compile("train").maker.fgraph.toposort()  # log-softmax and its gradient's softmax
    assert nodes and not any(isinstance(n.op, OpFromGraph) for n in nodes)
