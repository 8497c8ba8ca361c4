"""`binomial` (one trial is a bernoulli draw) and `scan`: the builtins that make graphs with randomness and loops.

The other draws derive from the registry (`elaborate/operators.py`). A draw gets a stream number unique
in the program; lowering threads one random generator through every draw of a function (scan bodies too), so a model file never
mentions random state. `scan(step, init = [...], over = [...], steps = k)` calls the
def `step` once on placeholder arguments and keeps the graph it returns as the body.
"""

from __future__ import annotations

from symdl.diagnostics.catalog import fail
from symdl.elaborate import library, operators
from symdl.elaborate.builtins import Call, builtin
from symdl.elaborate.values import DefValue, kind_of
from symdl.ir import build
from symdl.ir.nodes import Node, ScanBody, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import TensorType

# ---- random draws -----------------------------------------------------------------------------


@builtin("binomial", "p", ("n", 1), ("shape", None))
def _binomial(c: Call, p, n=1, shape=None):
    """One trial is a bernoulli draw, which (unlike a binomial) can be drawn ahead of a loop."""
    trials = c.integer(n, "n")
    if trials == 1:
        return operators.impl(OPS["bernoulli"])(c, p=p, shape=shape)
    return operators.impl(OPS["binomial"])(c, p=p, n=trials, shape=shape)


# ---- scan ---------------------------------------------------------------------------------------


@builtin("scan", "step", ("init", ()), ("over", ()), ("steps", None))
def _scan(c: Call, step, init=(), over=(), steps=None):
    if not isinstance(step, DefValue):
        fail("E808", c.span("step"), got=kind_of(step))
    inits = [c.tensor(v, "init") for v in (init if isinstance(init, tuple) else (init,))]
    seqs = [c.tensor(v, "over") for v in (over if isinstance(over, tuple) else (over,))]
    count, count_node = _steps(c, steps, seqs)
    for seq in seqs:
        if seq.type.ndim == 0:
            fail("E809", c.span("over"), type=seq.type)
    names = [p.name for p in step.decl.params]
    if len(names) != len(seqs) + len(inits):
        fail(
            "E805",
            step.decl.span,
            takes=len(names),
            sequences=len(seqs),
            carried=len(inits),
            hint="step(one element per sequence in over..., one value per init...)",
        )
    types = [TensorType(s.type.dtype, s.type.shape[1:]) for s in seqs] + [v.type for v in inits]
    args = [build.leaf("arg", name, t, step.decl.span) for name, t in zip(names, types)]
    result = c.elab.call_def(step, list(args), {}, c.expr)
    outputs = [c.tensor(v, "step") for v in (result if isinstance(result, tuple) else (result,))]
    if len(outputs) < len(inits):
        fail(
            "E806",
            step.decl.span,
            returns=len(outputs),
            carried=len(inits),
            hint="the step returns its outputs not fed back, then the next value of each carried value, in init order",
        )
    carried = outputs[len(outputs) - len(inits) :]
    for init_node, out in zip(inits, carried):
        if out.type != init_node.type:
            fail(
                "E406",
                out.span or step.decl.span,
                name=f"the carried value {_label(init_node)}",
                old=str(init_node.type),
                new=str(out.type),
                hint="a carried value keeps its dtype and shape from step to step",
                notes=(f"its initial value is at {init_node.span}",),
            )
    body = ScanBody(tuple(args), tuple(outputs), len(seqs), len(inits))
    closure = _closure(body)
    inputs = [*seqs, *inits, *closure] + ([count_node] if count_node is not None else [])
    loop = c.make("scan", inputs, {"body": body, "steps": count, "n_closure": len(closure)})
    traces = tuple(
        build.make(
            "scan_out", [loop], {"k": k, "type": TensorType(o.type.dtype, (count, *o.type.shape))}, span=library.at(c.elab, c.expr.span)
        )
        for k, o in enumerate(outputs)
    )
    return traces if len(traces) > 1 else traces[0]


def _steps(c: Call, steps, seqs: list[Node]) -> tuple[int | None, Node | None]:
    """The step count: a compile-time integer, an integer scalar tensor, or the sequences' length."""
    if steps is None:
        if not seqs:
            fail("E301", c.span(), name="steps", callee="scan", hint="scan(step, init = [...], steps = k), or over = [sequence]")
        lengths = {s.type.shape[0] for s in seqs if s.type.ndim}
        return (lengths.pop() if len(lengths) == 1 else None), None
    if isinstance(steps, Node):
        if steps.type.shape != () or steps.type.is_float:
            fail("E810", c.span("steps"), type=steps.type)
        return None, steps
    count = c.integer(steps, "steps")
    if count < 1:
        fail("E307", c.span("steps"), what="scan's steps", least=1, got=count)
    return count, None


def _closure(body: ScanBody) -> list[Node]:
    """The outer nodes the body reads: those depending neither on an argument nor on a draw, used by one that does.

    A draw belongs to the step even when its parameters are constants: it is drawn anew at every step."""
    args = {id(a) for a in body.args}
    order = toposort(body.outputs, stop=lambda n: id(n) in args)
    inner = set(args)
    for node in order:
        if _draws(node) or any(id(i) in inner for i in node.inputs):
            inner.add(id(node))
    closure: dict[int, Node] = {}
    for node in order:
        if id(node) in inner:
            for i in node.inputs:
                if id(i) not in inner and i.op != "const":
                    closure[id(i)] = i
    for out in body.outputs:
        if id(out) not in inner and out.op != "const":
            closure[id(out)] = out
    return list(closure.values())


def _draws(node: Node) -> bool:
    """A random draw, or a loop whose step draws."""
    if node.op == "scan":
        return any(_draws(n) for n in node.attr("body").nodes(node.inputs))
    return OPS[node.op].kind == "random"


def _label(node: Node) -> str:
    return node.name or node.op
