"""Hostile input gives a located user error, never a Python exception."""

import contextlib
import io
import subprocess
import sys
from pathlib import Path

import pytest

from symdl.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "models"


@pytest.mark.parametrize("junk", ["\x0c", "\x0b", "\x1c", "\x1d", "\x1e", "\u2028", "\u2029"])
def test_line_separators_in_a_comment_keep_lines_right(tmp_path, junk):
    path = tmp_path / "m.sdl"
    path.write_text(f"x = 1 # a{junk}b\n\ny = )\n", encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "symdl", "check", str(path)], capture_output=True, text=True)
    assert run.returncode == 2
    assert f"{path}:3:5:" in run.stderr
    assert "Traceback" not in run.stderr


# ---- in-process: the CLI's entry function, as a user runs it ------------------------------------

LINEAR = (Path(__file__).resolve().parents[1] / "models" / "linear.sdl").read_text()
COST = "perf = sum((y - a) ** 2)"


def _symdl(*argv: str) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(list(argv))
    return status, err.getvalue()


def _check_text(tmp_path, text: str) -> tuple[int, str, Path]:
    path = tmp_path / "m.sdl"
    path.write_text(text, encoding="utf-8")
    status, err = _symdl("check", str(path))
    return status, err, path


HOSTILE_TEXTS = {
    "5000-digit literal": (LINEAR.replace("n = 4,", "n = " + "9" * 5000 + ","), "E112", 4),
    "dimension past i64": (LINEAR.replace("f32[n, 1]", "f32[18446744073709551617, 1]", 1), "E112", 8),
    "10 ** 400": (LINEAR.replace(COST, COST + " + 10 ** 400"), "E420", 15),
    "2 ** 10 ** 18 (not computed)": (LINEAR.replace(COST, COST + " + 2 ** 1000000000000000000"), "E420", 15),
    "float overflow": (LINEAR.replace(COST, COST + " + 10.0 ** 400"), "E420", 15),
    "zip of numbers": (LINEAR.replace(COST, COST + " + zip(3, 3)"), "E303", 15),
    "range of 10**12": (LINEAR + "for i in range(1000000000000):\n    q = i\n", "E303", 22),
    "120 nested ifs": (LINEAR + "".join(" " * i + "if true:\n" for i in range(120)) + " " * 120 + "q = 1\n", "E111", None),
    "1500 nested ifs (too long)": (LINEAR + "".join("\t" * i + "if true:\n" for i in range(1500)) + "q = 1\n", "E110", None),
    "10,000 brackets": (LINEAR + "q = " + "[" * 10000 + "]" * 10000 + "\n", "E111", 22),
    "10,000 unary minuses": (LINEAR + "q = " + "-" * 10000 + "1\n", "E111", 22),
    "10,000 + terms": (LINEAR + "q = " + "+".join(["1"] * 10000) + "\n", "E111", 22),
    "10,000 nested calls": (LINEAR + "q = " + "tanh(" * 10000 + "w" + ")" * 10000 + "\n", "E111", 22),
    "1 MB expression": (LINEAR + "q = " + "+".join(["x"] * 500_000) + "\n", "E110", 22),
    "200,000-char continued line": (LINEAR + "q = 1 \\\n" + " + 1" * 50_000 + "\n", "E111", 23),
}


@pytest.mark.parametrize("case", HOSTILE_TEXTS)
def test_hostile_text_gets_a_located_error(tmp_path, case):
    text, code, line = HOSTILE_TEXTS[case]
    status, err, path = _check_text(tmp_path, text)
    assert status == 2, err
    assert f"error[{code}]" in err
    assert f"{path}:{line if line else ''}" in err
    assert "internal error" not in err and "Traceback" not in err
    assert max(len(row) for row in err.splitlines()) < 400  # a long line is shown around the caret, not whole


def test_nesting_just_under_the_limit_still_checks(tmp_path):
    deep = LINEAR.replace(COST, COST + " + " + "+".join(["w"] * 90) + " + " + "-" * 90 + "w")
    nested = "".join(" " * i + "if true:\n" for i in range(40)) + " " * 40 + "q = 1\n"
    status, err, _ = _check_text(tmp_path, deep + nested)
    assert status == 0, err


def test_invalid_utf8_is_reported_at_its_line_and_column(tmp_path):
    path = tmp_path / "m.sdl"
    path.write_bytes(LINEAR.encode().replace(b"hyper n = 4", b"hyper n\xc3 = 4"))
    status, err = _symdl("check", str(path))
    assert status == 2
    assert f"{path}:4:8: error[E113]" in err and "0xc3" in err


HOSTILE_OVERRIDES = {
    "batch=0": ("logreg", "E303", "at least 1"),
    "filter=0": ("lenet", "E303", "at least 1"),
    "nkerns=[0, 50]": ("lenet", "E303", "at least 1"),
    "epochs=-1": ("logreg", "E303", "zero or more"),
    "patience=-1": ("logreg", "E303", "zero or more"),
    "seed=-1": ("logreg", "E303", "hyper seed"),
    "backend=7": ("logreg", "E501", "must be a string"),
    'backend="gpu"': ("logreg", "E303", "not a backend"),
    "lr=0.1\nepochs=3": ("logreg", "E504", "more than one line"),
    "k=0": ("rbm", "E303", "at least 1"),
}


@pytest.mark.parametrize("override", HOSTILE_OVERRIDES)
def test_hostile_override_gets_a_clear_error(override):
    model, code, words = HOSTILE_OVERRIDES[override]
    status, err = _symdl("check", str(MODELS / f"{model}.sdl"), "--set", override)
    assert status == 2, err
    assert f"error[{code}]" in err and words in err
    assert "internal error" not in err
