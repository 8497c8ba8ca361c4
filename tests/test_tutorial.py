"""docs/TUTORIAL.md, run as a reader would: its model text appended to one file, each command run
in that directory with the output it shows checked, and the file it ends with is models/mlp_dropout.sdl."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"```(sdl|console)\n(.*?)```", re.S)


def _commands(block: str) -> list[tuple[str, list[str]]]:
    """`$ command` lines, each with the output lines shown under it."""
    out: list[tuple[str, list[str]]] = []
    for line in block.splitlines():
        if line.startswith("$ "):
            out.append((line[2:], []))
        elif out:
            out[-1][1].append(line)
    return out


def test_tutorial_builds_mlp_dropout(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    model = tmp_path / "mlp_dropout.sdl"
    model.write_text("")
    ran = 0
    for kind, body in FENCE.findall((ROOT / "docs" / "TUTORIAL.md").read_text()):
        if kind == "sdl":
            model.write_text(model.read_text() + body)
            continue
        for command, shown in _commands(body):
            shell = re.sub(r"^symdl ", f"{sys.executable} -m symdl ", command)
            done = subprocess.run(shell, shell=True, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
            assert done.returncode == 0, f"{command}\n{done.stderr}"
            if shown:
                assert done.stdout.splitlines() == shown, command
            ran += 1
    assert ran >= 5
    assert model.read_text() == (ROOT / "models" / "mlp_dropout.sdl").read_text()
    assert (tmp_path / "short" / "summary.json").exists()
