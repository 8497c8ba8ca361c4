"""One backend table: the CLI and the Python API choose the same backend for every model."""

from __future__ import annotations

from pathlib import Path

import pytest

import symdl
from symdl.cli.main import _parser
from symdl.lowering.backends import BACKENDS, DEFAULT_BACKEND

MODELS = sorted((Path(__file__).resolve().parents[1] / "models").glob("*.sdl"))


@pytest.mark.parametrize("path", MODELS, ids=[p.stem for p in MODELS])
def test_cli_and_python_api_choose_the_same_backend(path):
    from symdl.cli.main import _front

    args = _parser().parse_args(["run", str(path)])
    _front(args)
    model = symdl.load(path)
    assert model.backend == args.backend == dict(model.program.hypers).get("backend", DEFAULT_BACKEND)


def test_an_explicit_backend_wins_over_the_models_hyper():
    rbm = next(p for p in MODELS if p.stem == "rbm")
    assert symdl.load(rbm).backend == "c" and symdl.load(rbm, backend="fast").backend == "fast"


def test_cli_choices_derive_from_the_table():
    run = _parser().parse_args(["run", "m.sdl", "--backend", "jax"])
    assert run.backend == "jax" and set(BACKENDS) == {"numba", "c", "jax", "fast"}
    with pytest.raises(SystemExit):
        _parser().parse_args(["gradcheck", "m.sdl", "--backend", "jax"])  # float64 differences are not run on JAX
