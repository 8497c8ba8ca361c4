"""Fuzzing `symdl check` with mutants of the real model files: a seeded generator, run in-process.

Every mutant either still checks (status 0) or gets a user error: status 2, `file:line:col`, no
internal error and no traceback. A mutant lives in a copy of models/, so a mutated import still
finds the files it imports, and a mutated library is checked through the models that import it.
"""

from __future__ import annotations

import contextlib
import io
import random
import re
import shutil
from pathlib import Path

import pytest

from symdl.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "models"
FILES = sorted(p.name for p in MODELS.glob("*.sdl"))
CASES_PER_FAMILY = 40
SEED = 13

TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*|[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\"[^\"\n]*\"|\*\*|//|[-+*/%@<>=!]=?|\S")
HOSTILE_CHARS = [
    "\x00",
    "\x0c",
    "\x0b",
    "\x1c",
    "\u2028",
    "\u2029",
    "\ufeff",
    "\t",
    "\r",
    '"',
    "\\",
    "$",
    "?",
    "`",
    "é",
    "\U0001f600",
    "\x7f",
]
HUGE = ["9" * 5000, "18446744073709551617", "10 ** 400", "2 ** 2 ** 64", "1e400", "0", "-1", "zip(3, 3)", "range(10 ** 12)"]
KEYWORDS = ["if", "else", "for", "in", "def", "block", "fn", "return", "update", "run", "param", "state", "input", "hyper", "none", "->"]


def _tokens(text: str) -> list[re.Match]:
    return list(TOKEN.finditer(text))


def _splice(text: str, match: re.Match, new: str) -> str:
    return text[: match.start()] + new + text[match.end() :]


def delete_token(rng: random.Random, text: str) -> str:
    return _splice(text, rng.choice(_tokens(text)), "")


def duplicate_token(rng: random.Random, text: str) -> str:
    token = rng.choice(_tokens(text))
    return _splice(text, token, token.group() + " " + token.group())


def swap_tokens(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    k = rng.randrange(len(tokens) - 1)
    a, b = tokens[k], tokens[k + 1]
    return text[: a.start()] + b.group() + text[a.end() : b.start()] + a.group() + text[b.end() :]


def replace_token(rng: random.Random, text: str) -> str:
    tokens = _tokens(text)
    return _splice(text, rng.choice(tokens), rng.choice([rng.choice(tokens).group(), rng.choice(KEYWORDS)]))


def hostile_character(rng: random.Random, text: str) -> str:
    at = rng.randrange(len(text))
    return text[:at] + rng.choice(HOSTILE_CHARS) * rng.choice([1, 1, 3]) + text[at:]


def huge_number(rng: random.Random, text: str) -> str:
    numbers = [t for t in _tokens(text) if t.group()[0].isdigit()]
    return _splice(text, rng.choice(numbers), rng.choice(HUGE))


def deep_nesting(rng: random.Random, text: str) -> str:
    depth = rng.choice([150, 1000, 10_000])
    tokens = [t for t in _tokens(text) if t.group()[0].isalnum()]
    token = rng.choice(tokens)
    opener, closer = rng.choice([("(", ")"), ("[", "]"), ("-", ""), ("tanh(", ")"), ("1 + ", "")])
    return _splice(text, token, opener * depth + token.group() + closer * depth)


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text))]


def dedent_line(rng: random.Random, text: str) -> str:
    lines = text.split("\n")
    k = rng.randrange(len(lines))
    lines[k] = rng.choice([lines[k].lstrip(), " " + lines[k], "\t" + lines[k], lines[k] + ":"])
    return "\n".join(lines)


FAMILIES = [
    delete_token,
    duplicate_token,
    swap_tokens,
    replace_token,
    hostile_character,
    huge_number,
    deep_nesting,
    truncate,
    dedent_line,
]
CASES = [(family, k) for family in FAMILIES for k in range(CASES_PER_FAMILY)]
LOCATED = re.compile(r"^(\S+\.sdl|--set):\d+:\d+: error\[E\d+\]", re.MULTILINE)


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A copy of models/ to mutate one file of at a time."""
    root = tmp_path_factory.mktemp("fuzz") / "models"
    shutil.copytree(MODELS, root)
    return root


@pytest.mark.parametrize("family, k", CASES, ids=[f"{f.__name__}-{k}" for f, k in CASES])
def test_mutant_gets_a_located_user_error_or_checks(workspace, family, k):
    rng = random.Random(f"{SEED}-{family.__name__}-{k}")
    name = rng.choice(FILES)
    original = (MODELS / name).read_text(encoding="utf-8")
    target = workspace / name
    target.write_text(family(rng, original), encoding="utf-8", newline="")
    checked = [target] if name != "layers.sdl" else [workspace / "lenet.sdl"]
    try:
        for path in checked:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                status = main(["check", str(path)])
            text = err.getvalue()
            assert status in (0, 2), f"{family.__name__} on {name}: status {status}\n{text}"
            assert "internal error" not in text and "Traceback" not in text, text
            if status == 2:
                assert LOCATED.search(text), f"{family.__name__} on {name}: no file:line:col\n{text}"
    finally:
        target.write_text(original, encoding="utf-8")


def test_invalid_utf8_anywhere_is_located(workspace):
    rng = random.Random(SEED)
    for _ in range(20):
        name = rng.choice(FILES)
        data = (MODELS / name).read_bytes()
        at = rng.randrange(len(data))
        target = workspace / name
        target.write_bytes(data[:at] + bytes([rng.choice([0x80, 0xC3, 0xFF, 0xED])]) + data[at:])
        try:
            err = io.StringIO()
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
                status = main(["check", str(target)])
            assert status == 2 and LOCATED.search(err.getvalue()) and "E113" in err.getvalue(), err.getvalue()
        finally:
            target.write_bytes(data)


HYPER = re.compile(r"\bhyper\s+(.*)")
OVERRIDE_VALUES = [
    *HUGE,
    "",
    "[",
    "(" * 500 + "1" + ")" * 500,
    "-" * 500 + "1",
    '"x',
    "tanh",
    "nothing",
    "[0, 0]",
    "true",
    "1\n2",
    "\x00",
    "é",
]


@pytest.mark.parametrize("k", range(60))
def test_hostile_override_gets_a_located_user_error_or_checks(k):
    rng = random.Random(f"{SEED}-override-{k}")
    name = rng.choice([f for f in FILES if f != "layers.sdl"])
    hypers = [item.split("=")[0].strip() for line in HYPER.findall((MODELS / name).read_text()) for item in line.split("#")[0].split(",")]
    hyper = rng.choice([h for h in hypers if h.isidentifier()])
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["check", str(MODELS / name), "--set", f"{hyper}={rng.choice(OVERRIDE_VALUES)}"])
    text = err.getvalue()
    assert status in (0, 2) and "internal error" not in text, text
    assert status == 0 or LOCATED.search(text), text
