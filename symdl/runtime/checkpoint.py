"""Atomic writes: a crash or Ctrl-C mid-write leaves the previous file intact."""

from __future__ import annotations

import io
import itertools
import json
import os
import tempfile
import time
import zipfile
from pathlib import Path

import numpy as np

from symdl.diagnostics.catalog import fail

# For the fault test only: "N" makes this process's N-th checkpoint write stop halfway through the file
# and wait (marking `params.npz.paused`), so a test can `kill -9` it mid-write.
PAUSE_ENV = "SYMDL_TEST_PAUSE_CHECKPOINT"
_checkpoints = itertools.count(1)


def _atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            if path.name == "params.npz" and os.environ.get(PAUSE_ENV) == str(next(_checkpoints)):
                write = _halfway_then_wait(write, path)
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _halfway_then_wait(write, path: Path):
    def halfway(handle) -> None:
        buffer = io.BytesIO()
        write(buffer)
        data = buffer.getvalue()
        handle.write(data[: len(data) // 2])
        handle.flush()
        path.with_name(path.name + ".paused").touch()
        time.sleep(600)
        handle.write(data[len(data) // 2 :])

    return halfway


def save_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Write arrays by name to an .npz file, atomically."""
    _atomic(Path(path), lambda handle: np.savez(handle, **arrays))


def save_json(path: Path, data: object) -> None:
    _atomic(Path(path), lambda handle: handle.write(json.dumps(data, indent=2, default=_plain).encode()))


RESUME_KEY = "__resume__"  # a run's position, kept inside params.npz so both change in one atomic write


def load_arrays(path: Path, with_resume: bool = False) -> dict[str, np.ndarray]:
    """Arrays by name from an .npz file (never unpickling); the run's records (names `__...`) only when asked for."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files if with_resume or not k.startswith("__")}
    except (OSError, ValueError, zipfile.BadZipFile) as err:
        fail("E605", None, hint="point --params at a run directory holding params.npz", path=path, reason=err)


def _plain(value: object) -> object:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, tuple):
        return list(value)
    return str(value)
