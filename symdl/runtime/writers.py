"""Writers: what a run leaves in its directory besides metrics, one entry per kind of artifact.

Each writer takes the run directory, a file stem and an array, and writes one file atomically.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from symdl.ir.recipes import FunctionArg, TensorArg
from symdl.runtime.checkpoint import save_arrays
from symdl.runtime.pictures import filters_picture, save_picture, square_side, tile
from symdl.runtime.session import Session


def write_filters(directory: Path, stem: str, weights: np.ndarray) -> None:
    """A weight matrix over square images (or conv filters) as a picture of its first 100 filters."""
    canvas = filters_picture(weights)
    if canvas is not None:
        save_picture(directory / f"{stem}.png", canvas)


def write_tiles(directory: Path, stem: str, rows: np.ndarray) -> None:
    """Images `[rows, columns, pixels]` (square images) on a grid, one row per first index, values as they are."""
    side = square_side(rows.shape[-1])
    if side:
        images = rows.reshape(-1, side, side)
        save_picture(directory / f"{stem}.png", tile(images, rows.shape[0], rows.shape[1], scale=False))


def write_grid(directory: Path, stem: str, images: np.ndarray) -> None:
    """Images `[n, pixels]` (square, values in [0, 1]) on a near-square grid."""
    side = square_side(images.shape[-1])
    if side:
        cols = math.ceil(math.sqrt(len(images)))
        save_picture(directory / f"{stem}.png", tile(images.reshape(-1, side, side), math.ceil(len(images) / cols), cols, scale=False))


def write_npz(directory: Path, stem: str, draws: np.ndarray) -> None:
    """Draws as `[samples, chains, ...]` in `stem.npz` (array `draws`)."""
    save_arrays(directory / f"{stem}.npz", {"draws": draws})


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
    "grid": write_grid,
    "npz": write_npz,
    "piano_roll": write_piano_roll,
    "midi": write_midi,
}


def filters_writer(s: Session, tensor: TensorArg | None) -> list[Callable[[int], None]]:
    """`filters = W`: W drawn to filters.png after each epoch (a hook of the loop; none without a run directory)."""
    if tensor is None or s.rundir is None:
        return []
    return [lambda epoch: write_filters(s.rundir.path, "filters", s.model.values()[tensor.name])]


def tiles_writer(s: Session, fn: FunctionArg | None) -> list[Callable[[int], None]]:
    """`tiles = samples`: after each epoch, the first output of `samples` (no inputs; images `[n, pixels]`) to samples.png."""
    if fn is None or s.rundir is None:
        return []
    compiled = s.compile(fn.name)
    return [lambda epoch: write_grid(s.rundir.path, fn.name, np.asarray(compiled()[0]))]
