"""Run settings resolved once: the CLI and the Python API open every model with the same settings."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import symdl
from symdl.api import open_model
from symdl.cli.main import _parser, run_config
from symdl.ir.printer import format_program
from symdl.lowering.backends import BACKENDS, DEFAULT_BACKEND
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
