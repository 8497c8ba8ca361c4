"""The Python API, on top of the compiler and the runtime: `symdl.load(path, **overrides)`.

m = symdl.load("models/mlp.sdl", n_hidden=800)
m.fn.train(x=xb, y=yb)          # compiled on first use
m.params["hidden.W"]            # numpy arrays in and out, by name

The CLI opens a model through `open_model` too, so both resolve every setting the same way.
"""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.lowering.backends import resolve_backend
from symdl.pipeline import Compiled, front_end
from symdl.runtime.config import RunConfig, sdl_literal
from symdl.runtime.model import Model
from symdl.syntax.ast import Hyper


def compile_front(config: RunConfig, defaults: dict[str, str] | None = None, warn: bool = False) -> Compiled:
    """The model file of `config` parsed, checked and rewritten; `warn` prints its warnings."""
    compiled = front_end(config.file, config.overrides, config.exclude, defaults)
    if warn:
        for warning in compiled.ir.warnings:
            print(warning.render(), file=sys.stderr)
    hyper = next((i for s in compiled.ast.body if isinstance(s, Hyper) for i in s.items if i.name == "backend"), None)
    resolve_backend(compiled.optimized, config.backend, hyper and hyper.span)  # a wrong `backend` hyper, at its line
    return compiled


def open_model(config: RunConfig, verbose: bool = False, warn: bool = False) -> tuple[Compiled, Model]:
    """Every stage's result and the runnable model, with the settings of `config` (`verbose`: announce compiles)."""
    compiled = compile_front(config, warn=warn)
    return compiled, Model(compiled.optimized, config, verbose=verbose, rewritten=frozenset(compiled.report.produced))


def load(
    path: str | Path, params: str | Path | None = None, backend: str | None = None, exclude: tuple[str, ...] = (), **overrides: object
) -> Model:
    """Parse, check, rewrite and lower a model file; `params` names a run directory to load.

    The backend is chosen as `symdl run` chooses it: `backend`, else the model's `backend` hyper, else the default.
    """
    texts = tuple(f"{k}={sdl_literal(v)}" for k, v in overrides.items())
    _, model = open_model(RunConfig(file=Path(path), overrides=texts, exclude=tuple(exclude), backend=backend))
    if params is not None:
        model.load_params(params)
    return model


__all__ = ["load", "open_model", "compile_front", "sdl_literal", "Model", "RunConfig"]
