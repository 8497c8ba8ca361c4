"""Numerical-stability rewrites in symdl's own IR, so no backend ever sees the unstable form.

PyTensor 3 dropped Theano's cross-entropy fusions, and its own stabilize rewrites
switch off silently without `packaging`: symdl does not rely on them.
"""

from __future__ import annotations

from symdl.passes.engine import Match
from symdl.passes.registry import rule

# log(sigmoid(x)) = -log(1 + exp(-x))
rule("log_sigmoid_to_neg_softplus", "stabilize", ("log", ("sigmoid", "x")), ("neg", ("softplus", ("neg", "x"))))
# log(1 - sigmoid(x)) = log(sigmoid(-x)) = -softplus(x)
rule("log_one_minus_sigmoid_to_neg_softplus", "stabilize", ("log", ("sub", 1, ("sigmoid", "x"))), ("neg", ("softplus", "x")))
# log(1 + exp(x)) = softplus(x)
rule("log_one_plus_exp_to_softplus", "stabilize", ("log", ("add", 1, ("exp", "x"))), ("softplus", "x"))
# log1p(exp(x)) = softplus(x)
rule("log1p_exp_to_softplus", "stabilize", ("log1p", ("exp", "x")), ("softplus", "x"))
# x log(x) -> xlogx(x), which is 0 at x = 0 (and has a finite gradient there)
rule("x_log_x_to_xlogx", "stabilize", ("mul", "x", ("log", "x")), ("xlogx", "x"))
# Binary cross-entropy once the logs above are stable:
# x log(sigmoid(a)) + (1 - x) log(1 - sigmoid(a)) = -x softplus(-a) - (1 - x) softplus(a) = x a - softplus(a)
rule(
    "cross_entropy_to_logits",
    "stabilize",
    ("add", ("mul", "x", ("neg", ("softplus", ("neg", "a")))), ("mul", ("sub", 1, "x"), ("neg", ("softplus", "a")))),
    ("sub", ("mul", "x", "a"), ("softplus", "a")),
)


@rule("log_of_softmax_to_log_softmax", "stabilize", ("log", ("softmax", "x")))
def log_of_softmax(m: Match):
    """log(softmax(x)) -> log_softmax(x)"""
    softmax = m.term.inputs[0]
    return m.algebra.make("log_softmax", (m.x,), m.term, dict(softmax.attrs))


@rule("log_indexed_softmax_to_indexed_log_softmax", "stabilize", ("log", "picked"))
def log_of_indexed_softmax(m: Match):
    """log(softmax(x)[i, ...]) -> log_softmax(x)[i, ...]"""
    picked = m.picked
    if picked.op != "index" or picked.inputs[0].op != "softmax":
        return None
    softmax = picked.inputs[0]
    stable = m.algebra.make("log_softmax", softmax.inputs, m.term, dict(softmax.attrs))
    return m.algebra.make("index", (stable, *picked.inputs[1:]), m.term, dict(picked.attrs))
