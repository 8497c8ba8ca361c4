"""`symdl fmt`: one canonical layout, idempotent, the same AST, every comment kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from symdl.diagnostics.errors import Source, UserError
from symdl.fmt import format_source, spanless
from symdl.syntax.parser import comments, parse

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted((ROOT / "models").glob("*.sdl")) + sorted((ROOT / "tests" / "imports").glob("*.sdl"))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_model_formats_idempotently_to_the_same_ast(path):
    text = path.read_text(encoding="utf-8")
    once = format_source(text, str(path))
    assert format_source(once, str(path)) == once
    assert spanless(parse(Source(str(path), once))) == spanless(parse(Source(str(path), text)))
    assert [c[2] for c in comments(once)] == [c[2] for c in comments(text)]


def test_spacing_indentation_and_keyword_arguments():
    text = "model m\nhyper a=1,b = 2\ndef f(x,y=2):\n  return -x+y*2**3\nz=f( 1,y = a )[0:2, :]\n"
    assert format_source(text) == ("model m\nhyper a = 1, b = 2\ndef f(x, y = 2):\n    return -x + y * 2 ** 3\nz = f(1, y = a)[0:2, :]\n")


def test_a_syntax_error_is_the_located_user_error():
    with pytest.raises(UserError) as err:
        format_source("model m\nx = a b\n", "bad.sdl")
    assert str(err.value.span) == "bad.sdl:2:7"
