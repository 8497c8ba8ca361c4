"""A run's settings, resolved once: from the command line or `symdl.load`, and for `--resume` and `eval` from the
run directory's config.json (which `symdl.runtime.rundir` reads and writes)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from symdl.lowering.backends import AUTO, auto_backend, mode_of, resolve_backend

if TYPE_CHECKING:
    from pytensor.compile.mode import Mode

    from symdl.ir.nodes import Function, Program

# what config.json records of the settings, and `--resume` takes back unless given again
SAVED = ("overrides", "max_epochs", "train_limit", "data")


@dataclass(frozen=True)
class RunConfig:
    """Every setting of one model's compile and run; the backend is resolved against the program (`backend_for`),
    then per function (`backend_of`)."""

    file: Path | None = None
    overrides: tuple[str, ...] = ()  # NAME=VALUE texts, parsed once by the front end
    exclude: tuple[str, ...] = ()  # rewrites switched off by name
    backend: str | None = None  # None: the model's `backend` hyper, else the default
    backends: tuple[tuple[str, str], ...] = ()  # (fn, backend) pinned: a resumed run's, from its config.json
    nan_guard: bool = False
    tiers: bool = True  # training steps start on the quick tier while their backend compiles (`symdl.runtime.tiers`)
    max_epochs: int | None = None
    train_limit: int | None = None
    data: str | None = None
    quiet: bool = False
    out: Path | None = None
    resume: Path | None = None

    def backend_for(self, program: Program) -> str:
        """The backend this run uses: the NaN guard's C, else the one asked for, else the model's hyper, else the default."""
        return "c" if self.nan_guard else resolve_backend(program, self.backend)

    def backend_of(self, fn: Function, program: Program) -> str:
        """The backend `fn` compiles on: the NaN guard's C, else the one this run pinned for it (a resumed run
        keeps its first run's), else the run's backend, `auto` picking per function."""
        if self.nan_guard:
            return "c"
        chosen = dict(self.backends).get(fn.name) or self.backend_for(program)
        return auto_backend(fn) if chosen == AUTO else chosen

    def mode_for(self, backend: str) -> Mode:
        """The PyTensor mode compiled functions run in (the NaN guard's checking VM, or the backend's)."""
        if self.nan_guard:
            from symdl.runtime.nanguard import guard_mode

            return guard_mode()
        return mode_of(backend)

    def saved(self) -> dict[str, object]:
        """What config.json records, besides the model and its hypers."""
        return {"overrides": list(self.overrides), **{key: getattr(self, key) for key in SAVED[1:]}}

    def resumed(self, source: Path, saved: dict[str, object]) -> RunConfig:
        """The settings of a run continued from its config.json: its model file and overrides, and each option not given again."""
        given = {key: getattr(self, key) for key in SAVED[1:] if getattr(self, key) is not None}
        restored = {key: saved.get(key) for key in SAVED[1:]}
        backend = self.backend or saved.get("backend")
        pinned = () if self.backend else tuple(sorted((saved.get("backends") or {}).items()))  # --backend again: chosen anew
        return replace(
            self, file=source, overrides=tuple(saved.get("overrides") or ()), backend=backend, backends=pinned, **{**restored, **given}
        )


def sdl_literal(value: object) -> str:
    """A Python value as the text of an sdl expression (for keyword overrides)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(sdl_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return value if value.isidentifier() else f'"{value}"'
    if callable(value) and hasattr(value, "__name__"):
        return value.__name__
    return repr(value)
