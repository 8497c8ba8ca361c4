"""Property tests of the whole-program passes: common-subexpression elimination, dead-code removal and the
scan pass (a sigmoid leaving a scan moves outside it), on random small programs and random values.

Each transformed program is evaluated with the operator registry's NumPy references (a scan step by step, as
its body says), and must compute what the original computes: CSE and dead code exactly, the scan pass (and the
whole pipeline after it) wherever the original is finite.
"""

from __future__ import annotations

import re

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from symdl.diagnostics.errors import Source
from symdl.elaborate.elaborator import elaborate
from symdl.ir.nodes import Node, Program, toposort
from symdl.passes import run_passes
from symdl.passes.cleanup import cse, dead_code
from symdl.passes.registry import PassReport
from symdl.passes.scans import expose_preactivations
from symdl.syntax.parser import parse
from tests.test_rewrite_properties import _value

SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
UNARY = ("tanh", "sigmoid", "exp", "abs")
BINARY = ("+", "-", "*")


def expressions(leaves: tuple[str, ...], max_leaves: int = 5) -> st.SearchStrategy[object]:
    """Random expression trees over `leaves` (a leaf, (f, e) or (a, op, b)): few operators and leaves, so the
    same subexpression recurs often."""
    return st.recursive(
        st.sampled_from(leaves),
        lambda inner: st.one_of(st.tuples(st.sampled_from(UNARY), inner), st.tuples(inner, st.sampled_from(BINARY), inner)),
        max_leaves=max_leaves,
    )


def render(tree: object) -> str:
    if isinstance(tree, str):
        return tree
    if len(tree) == 2:
        return f"{tree[0]}({render(tree[1])})"
    return f"({render(tree[0])} {tree[1]} {render(tree[2])})"


def _program(text: str) -> Program:
    source = Source("random.sdl", text)
    return elaborate(source, parse(source))


