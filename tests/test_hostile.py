"""Hostile input gives a located user error, never a Python exception."""

import subprocess
import sys

import pytest


@pytest.mark.parametrize("junk", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029"])
def test_line_separators_in_a_comment_keep_lines_right(tmp_path, junk):
    path = tmp_path / "m.sdl"
    path.write_text(f"x = 1 # a{junk}b\n\ny = )\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "symdl", "check", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{path}:3:5:" in run.stderr
    assert "Traceback" not in run.stderr
