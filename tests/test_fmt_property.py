"""Hypothesis writes programs in any layout (odd spacing, comments, blank lines, breaks inside brackets,
backslash continuations, long lines); `symdl fmt` must give the same AST and comments, idempotently.

`format_source` itself checks the AST and the comments of its output (a difference is an InternalError),
so the property is that it never raises on a valid program and that a second pass changes nothing.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from symdl.diagnostics.errors import Source
from symdl.fmt import format_source, spanless
from symdl.syntax.concrete import comments
from symdl.syntax.parser import parse

NAMES = st.sampled_from(["a", "x_1", "W", "batch", "layer_with_a_rather_long_name", "another_long_argument_name"])
SPACE = st.sampled_from(["", " ", "  "])
COMMENT = st.sampled_from(["# c", "#", "# a 'quote' and \"more\"", "#: marker", "# x = f(a, b)"])
ATOMS = st.one_of(
    NAMES,
    st.integers(0, 10**6).map(str),
    st.sampled_from(["1.5", "2e-3", ".5", "3.", '"s"', '"a # not a comment"', "true", "false", "none", "f32"]),
)


@st.composite
def gap(draw) -> str:
    """What may separate two tokens inside brackets: spaces, or a newline with comments and any indent."""
    if draw(st.integers(0, 5)):
        return draw(SPACE)
    trailing = draw(st.sampled_from(["", "  " + draw(COMMENT)]))
    own = draw(st.lists(COMMENT.map(lambda c: " " * 3 + c), max_size=2))
    return trailing + "\n" + "".join(line + "\n" for line in own) + " " * draw(st.integers(0, 9))


def primary(depth: int):
    if depth <= 0:
        return ATOMS
    inner = expression(depth - 1)
    return st.one_of(
        ATOMS,
        st.tuples(
            NAMES, st.lists(st.one_of(inner, st.tuples(NAMES, SPACE, inner).map(lambda t: f"{t[0]}{t[1]}={t[1]}{t[2]}")), max_size=4)
        ).flatmap(lambda t: _bracketed(t[0] + "(", t[1], ")")),
        st.tuples(
            primary(depth - 1), st.lists(st.one_of(inner, st.sampled_from([":", "1:", ":n", "::2", "a:b:c"])), min_size=1, max_size=3)
        ).flatmap(lambda t: _bracketed(t[0] + "[", t[1], "]")),
        st.tuples(NAMES, NAMES).map(lambda t: f"{t[0]}.{t[1]}"),  # not after a number: `0.a` reads `0.` first
        st.lists(inner, max_size=3).flatmap(lambda items: _bracketed("[", items, "]")),
        inner.flatmap(lambda e: _bracketed("(", [e], ")")),
    )


def _bracketed(opener: str, items: list[str], closer: str):
    return st.tuples(*[gap() for _ in range(len(items) + 1)]).map(
        lambda gaps: (
            opener
            + "".join(g + item + ("," if i + 1 < len(items) else "") for i, (g, item) in enumerate(zip(gaps, items)))
            + gaps[-1]
            + closer
        )
    )


def expression(depth: int):
    p = primary(depth)
    ops = st.sampled_from(["+", "-", "*", "/", "//", "%", "@", "**", "==", "!=", "<", "<=", ">", ">=", " and ", " or "])
    return st.one_of(
        p,
        st.tuples(p, SPACE, ops, SPACE, p).map("".join),
        st.tuples(st.sampled_from(["-", "- ", "+", "not "]), p).map("".join),
        st.tuples(p, p, p).map(lambda t: f"{t[0]} if {t[1]} else {t[2]}"),
        st.tuples(p, p).map(lambda t: f"{t[0]} + \\\n        {t[1]}"),  # a backslash continuation
    )


EXPR = expression(2)
TYPE = st.tuples(st.sampled_from(["f32", "i64", "bool"]), st.lists(st.one_of(NAMES, st.just("?")), max_size=3)).map(
    lambda t: t[0] + (f"[{', '.join(t[1])}]" if t[1] else "")
)
SIMPLE = st.one_of(
    st.tuples(NAMES, SPACE, EXPR).map(lambda t: f"{t[0]}{t[1]}={t[1]}{t[2]}"),
    st.tuples(NAMES, NAMES, EXPR).map(lambda t: f"{t[0]}, {t[1]} = {t[2]}"),
    st.tuples(NAMES, EXPR, NAMES, EXPR).map(lambda t: f"hyper {t[0]} = {t[1]}, {t[2]}={t[3]}"),
    st.tuples(NAMES, TYPE).map(lambda t: f"input {t[0]}: {t[1]}"),
    st.tuples(st.sampled_from(["param", "state"]), NAMES, TYPE, st.sampled_from(["", " = ", " ~ ", "~"]), EXPR).map(
        lambda t: f"{t[0]} {t[1]}: {t[2]}" + (f"{t[3]}{t[4]}" if t[3] else "")
    ),
    st.tuples(NAMES, EXPR).map(lambda t: f"update {t[0]} = {t[1]}"),
    EXPR.map(lambda e: f"update {e}"),
    EXPR.map(lambda e: f"run {e}"),
    st.lists(EXPR, min_size=1, max_size=3).map(lambda es: "return " + ", ".join(es)),
    st.tuples(NAMES, st.lists(NAMES, max_size=3), EXPR).map(lambda t: f"def {t[0]}({', '.join(t[1])}) = {t[2]}"),
    st.tuples(NAMES, st.lists(NAMES, max_size=2), EXPR, NAMES).map(lambda t: f"fn {t[0]}({', '.join(t[1])}) -> {t[2]} as {t[3]}"),
    st.tuples(NAMES, NAMES).map(lambda t: f'from "{t[0]}.sdl" import {t[1]}, a'),
    NAMES.map(lambda n: f"model {n}"),
    EXPR,
)
HEADERS = st.one_of(
    st.tuples(NAMES, st.lists(NAMES, max_size=3)).map(lambda t: f"block {t[0]}({', '.join(t[1])} ):"),
    st.tuples(NAMES, NAMES).map(lambda t: f"def {t[0]}({t[1]}, {t[1]}_2 = 1):"),
    st.tuples(NAMES, EXPR, NAMES).map(lambda t: f"fn {t[0]}[i](x) -> {t[1]}, {t[2]}:"),
    st.tuples(NAMES, EXPR).map(lambda t: f"for {t[0]}, i in {t[1]}:"),
    EXPR.map(lambda e: f"if {e}:"),
)


@st.composite
def block(draw, indent: int, depth: int) -> str:
    """Statements at one indentation, with blank lines, own-line and trailing comments between them."""
    lines = []
    for _ in range(draw(st.integers(1, 3))):
        lines += ["\n" * draw(st.integers(0, 1)) + " " * draw(st.integers(0, 12)) + c for c in draw(st.lists(COMMENT, max_size=1))]
        lines += [""] * draw(st.integers(0, 3))
        trailing = draw(st.sampled_from(["", "  # t", "    # t2"]))
        if depth and draw(st.booleans()):
            header = draw(HEADERS)
            step = draw(st.integers(1, 4))
            lines.append(" " * indent + header + trailing)
            lines.append(draw(block(indent + step, depth - 1)))
            if header.startswith("if ") and draw(st.booleans()):
                lines.append(" " * indent + "else:")
                lines.append(draw(block(indent + step, depth - 1)))
        else:
            lines.append(" " * indent + draw(SIMPLE) + trailing)
    return "\n".join(lines)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(block(0, 2).map(lambda text: text + "\n"))
def test_formatting_any_layout_keeps_the_program_and_is_idempotent(text):
    once = format_source(text)
    assert format_source(once) == once
    assert spanless(parse(Source("<formatted>", once))) == spanless(parse(Source("<string>", text)))
    assert [c[2] for c in comments(once)] == [c[2] for c in comments(text)]
