"""A run directory: config.json, metrics.csv, summary.json, params.npz and curves.png."""

from __future__ import annotations

import csv
import json
import platform
import time
from pathlib import Path

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.lowering.backends import AUTO, BACKENDS
from symdl.runtime.checkpoint import RESUME_KEY, load_arrays, save_arrays, save_json
from symdl.runtime.config import RunConfig
from symdl.version import __version__

CONFIG = "config.json"

# What config.json holds for `--resume` and `eval`, by key: the kinds accepted (None: the key may be null).
CONFIG_KINDS: dict[str, tuple[type | None, ...]] = {
    "source": (str,),
    "overrides": (list, None),
    "backend": (str, None),
    "backends": (dict, None),  # per function, what `auto` picked
    "max_epochs": (int, None),
    "train_limit": (int, None),
    "data": (str, None),
}
DAMAGED_HINT = "use a run directory symdl wrote, unedited (or start the run again)"


def read_config(directory: Path) -> dict:
    """A run directory's config.json (read once per command), checked key by key: a damaged file is an error
    naming it, never a traceback; {} when the directory has none."""
    path = Path(directory) / CONFIG
    if not path.is_file():
        return {}
    try:
        config = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        fail("E710", None, hint=DAMAGED_HINT, path=path, reason=str(err))
    if not isinstance(config, dict):
        fail("E711", None, hint=DAMAGED_HINT, path=path, kind=type(config).__name__)
    for key, kinds in CONFIG_KINDS.items():
        value = config.get(key)
        fits = (value is None and None in kinds) or any(
            k is not None and isinstance(value, k) and not isinstance(value, bool) for k in kinds
        )
        if not fits or (key == "overrides" and not all(isinstance(v, str) for v in value or [])):
            fail("E712", None, hint=DAMAGED_HINT, path=path, key=key, value=repr(value))
        if key == "backend" and value is not None and value not in BACKENDS:
            fail("E713", None, hint=DAMAGED_HINT, path=path, key=key, value=repr(value), backends=", ".join(BACKENDS))
        if key == "backends" and any(b not in BACKENDS or b == AUTO for b in (value or {}).values()):
            named = ", ".join(b for b in BACKENDS if b != AUTO)
            fail("E713", None, hint=DAMAGED_HINT, path=path, key=key, value=repr(value), backends=named)
        if isinstance(value, int) and value < 1:
            fail("E714", None, hint=DAMAGED_HINT, path=path, key=key, value=value)
    return config


class RunDir:
    """Where one `symdl run` writes; metrics are appended and flushed row by row."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        self.rows: list[dict[str, object]] = []
        self._columns: list[str] = []
        self.started = time.time()

    @staticmethod
    def fresh(root: Path, model: str) -> RunDir:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = Path(root) / f"{model}-{stamp}"
        k = 1
        while path.exists():
            k += 1
            path = Path(root) / f"{model}-{stamp}-{k}"
        return RunDir(path)

    def holds_run(self) -> bool:
        return (self.path / CONFIG).exists()

    def write_config(self, model: str, hypers: dict[str, object], backend: str, backends: dict[str, str], config: RunConfig) -> None:
        """config.json: the model, its hypers, the run's backend and each function's, and the settings `--resume` continues with."""
        import numpy
        import pytensor

        save_json(
            self.path / CONFIG,
            {
                "model": model,
                "source": str(Path(config.file).resolve()),
                "hypers": {k: _plain(v) for k, v in hypers.items()},
                "seed": hypers.get("seed"),
                "backend": backend,
                "backends": backends,
                **config.saved(),
                "versions": {
                    "python": platform.python_version(),
                    "numpy": numpy.__version__,
                    "pytensor": pytensor.__version__,
                    "symdl": __version__,
                },
            },
        )

    def log(self, row: dict[str, object]) -> None:
        """Append one row (one epoch) to metrics.csv, rewriting the header if a column is new."""
        self.rows.append(row)
        columns = list(dict.fromkeys(self._columns + list(row)))
        if columns != self._columns:
            self._columns = columns
            self._rewrite()
            return
        with open(self.path / "metrics.csv", "a", newline="") as handle:
            csv.DictWriter(handle, columns).writerow(row)

    def _rewrite(self) -> None:
        with open(self.path / "metrics.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, self._columns)
            writer.writeheader()
            writer.writerows(self.rows)

    def checkpoint(self, arrays: dict, resume: dict | None = None) -> None:
        """params.npz: every value and, for `--resume`, where the recipes were (one atomic file)."""
        extra = {RESUME_KEY: np.array(json.dumps(resume))} if resume is not None else {}
        save_arrays(self.path / "params.npz", {**arrays, **extra})

    def save_best(self, arrays: dict) -> None:
        save_arrays(self.path / "best.npz", arrays)

    def load_best(self) -> dict:
        return load_arrays(self.path / "best.npz")

    def reopen(self) -> tuple[dict, dict]:
        """A run directory to continue: its metrics so far, and its last checkpoint (values, resume record)."""
        path = self.path / "metrics.csv"
        if path.is_file():
            self._columns, self.rows = read_metrics(path)
        path = self.path / "params.npz"
        arrays = load_arrays(path, with_resume=True)
        try:
            resume = json.loads(str(arrays.pop(RESUME_KEY))) if RESUME_KEY in arrays else {}
        except ValueError as err:
            fail("E715", None, hint=DAMAGED_HINT, path=path, reason=str(err))
        _check_resume(resume, path)
        return arrays, resume

    def summary(self, data: dict[str, object]) -> None:
        save_json(self.path / "summary.json", {**data, "seconds": round(time.time() - self.started, 3)})

    def plot(self) -> None:
        """curves.png: each numeric metric against the first column (the epoch, or a sampler's draw)."""
        from symdl.views.curves import curves_png

        png = curves_png(self.rows)
        if png is not None:
            (self.path / "curves.png").write_bytes(png)


def read_metrics(path: Path) -> tuple[list[str], list[dict[str, object]]]:
    """metrics.csv: its columns (none without a row) and its rows, numbers parsed, empty cells left out."""
    with open(path, newline="") as handle:
        reader = csv.DictReader(handle)
        rows = [{k: _number(v) for k, v in r.items() if v != ""} for r in reader]
    return (list(reader.fieldnames or []) if rows else []), rows


def _check_resume(resume: object, path: Path) -> None:
    """The resume record's shape: a stage number, a position of counts, a generator state and progress as objects."""
    if not isinstance(resume, dict):
        fail("E716", None, hint=DAMAGED_HINT, path=path, kind=type(resume).__name__)
    if any(not isinstance(resume.get(k, {}), dict) for k in ("position", "progress")) or not isinstance(
        resume.get("random_state") or {}, dict
    ):
        fail("E718", None, hint=DAMAGED_HINT, path=path)
    counts = {k: v for k, v in resume.get("position", {}).items() if k in ("layer", "epoch", "batch")}
    for key, value in {"stage": resume.get("stage", 0), **counts}.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            fail("E717", None, hint=DAMAGED_HINT, path=path, key=key, value=repr(value))


def _number(text: str) -> object:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def _plain(value: object) -> object:
    if isinstance(value, (int, float, str, bool)) or value is None:
        return value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return str(value)
