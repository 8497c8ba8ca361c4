"""The parser: AST shape and spans, and syntax errors classified by example."""

from __future__ import annotations

import pytest

from symdl.diagnostics.catalog import MESSAGES
from symdl.diagnostics.errors import Source, UserError
from symdl.syntax import ast as A
from symdl.syntax.parser import SYNTAX_EXAMPLES, parse


def test_statements_and_spans():
    module = parse(Source("m.sdl", "model m\nhyper a = 1, b = [1, 2]\ninput x: f32[a, ?]\ny = -x[:, 0] @ W.T\n"))
    model, hyper, inp, assign = module.body
    assert model == A.ModelDecl(model.span, "m")
    assert [i.name for i in hyper.items] == ["a", "b"]
    assert inp.type.dtype == "f32" and inp.type.dims[1] is None
    assert isinstance(assign.value, A.Binary) and assign.value.op == "matmul"
    assert (assign.value.span.line, assign.value.span.column) == (4, 5)


def test_precedence():
    expr = parse(Source("m.sdl", "z = a + b * c ** 2 == d and not e\n")).body[0].value
    assert expr.op == "and_"
    eq = expr.left
    assert eq.op == "eq" and eq.left.op == "add" and eq.left.right.op == "mul" and eq.left.right.right.op == "pow"


def test_blocks_and_continuation_lines():
    text = "block dense(inp, n = 3):\n    param W: f32[n, n] ~ glorot(tanh)\n    return tanh(inp @\n        W)\n"
    block = parse(Source("m.sdl", text)).body[0]
    assert isinstance(block, A.BlockDecl) and [p.name for p in block.params] == ["inp", "n"]
    assert isinstance(block.body[0], A.VarDecl) and block.body[0].init.random


@pytest.mark.parametrize("code,snippet", [(c, s) for c, snippets in SYNTAX_EXAMPLES.items() for s in snippets])
def test_syntax_examples_read_as_written(code, snippet):
    with pytest.raises(UserError) as err:
        parse(Source("bad.sdl", snippet))
    assert err.value.code == code and err.value.message == MESSAGES[code]
    assert err.value.span is not None and err.value.span.source.name == "bad.sdl"


def test_unexpected_character_is_named():
    with pytest.raises(UserError) as err:
        parse(Source("bad.sdl", "x = a $ b\n"))
    assert err.value.code == "E101" and "'$'" in err.value.message and (err.value.span.line, err.value.span.column) == (1, 7)
