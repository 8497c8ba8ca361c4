"""The one argument binder (symdl.elaborate.binding): positional then keyword, E302, did-you-mean, defaults."""

from __future__ import annotations

import pytest

from tests.test_errors import HEAD

CASES = [
    ("keyword repeats positional", "z = tanh(x, x = y)\n", "E302", 6, 13, "'x' given twice"),
    ("builtin unknown keyword", "z = sum(x, axs = 1)\n", "E205", 6, 12, "did you mean 'axis'"),
    ("block unknown keyword", "block b(inp, size):\n    return inp\nz = b(x, sise = 2)\n", "E205", 8, 10, "did you mean 'size'"),
    ("def keyword twice", "def f(a) = a\nz = f(x, a = x)\n", "E302", 7, 10, "given twice"),
    ("recipe unknown keyword", "fn f(x, y) -> sum(x)\nrun epochs(f, data = d, epoch = 3)\n", "E205", 7, 25, "did you mean 'epochs'"),
]


@pytest.mark.parametrize("name,body,code,line,column,words", CASES, ids=[c[0] for c in CASES])
def test_binder_errors(cli, write_model, name, body, code, line, column, words):
    path = write_model(HEAD + body)
    status, out, err = cli("check", path)
    assert status == 2, err
    assert f"{path}:{line}:{column}: error[{code}]" in err, err
    assert words in err


@pytest.mark.parametrize(
    "body",
    [
        "block b(inp, scale = 2):\n    return inp * scale\nz = b(x)\n",
        "def f(a, k = 1) = a + k\nz = f(x)\n",
        "z = sum(x)\n",
    ],
)
def test_defaults_apply(cli, write_model, body):
    path = write_model(HEAD + body)
    status, out, err = cli("check", path)
    assert status == 0, err
