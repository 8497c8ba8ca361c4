"""Property tests of the rewrite engine: every stability, simplification and canonical-form rule, on random shapes
and values, computes what the naive graph computes wherever the naive graph is finite.

Both graphs are evaluated with the operator registry's NumPy references (no PyTensor). Each rule gets a model
fragment its pattern matches; the test also checks that the rule fired, so no case passes vacuously.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from symdl.diagnostics.errors import Source
from symdl.elaborate.elaborator import elaborate
from symdl.ir.nodes import Node, Program, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE
from symdl.passes import run_passes
from symdl.passes.phases import known_names
from symdl.passes.registry import PASSES, RULES
from symdl.syntax.parser import parse

# rule -> (expression over x, a: f64[n, m] and y: i64[n] labels below m, other rules its pattern needs first)
CASES: dict[str, tuple[str, tuple[str, ...]]] = {
    "log_sigmoid_to_neg_softplus": ("log(sigmoid(x))", ()),
    "log_one_minus_sigmoid_to_neg_softplus": ("log(1 - sigmoid(x))", ()),
    "log_one_plus_exp_to_softplus": ("log(1 + exp(x))", ()),
    "log1p_exp_to_softplus": ("log1p(exp(x))", ()),
    "x_log_x_to_xlogx": ("x * log(x)", ()),
    "cross_entropy_to_logits": (
        "x * log(sigmoid(a)) + (1 - x) * log(1 - sigmoid(a))",
        ("log_sigmoid_to_neg_softplus", "log_one_minus_sigmoid_to_neg_softplus"),
    ),
    "log_of_softmax_to_log_softmax": ("log(softmax(x))", ()),
    "log_indexed_softmax_to_indexed_log_softmax": ("log(softmax(x)[arange(n), y])", ()),
    "index_of_elementwise_to_elementwise_of_index": ("tanh(x)[arange(n), y]", ()),
    "mul_one_to_x": ("x * 1", ()),
    "div_one_to_x": ("x / 1", ()),
    "add_zero_to_x": ("x + 0", ()),
    "sub_zero_to_x": ("x - 0", ()),
    "zero_sub_to_neg": ("0 - x", ()),
    "pow_one_to_x": ("x ** 1", ()),
    "sub_self_to_zeros": ("x - x", ()),
    "transpose_transpose_to_x": ("transpose(transpose(x))", ()),
    "reshape_to_same_shape_to_x": ("reshape(x, [n, m])", ()),
    "flatten_flat_to_x": ("flatten(x, 2)", ()),
    "cast_to_own_dtype_to_x": ("cast(x, f64)", ()),
    "fold_constants": ("x * cast(2, f64)", ()),
    "mul_zero_to_zeros": ("x * 0", ()),
    "pow_two_to_sqr": ("x ** 2", ()),
    "neg_neg_to_x": ("-(-x)", ()),
    "sub_neg_to_add": ("x - (-a)", ()),
    "exp_log_to_x": ("exp(log(x))", ()),
}
RULE_NAMES = [r.name for r in RULES if r.phase in ("canonicalize", "stabilize", "simplify")]

MODEL = """hyper n = {n}, m = {m}
input x: f64[n, m]
input a: f64[n, m]
input y: i64[n]
z = {expr}
fn f(x, a, y) -> z
"""


def test_every_rule_has_a_case():
    assert sorted(CASES) == sorted(RULE_NAMES)


@functools.cache
def _programs(rule: str, n: int, m: int) -> tuple[Program, Program]:
    """(naive, rewritten by `rule` and the rules it needs alone) for an n x m case."""
    expr, needs = CASES[rule]
    source = Source(f"{rule}.sdl", MODEL.format(n=n, m=m, expr=expr))
    naive = elaborate(source, parse(source))
    others = tuple(name for name in known_names() if name not in (rule, *needs) and name not in {p.name for p in PASSES})
    rewritten, report = run_passes(naive, exclude=others)
    assert report.counts[rule] > 0, f"{rule} did not fire on {expr}"
    return naive, rewritten


def evaluate(program: Program, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The outputs of the program's function, each operator computed by its registry reference."""
    fn = program.functions[0]
    values: dict[int, np.ndarray] = {}
    for node in toposort(fn.roots()):
        values[id(node)] = _value(node, [values[id(i)] for i in node.inputs], feeds)
    return [values[id(out)] for _, out in fn.outputs]


def _value(node: Node, inputs: list[np.ndarray], feeds: dict[str, np.ndarray]) -> np.ndarray:
    if node.op == "input":
        return feeds[node.name]
    if node.op == "const":
        return np.asarray(node.attr("value"), NUMPY_DTYPE[node.type.dtype])
    attrs = {k: v for k, v in node.attrs if k not in ("name", "type")}
    with np.errstate(all="ignore"):
        return np.asarray(OPS[node.op].reference(*inputs, **attrs))


values = st.floats(-8, 8, allow_nan=False, allow_subnormal=False)


@pytest.mark.parametrize("rule", sorted(CASES))
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), n=st.integers(1, 3), m=st.integers(1, 4))
def test_rewrite_keeps_the_value_where_the_naive_graph_is_finite(rule, data, n, m):
    naive, rewritten = _programs(rule, n, m)
    feeds = {
        "x": data.draw(arrays(np.float64, (n, m), elements=values | st.sampled_from([0.0, 1.0, -1.0, 1e-6]))),
        "a": data.draw(arrays(np.float64, (n, m), elements=values)),
        "y": data.draw(arrays(np.int64, (n,), elements=st.integers(0, m - 1))),
    }
    expected, got = evaluate(naive, feeds)[0], evaluate(rewritten, feeds)[0]
    assert got.shape == expected.shape and got.dtype == expected.dtype
    finite = np.isfinite(expected)
    np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-7, atol=1e-9)
