"""`symdl fmt`: one canonical layout, idempotent, the same AST, every comment kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from symdl.diagnostics.errors import Source, UserError
from symdl.fmt import format_source, spanless
from symdl.syntax.concrete import comments
from symdl.syntax.parser import parse

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


MESSY = "model m\nx=f(a,b)   # why\n\n\n\n\ny = [1,2]\n"
CLEAN = "model m\nx = f(a, b)  # why\n\n\ny = [1, 2]\n"


def test_fmt_rewrites_in_place(cli, write_model):
    path = write_model(MESSY)
    status, _, err = cli("fmt", path)
    assert (status, path.read_text()) == (0, CLEAN)
    assert "1 file(s) reformatted, 0 left as they were" in err
    assert cli("fmt", "--check", path)[0] == 0


def test_fmt_check_changes_nothing_and_lists_the_files(cli, write_model, tmp_path):
    messy, clean = write_model(MESSY, "messy.sdl"), write_model(CLEAN, "clean.sdl")
    status, out, _ = cli("fmt", "--check", tmp_path)
    assert status == 1 and out == f"would reformat {messy}\n" and str(clean) not in out
    assert messy.read_text() == MESSY


def test_fmt_diff_prints_a_unified_diff(cli, write_model):
    path = write_model(MESSY)
    status, out, _ = cli("fmt", "--diff", path)
    assert status == 1 and path.read_text() == MESSY
    assert "-x=f(a,b)   # why\n+x = f(a, b)  # why\n" in out and out.startswith(f"--- {path} (before)")


def test_fmt_of_a_broken_file_is_a_located_error_and_leaves_it(cli, write_model):
    path = write_model("model m\nx = (a b\n")
    good = write_model(MESSY, "good.sdl")
    status, _, err = cli("fmt", path, good)
    assert status == 2 and f"{path}:2:" in err and "^" in err and "Traceback" not in err
    assert path.read_text() == "model m\nx = (a b\n" and good.read_text() == CLEAN  # the others still formatted


def test_long_calls_wrap_inside_their_brackets_and_comments_align_in_groups():
    args = ", ".join(f"argument_{i} = {i}" for i in range(12))
    text = f"x = f(g(1), {args})\nshort = 1 # a\nmuch_longer_name = 2 # b\n"
    lines = format_source(text).splitlines()
    assert lines[0] == "x = f(" and lines[1].startswith("    g(1), argument_0 = 0,") and lines[-3] == ")"
    assert all(len(line) <= 120 for line in lines)
    assert lines[-2:] == ["short = 1             # a", "much_longer_name = 2  # b"]


def test_a_comment_inside_brackets_breaks_the_line_there():
    text = "x = f(a, # first\n  b)\n"
    assert format_source(text) == "x = f(\n    a,  # first\n    b\n)\n"


def test_a_comment_after_a_block_stays_in_it_when_indented_deeper():
    text = "if a:\n    x = 1\n    # inside\n# outside\ny = 2\n"
    assert format_source(text) == text


def test_blank_line_groups_are_kept_as_at_most_two_at_top_level_and_one_in_a_block():
    text = "a = 1\n\n\n\n\nb = 2\ndef f(x):\n\n    y = 1\n\n\n    return y\n"
    assert format_source(text) == "a = 1\n\n\nb = 2\ndef f(x):\n    y = 1\n\n    return y\n"


def test_an_own_line_comment_before_a_closing_bracket_stays_inside_it():
    assert format_source("x = f(a,\n  b\n  # end\n  )\n") == "x = f(\n    a, b\n    # end\n)\n"
