"""The front end and the IR stand on their own: no PyTensor import, blocks, loops, sharing."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from symdl.diagnostics.errors import UserError
from symdl.ir.nodes import toposort
from symdl.pipeline import front_end

ROOT = Path(__file__).resolve().parents[1]

BLOCK_PYTENSOR = """
import sys
class Block:
    def find_spec(self, name, path=None, target=None):
        if name == "pytensor" or name.startswith("pytensor."):
            raise ImportError("pytensor is blocked in this test")
sys.meta_path.insert(0, Block())
from symdl.cli.main import main
for args in (
    ["check", "models/mlp.sdl"],
    ["compile", "models/mlp.sdl", "--emit", "ir-opt"],
    ["compile", "models/mlp.sdl", "--emit", "ast"],
):
    assert main(args) == 0, args
assert "pytensor" not in sys.modules
"""


def test_check_and_emit_ir_without_pytensor():
    result = subprocess.run([sys.executable, "-c", BLOCK_PYTENSOR], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "model mlp" in result.stdout and "fn train(x, y)" in result.stdout


def test_ir_imports_neither_lark_nor_pytensor():
    forbidden = ("lark", "pytensor", "symdl.syntax", "symdl.lowering", "symdl.runtime")
    for folder in ("ir", "passes"):
        for path in (ROOT / "symdl" / folder).glob("*.py"):
            text = path.read_text()
            for name in forbidden:
                assert f"import {name}" not in text and f"from {name}" not in text, f"{path.name} imports {name}"


def _compile(tmp_path, text, *overrides):
    path = tmp_path / "m.sdl"
    path.write_text(textwrap.dedent(text))
    return front_end(path, list(overrides)).optimized


def test_blocks_name_parameters_by_path_and_share(tmp_path):
    program = _compile(
        tmp_path,
        """
        model m
        hyper sizes = [5, 4, 3]
        input x: f32[2, 5]
        block dense(inp, n_in, n_out, act = tanh):
            param W: f32[n_in, n_out] ~ glorot(act)
            param b: f32[n_out] = 0
            return act(inp @ W + b)
        h = x
        for i in range(len(sizes) - 1):
            layer[i] = dense(h, sizes[i], sizes[i + 1], act = sigmoid)
            h = layer[i]
        tied = dense(h, 3, 4, W = layer[1].W.T)
        again = dense(tied, 4, 3, W = layer[1].W)
        c = sum(tanh(dense(again, 3, 2)))
        fn f(x) -> c:
            update sgd(c, again.params, 0.1)
        """,
    )
    names = [p.name for p in program.params]
    assert names == ["layer.0.W", "layer.0.b", "layer.1.W", "layer.1.b", "tied.b", "again.b", "dense@15:14.W", "dense@15:14.b"]
    updated = [t.name for t, _ in program.function("f").updates]
    assert updated == ["again.b", "layer.1.W"]  # the shared weight belongs to again.params too
    sigmoid_w = program.params[0].attr("init").args
    assert sigmoid_w[1] == pytest.approx(4 * (6 / (5 + 4)) ** 0.5)


def test_compile_time_if_and_function_hyper(tmp_path):
    text = """
        model m
        hyper act = tanh, deep = false
        input x: f32[2, 3]
        if deep:
            y = act(act(x))
        else:
            y = act(x)
        fn f(x) -> sum(y)
        """
    ops = lambda program: [n.op for n in toposort(program.roots())]  # noqa: E731
    assert ops(_compile(tmp_path, text)).count("tanh") == 1
    deep = _compile(tmp_path, text, "deep=true", "act=relu")
    assert ops(deep).count("relu") == 2 and "tanh" not in ops(deep)


def test_hyper_arithmetic_folds_at_compile_time(tmp_path):
    program = _compile(
        tmp_path,
        """
        model m
        hyper a = 3, b = a * 2 + 1
        input x: f32[b]
        fn f(x) -> sum(x * (a / 2))
        """,
    )
    assert program.inputs[0].type.shape == (7,)
    assert 1.5 in [n.attr("value") for n in toposort(program.roots()) if n.op == "const"]


def test_momentum_creates_velocity_state():
    program = front_end(ROOT / "models" / "mlp_momentum.sdl").optimized
    assert [s.name for s in program.states] == ["layers.0.W.velocity", "layers.0.b.velocity", "layers.1.W.velocity", "layers.1.b.velocity"]
    assert len(program.function("train").updates) == 8


def test_passes_fold_cse_and_dead_code(tmp_path):
    program = _compile(
        tmp_path,
        """
        model m
        input x: f32[3]
        unused = exp(x)
        a = sum(tanh(x)) + sum(tanh(x))
        fn f(x) -> a * cast(2, f32)
        """,
    )
    ops = [n.op for n in toposort(program.roots())]
    assert ops.count("tanh") == 1 and "cast" not in ops
    assert "unused" not in [k for k, _ in program.definitions]


def test_dead_code_prunes_without_counting_a_rewrite(tmp_path):
    path = tmp_path / "m.sdl"
    path.write_text("model m\ninput x: f32[3]\nunused = exp(x)\nfn f(x) -> sum(x)\n")
    result = front_end(path)
    assert "dead_code" not in result.report.counts and "unused" in result.report.pruned
    assert "pruned 1 unused definition(s)" in result.report.summary()


def test_excluded_rewrite_does_not_fire(tmp_path):
    path = tmp_path / "m.sdl"
    path.write_text("model m\ninput x: f32[3]\nfn f(x) -> sum(log(softmax(x)))\n")
    on = front_end(path)
    off = front_end(path, exclude=("log_of_softmax_to_log_softmax",))
    assert on.report.counts["log_of_softmax_to_log_softmax"] == 1 and "log_of_softmax_to_log_softmax" not in off.report.counts
    assert "log_softmax" in [n.op for n in toposort(on.optimized.roots())]
    assert "log_softmax" not in [n.op for n in toposort(off.optimized.roots())]


def test_shape_error_names_both_types_and_the_declaration(tmp_path):
    with pytest.raises(UserError) as err:
        _compile(
            tmp_path,
            """
            model m
            input x: f32[20, 784]
            block dense(inp, n_in, n_out):
                param W: f32[n_in, n_out]
                return inp @ W
            h = dense(x, 783, 500)
            """,
        )
    text = err.value.render()
    assert "inp is f32[20, 784], W is f32[783, 500]" in text
    assert "h.W declared at" in text and ":6:" in text
