"""Shared fixtures: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symdl.cli.main import main

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"

# Compile test functions with the mode that compiles fastest for small graphs (shared/PYTENSOR3.md).
os.environ.setdefault("MPLBACKEND", "Agg")


def check_golden(path: Path, text: str) -> None:
    """Compare `text` with a golden file; `SYMDL_UPDATE_GOLDEN=1` rewrites it (review the diff)."""
    if os.environ.get("SYMDL_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert path.exists(), f"no golden file {path}: run with SYMDL_UPDATE_GOLDEN=1 and review it"
    assert text == path.read_text()


@pytest.fixture
def cli(capsys):
    """Run `symdl ARGS...`; returns (exit status, stdout, stderr)."""

    def run(*args: str) -> tuple[int, str, str]:
        status = main([str(a) for a in args])
        out = capsys.readouterr()
        return status, out.out, out.err

    return run


@pytest.fixture
def write_model(tmp_path):
    """Write a model text to a temporary .sdl file and return its path."""

    def write(text: str, name: str = "model.sdl") -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write
