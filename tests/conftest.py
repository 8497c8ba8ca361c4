"""Shared fixtures: run the CLI in-process and capture what a user would see."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symdl.cli.main import main
from symdl.diagnostics.catalog import MESSAGES
from symdl.diagnostics.errors import UserError

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"

# Every catalog code is raised by some test: each UserError built during the suite is recorded, and a full run
# (`python -m pytest tests`, nothing deselected) fails when a code was never built (see pytest_sessionfinish).
RAISED: set[str] = set()
_post_init = UserError.__post_init__


def _record(self: UserError) -> None:
    RAISED.add(self.code)
    _post_init(self)


UserError.__post_init__ = _record


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    options = session.config.option
    tests = Path(__file__).resolve().parent
    full = all(Path(a.split("::")[0]).resolve() == tests for a in session.config.args) and not (
        options.keyword or options.markexpr or options.collectonly or getattr(options, "lf", False) or getattr(options, "deselect", None)
    )
    missing = sorted(set(MESSAGES) - RAISED)
    if exitstatus == 0 and full and session.testscollected and missing:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        reporter.write_line(f"catalog codes no test raised: {', '.join(missing)} (add a test that makes each)", red=True)
        session.exitstatus = 1


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
