"""The rewrite engine on toy terms: no tensors, no IR, only what the engine promises."""

from __future__ import annotations

from dataclasses import dataclass

from symdl.passes.engine import Match, Rule, apply_rules, format_pattern, match, rewrite_bottom_up, to_fixed_point


@dataclass(frozen=True, eq=False)
class T:
    op: str
    args: tuple = ()
    value: float | None = None


class Toy:
    commutative = frozenset({"plus", "times"})

    def op(self, t):
        return t.op

    def inputs(self, t):
        return t.args

    def constant(self, t):
        return t.value if t.op == "num" else None

    def make(self, op, inputs, like):
        return T(op, tuple(inputs))

    def const(self, value, like):
        return T("num", (), value)

    def accepts(self, old, new):
        return new.op != "forbidden"


TOY = Toy()
a, b = T("a"), T("b")


def num(v):
    return T("num", (), v)


def show(t):
    if t.op == "num":
        return str(t.value)
    return t.op if not t.args else f"{t.op}({', '.join(show(x) for x in t.args)})"


def run(rules, term):
    fired = []
    out = rewrite_bottom_up(
        term, rules, TOY, lambda t, args: t if args == t.args else T(t.op, args, t.value), lambda r, o, n: fired.append(r.name)
    )
    return out, fired


def test_nested_pattern_binds_names_and_builds_the_template():
    rule = Rule("f_g_to_h", "x", ("f", ("g", "x")), ("h", "x", 2))
    out, fired = run([rule], T("f", (T("g", (a,)),)))
    assert show(out) == "h(a, 2)" and fired == ["f_g_to_h"]


def test_a_name_used_twice_must_bind_the_same_term():
    rule = Rule("minus_self_to_zero", "x", ("minus", "x", "x"), 0)
    assert run([rule], T("minus", (a, a)))[1] == ["minus_self_to_zero"]
    assert run([rule], T("minus", (a, b)))[1] == []


def test_numbers_match_constants_of_that_value_only():
    rule = Rule("times_one_to_x", "x", ("times", "x", 1), "x")
    assert show(run([rule], T("times", (a, num(1))))[0]) == "a"
    assert show(run([rule], T("times", (a, num(2))))[0]) == "times(a, 2)"


def test_commutative_operators_match_either_order_but_others_do_not():
    plus = Rule("plus_zero_to_x", "x", ("plus", "x", 0), "x")
    minus = Rule("minus_zero_to_x", "x", ("minus", "x", 0), "x")
    assert show(run([plus], T("plus", (num(0), a)))[0]) == "a"
    assert show(run([minus], T("minus", (num(0), a)))[0]) == "minus(0, a)"


def test_escape_hatch_sees_the_match_and_may_decline():
    def only_for_a(m: Match):
        return m.build(("g", "x")) if m.x is a else None

    rule = Rule("f_to_g", "x", ("f", "x"), only_for_a)
    assert show(run([rule], T("f", (a,)))[0]) == "g(a)"
    assert show(run([rule], T("f", (b,)))[0]) == "f(b)"


def test_rewrites_chain_at_a_node_and_shared_terms_are_rewritten_once():
    rules = [Rule("f_to_g", "x", ("f", "x"), ("g", "x")), Rule("g_to_h", "x", ("g", "x"), ("h", "x"))]
    shared = T("f", (a,))
    out, fired = run(rules, T("pair", (shared, shared)))
    assert show(out) == "pair(h(a), h(a))" and out.args[0] is out.args[1]
    assert fired == ["f_to_g", "g_to_h"]


def test_a_result_the_algebra_refuses_is_not_used():
    rule = Rule("f_to_forbidden", "x", ("f", "x"), ("forbidden", "x"))
    assert show(apply_rules(T("f", (a,)), [rule], TOY, lambda *_: None)) == "f(a)"


def test_fixed_point_reaches_new_terms_a_template_built():
    # g(f(a)) -> f(f(a))? no: a two-step system that needs a second sweep
    rules = [Rule("k_to_f", "x", ("k", "x"), ("f", ("f", "x"))), Rule("f_f_to_a", "x", ("f", ("f", "x")), "x")]
    state = {"t": T("k", (T("k", (a,)),))}

    def sweep():
        out, fired = run(rules, state["t"])
        state["t"] = out
        return len(fired)

    rounds = to_fixed_point(sweep)
    assert show(state["t"]) == "a" and rounds >= 2


def test_a_pattern_of_none_matches_every_term_and_format_shows_the_formula():
    assert match(None, a, TOY) is not None
    assert format_pattern(("log", ("sigmoid", "x"))) == "log(sigmoid(x))"