def evaluate(program: Program, feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The outputs of the program's function, each operator by its registry reference, a scan by its steps."""
    fn = program.functions[0]
    values = _evaluate(fn.roots(), {}, feeds)
    return [values[id(out)] for _, out in fn.outputs]


def _evaluate(roots, known: dict[int, object], feeds: dict[str, np.ndarray]) -> dict[int, object]:
    values = dict(known)
    for node in toposort(roots, stop=lambda n: id(n) in values):
        if id(node) in values:
            continue
        inputs = [values[id(i)] for i in node.inputs]
        if node.op == "scan":
            values[id(node)] = _scan(node, inputs, values, feeds)
        elif node.op == "scan_out":
            values[id(node)] = inputs[0][node.attr("k")]
        else:
            values[id(node)] = _value(node, inputs, feeds)
    return values


def _scan(node: Node, inputs: list, values: dict[int, object], feeds: dict[str, np.ndarray]) -> list[np.ndarray]:
    """The traces of every body output: the step run over the sequences, carried values fed back."""
    body = node.attr("body")
    seqs, carried = inputs[: body.n_seqs], inputs[body.n_seqs : body.n_seqs + body.n_carried]
    closure = node.inputs[body.n_seqs + body.n_carried :][: node.attr("n_closure")]
    steps = node.attr("steps") or len(seqs[0])
    traces: list[list[np.ndarray]] = [[] for _ in body.outputs]
    for t in range(steps):
        known = {id(c): values[id(c)] for c in closure}
        known |= {id(a): v for a, v in zip(body.args, [s[t] for s in seqs] + carried)}
        step = _evaluate(body.outputs, known, feeds)
        outputs = [step[id(o)] for o in body.outputs]
        carried = outputs[len(outputs) - body.n_carried :]
        for trace, value in zip(traces, outputs):
            trace.append(value)
    return [np.stack(trace) for trace in traces]


values = st.floats(-3, 3, allow_nan=False, allow_subnormal=False)


def _feeds(data, shapes: dict[str, tuple[int, ...]]) -> dict[str, np.ndarray]:
    return {name: data.draw(arrays(np.float64, shape, elements=values), label=name) for name, shape in shapes.items()}


# ---- CSE and dead code: random definitions, some repeated, some unused ------------------------------------


@st.composite
def programs(draw) -> str:
    """A model of 1-8 definitions over x, a and the earlier ones: fresh, a repeat of an earlier one, or a pair
    `(A op B)`, `(B op A)` (equal for + and *, not for -: CSE must tell); the fn returns some of them."""
    names: list[str] = []
    trees: list[object] = []
    lines = ["model random", "input x: f64[3]", "input a: f64[3]"]
    for _ in range(draw(st.integers(1, 4))):
        how = draw(st.sampled_from(("fresh", "repeat", "pair"))) if trees else draw(st.sampled_from(("fresh", "pair")))
        leaves = ("x", "a", *names)
        if how == "pair":
            tree = (draw(expressions(leaves, 3)), draw(st.sampled_from(BINARY)), draw(expressions(leaves, 3)))
            new = [tree, (tree[2], tree[1], tree[0])]
        else:
            new = [draw(expressions(leaves)) if how == "fresh" else draw(st.sampled_from(trees))]
        for tree in new:
            lines.append(f"d{len(names)} = {render(tree)}")
            names.append(f"d{len(names)}")
            trees.append(tree)
    outputs = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    lines.append(f"fn f(x, a) -> {', '.join(outputs)}")
    return "\n".join(lines) + "\n"


def _key(node: Node) -> tuple:
    return (node.op, tuple(id(i) for i in node.inputs), node.attrs, node.type)


@settings(SETTINGS, max_examples=80)
@given(text=programs(), data=st.data())
def test_cse_keeps_every_value_and_leaves_no_two_equal_nodes(text, data):
    program = _program(text)
    merged = cse(program, PassReport())
    feeds = _feeds(data, {"x": (3,), "a": (3,)})
    for before, after in zip(evaluate(program, feeds), evaluate(merged, feeds)):
        np.testing.assert_array_equal(after, before)  # the same operations on the same values: bit for bit
    nodes = [n for n in toposort(merged.functions[0].roots()) if n.op not in ("input", "param", "state")]
    assert len({_key(n) for n in nodes}) == len(nodes) <= len(toposort(program.functions[0].roots()))
    again = PassReport()
    cse(merged, again)
    assert again.counts["cse"] == 0


@SETTINGS
@given(text=programs(), data=st.data())
def test_dead_code_drops_exactly_the_definitions_no_function_uses(text, data):
    program = _program(text)
    report = PassReport()
    pruned = dead_code(program, report)
    live = {id(n) for f in program.functions for n in toposort(f.roots())}
    assert [k for k, _ in pruned.definitions] == [k for k, n in program.definitions if id(n) in live]
    assert report.pruned == [k for k, n in program.definitions if id(n) not in live]
    assert pruned.params == program.params and pruned.states == program.states
    feeds = _feeds(data, {"x": (3,), "a": (3,)})
    for before, after in zip(evaluate(program, feeds), evaluate(pruned, feeds)):
        np.testing.assert_array_equal(after, before)


@SETTINGS
@given(text=programs())
def test_cse_never_merges_two_draws(text):
    program = _program(text.replace("d0 = ", "d0 = normal(shape = [3]) + normal(shape = [3]) + ", 1))
    assert _draws(cse(program, PassReport())) == _draws(program) and len(_draws(program)) >= 2


def _draws(program: Program) -> list[int]:
    """The streams of the program's draws, one per draw (definitions and functions alike)."""
    roots = [n for _, n in program.definitions] + [r for f in program.functions for r in f.roots()]
    return sorted(n.attr("stream") for n in toposort(roots) if n.op == "normal")


# ---- the scan pass: random steps whose outputs may be sigmoids, random uses of their traces ---------------

SCAN_MODEL = """model random
hyper T = {T}
input xs: f64[T, 2]
input h0: f64[2]
input w: f64[2]
def step(xt, h):
    return {out}, {carry}
s, hs = scan(step, init = [h0], over = [xs])
fn f(xs, h0, w) -> {use}
"""
STEP_LEAVES = ("xt", "h", "w")
USES = ("sum(log(s))", "sum(log(1 - s))", "sum(s[T - 1] * hs[0])", "sum(log(hs))", "log(s[0])", "sum(s) + sum(hs)")


@st.composite
def scan_programs(draw) -> tuple[str, bool]:
    """A scan model, and whether a sigmoid output's trace is used (so the scan pass must fire)."""
    wrap = st.sampled_from(("sigmoid", "tanh", ""))
    out_f, carry_f = draw(wrap), draw(st.sampled_from(("sigmoid", "tanh")))
    inner = draw(expressions(STEP_LEAVES, 4))
    out = f"{out_f}({render(inner)})"
    out_f = out_f or (inner[0] if isinstance(inner, tuple) and len(inner) == 2 else "")  # the step's outermost operator
    carry = f"{carry_f}({render(draw(expressions(STEP_LEAVES, 4)))})"
    use = draw(st.sampled_from(USES))
    fires = (out_f == "sigmoid" and re.search(r"\bs\b", use) is not None) or (carry_f == "sigmoid" and "hs" in use)
    return SCAN_MODEL.format(T=draw(st.integers(1, 4)), out=out, carry=carry, use=use), fires


@SETTINGS
@given(case=scan_programs(), data=st.data())
def test_the_scan_pass_and_the_pipeline_keep_the_value_where_it_is_finite(case, data):
    text, fires = case
    program = _program(text)
    report = PassReport()
    moved = expose_preactivations(program, report)
    assert (report.counts["scan_sigmoid_output_to_preactivation"] > 0) == fires
    rewritten, _ = run_passes(program)
    steps = dict(program.hypers)["T"]
    feeds = _feeds(data, {"xs": (steps, 2), "h0": (2,), "w": (2,)})
    expected = evaluate(program, feeds)[0]
    for other in (moved, rewritten):
        got = evaluate(other, feeds)[0]
        finite = np.isfinite(expected)
        assert got.shape == expected.shape
        np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-7, atol=1e-9)
