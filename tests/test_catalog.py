"""Every error comes from the catalog: no UserError is built elsewhere, and LANGUAGE.md's table is the catalog's.

That every code is raised by some test is checked at the end of a full run (tests/conftest.py)."""

from __future__ import annotations

import ast
import string
from pathlib import Path

from symdl.diagnostics.catalog import MESSAGES, markdown_table

ROOT = Path(__file__).resolve().parents[1]
BUILDERS = {ROOT / "symdl" / "diagnostics" / "catalog.py"}


def _constructions(path: Path) -> list[int]:
    """The lines of `path` that call UserError(...) directly."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call)]
    return [c.lineno for c in calls if (c.func.id if isinstance(c.func, ast.Name) else getattr(c.func, "attr", None)) == "UserError"]


def test_no_user_error_is_built_outside_the_catalog():
    paths = [p for p in sorted((ROOT / "symdl").rglob("*.py")) if p not in BUILDERS]
    found = [f"{p.relative_to(ROOT)}:{line}" for p in paths for line in _constructions(p)]
    assert found == [], "build errors with symdl.diagnostics.catalog.fail(code, span, ...)"


def test_the_scan_finds_a_direct_construction(tmp_path):
    path = tmp_path / "bad.py"
    path.write_text("from symdl.diagnostics import errors\nraise errors.UserError(None, 'x')\n")
    assert _constructions(path) == [2]


def test_one_code_per_sentence():
    shapes = {}
    for code, text in MESSAGES.items():
        shape = "".join(literal for literal, *_ in string.Formatter().parse(text))
        assert shape.strip(), f"{code} has no words of its own: {text!r}"
        assert shape not in shapes, f"{code} and {shapes[shape]} say the same sentence"
        shapes[shape] = code


def test_language_md_documents_every_code():
    text = (ROOT / "docs" / "LANGUAGE.md").read_text()
    assert markdown_table() in text, "regenerate the table: python tools/error_table.py --write"
    assert all(f"| {code} |" in text for code in MESSAGES)
