"""A run from Python: `symdl.train` runs `symdl run`, `symdl.read_run` reads a run directory back.

The run it returns draws its curves in Jupyter.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.runtime.rundir import read_config, read_metrics


@dataclass(frozen=True)
class RunResult:
    """What `symdl run` left in `path`: a row per epoch (metrics.csv), summary.json, config.json."""

    path: Path
    metrics: list[dict[str, object]] = field(repr=False)
    summary: dict[str, object]
    config: dict[str, object] = field(repr=False)

    def column(self, name: str) -> list[object]:
        """One metric over the epochs (rows that lack it are skipped)."""
        return [row[name] for row in self.metrics if name in row]

    def _repr_png_(self) -> bytes | None:  # Jupyter: the curves, as curves.png draws them
        from symdl.views.curves import curves_png

        return curves_png(self.metrics)


def train(
    path: str | Path,
    out: str | Path,
    max_epochs: int | None = None,
    train_limit: int | None = None,
    backend: str | None = None,
    data: str | None = None,
    **overrides: object,
) -> RunResult:
    """Train a model with its recipes in a `symdl run` process writing the new run directory `out`;
    its report is printed, a failure raises RuntimeError with symdl's message."""
    from symdl.runtime.config import sdl_literal

    argv = [sys.executable, "-m", "symdl", "run", str(path), "--out", str(out), "--quiet"]
    argv += [a for k, v in overrides.items() for a in ("--set", f"{k}={sdl_literal(v)}")]
    for flag, value in (("--max-epochs", max_epochs), ("--train-limit", train_limit), ("--backend", backend), ("--data", data)):
        argv += [flag, str(value)] if value is not None else []
    done = subprocess.run(argv, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"symdl run {path} stopped with exit status {done.returncode}:\n{done.stderr.strip()}")
    print(done.stdout, end="")
    return read_run(out)


def read_run(path: str | Path) -> RunResult:
    """The run in directory `path` (a user's mistake, such as a directory with no run, is a UserError)."""
    path = Path(path)
    if not (path / "metrics.csv").is_file():
        fail("E742", None, hint="give a directory symdl run wrote", path=path)
    _, rows = read_metrics(path / "metrics.csv")
    return RunResult(path, rows, _json(path / "summary.json"), read_config(path))


def _json(path: Path) -> dict[str, object]:
    return json.loads(path.read_text()) if path.is_file() else {}
