"""Writers: what a run leaves in its directory besides metrics, one entry per kind of artifact.

Each writer takes the run directory, a file stem and an array, and writes one file atomically. Their names,
suffixes and the arrays they take are declared in `symdl/ir/recipes.py` (`WRITERS`), which `check` reads.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from symdl.ir.recipes import WHEN, FunctionArg, TensorArg, WriteArg
from symdl.runtime.checkpoint import save_arrays
from symdl.runtime.pictures import filters_picture, save_picture, square_side, tile
from symdl.runtime.session import Session


def write_filters(directory: Path, stem: str, weights: np.ndarray) -> None:
    """A weight matrix over square images (or conv filters) as a picture of its first 100 filters."""
    canvas = filters_picture(weights)
    if canvas is not None:
        save_picture(directory / f"{stem}.png", canvas)


def write_tiles(directory: Path, stem: str, images: np.ndarray) -> None:
    """Square images as they are (values in [0, 1]): `[n, pixels]` on a near-square grid, `[rows, columns,
    pixels]` one row per first index."""
    side = square_side(images.shape[-1])
    if not side:
        return
    cols = images.shape[1] if images.ndim == 3 else math.ceil(math.sqrt(len(images)))
    rows = images.shape[0] if images.ndim == 3 else math.ceil(len(images) / cols)
    save_picture(directory / f"{stem}.png", tile(images.reshape(-1, side, side), rows, cols, scale=False))


def write_npz(directory: Path, stem: str, array: np.ndarray) -> None:
    """An array in `stem.npz`, named `stem` (`mcmc`'s draws: `draws.npz`, array `draws`, `[samples, chains, ...]`)."""
    save_arrays(directory / f"{stem}.npz", {stem: array})


def write_piano_roll(directory: Path, stem: str, roll: np.ndarray, step: float = 1.0, title: str = "generated piano-roll") -> None:
    """A piano-roll `[frames, notes]` as a picture, time in quarter notes (`step` a frame)."""
    from symdl.runtime.music import save_roll_picture

    save_roll_picture(roll, directory / f"{stem}.png", step, title=title)


def write_midi(directory: Path, stem: str, roll: np.ndarray, step: float = 1.0) -> None:
    """A piano-roll as a MIDI file, `step` quarter notes a frame."""
    from symdl.runtime.music import write_midi as midi

    midi(roll, directory / f"{stem}.mid", step)


WRITERS: dict[str, Callable[..., None]] = {
    "filters": write_filters,
    "tiles": write_tiles,
    "npz": write_npz,
    "piano_roll": write_piano_roll,
    "midi": write_midi,
}


def write_hooks(s: Session, writes: tuple[WriteArg, ...]) -> dict[str, list[Callable[[int], None]]]:
    """The `write = [...]` of a `run` line (`filters =` and `tiles =` among them) as the hooks that run each
    writer: "epoch" ones after every epoch (before its checkpoint: a function that draws advances the saved
    generator), "end" ones once the stage ends. None without a run directory."""
    hooks: dict[str, list[Callable[[int], None]]] = {when: [] for when in WHEN}
    for write in writes if s.rundir is not None else ():
        hooks[write.every].append(functools.partial(_write, s, write, _reader(s, write.source)))
    return hooks


def _reader(s: Session, source: FunctionArg | TensorArg) -> Callable[[], np.ndarray]:
    """What a writer writes: a function's first output (compiled now, before training starts) or a value."""
    if isinstance(source, TensorArg):
        return lambda: s.model.values()[source.name]
    compiled = s.compile(source.name)
    return lambda: np.asarray(compiled()[0])


def _write(s: Session, write: WriteArg, read: Callable[[], np.ndarray], epoch: int) -> None:
    WRITERS[write.writer](s.rundir.path, write.file, read(), **dict(write.options))
