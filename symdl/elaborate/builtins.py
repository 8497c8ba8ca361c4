"""The language's built-in functions: one table entry each, with its signature.

Tensor functions build IR nodes (and fold to Python numbers when every argument is
known at compile time); the rest are compile-time helpers (range, len), gradients,
initialisers (after `~`) and `dataset`.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span
from symdl.elaborate import library, operators
from symdl.elaborate.binding import REQUIRED, bind, compile_time_int, fill_defaults
from symdl.elaborate.operators import weak_dtype
from symdl.elaborate.values import DataValue, Dtype, Grads, InitSpec, Instance, ParamSet, as_list, kind_of
from symdl.ir import build
from symdl.ir.nodes import DataSpec, Init, Node, substitute, toposort
from symdl.ir.opdef import OpDef, surface_ops
from symdl.ir.types import TensorType
from symdl.syntax import ast as A

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator


def shape_of(node: Node, span: Span) -> tuple[int | Node, ...]:
    """A tensor's dimensions: each static one an int, each `?` its length at run time (an i64 scalar)."""
    return tuple(d if d is not None else build.make("dim", [node], {"axis": k}, span=span) for k, d in enumerate(node.type.shape))


@dataclass(frozen=True)
class Sig:
    params: tuple[tuple[str, object], ...]
    impl: Callable
    collect: int | None = None  # the parameter that collects the positional arguments from here on
    doc: str = ""  # what the call does, after its usage in an error's hint


BUILTINS: dict[str, Sig] = {}


def builtin(name: str, *params: str | tuple[str, object], collect: int | None = None):
    def register(impl: Callable) -> Callable:
        spec = tuple((p, REQUIRED) if isinstance(p, str) else p for p in params)
        BUILTINS[name] = Sig(spec, impl, collect)
        return impl

    return register


def find(name: str) -> Sig | None:
    """The built-in called `name`: one written here, else the generic call of the operator of that surface name."""
    if name in BUILTINS:
        return BUILTINS[name]
    op = surface_ops().get(name)
    return None if op is None else _derived(op)


@functools.cache
def _derived(op: OpDef) -> Sig:
    return Sig(operators.signature(op), operators.impl(op), op.collects(), op.doc)


def names() -> set[str]:
    """Every built-in name (for did-you-mean)."""
    return set(BUILTINS) | set(surface_ops())


def call_builtin(elab: Elaborator, name: str, args: list, kwargs: dict, e: A.Call, scope) -> object:
    sig = find(name)
    names = [p for p, _ in sig.params]
    k = sig.collect
    if k is not None and len(args) > k + 1 and not isinstance(args[k], tuple):
        args = [*args[:k], tuple(args[k:])]
    usage = _usage(name, sig)
    bound = bind(name, names, args, kwargs, e.span, usage)
    spans = {n: a.span for n, a in zip(names, e.args)} | {k: s for k, (_, s) in kwargs.items()}
    fill_defaults(name, bound, dict(sig.params), e.span, usage)
    return sig.impl(Call(elab, e, spans), **bound)


def _usage(name: str, sig: Sig) -> str:
    parts = [p if d is REQUIRED else f"{p} = {_show(d)}" for p, d in sig.params]
    return f"usage: {name}({', '.join(parts)})" + (f": {sig.doc}" if sig.doc else "")


def _show(value: object) -> str:
    if isinstance(value, bool) or value is None:
        return {True: "true", False: "false", None: "none"}[value]
    if isinstance(value, tuple):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return repr(value) if isinstance(value, str) else str(value)


@dataclass(frozen=True)
class Call:
    """The context a builtin runs in: the elaborator, the call and its argument spans."""

    elab: Elaborator
    expr: A.Call
    spans: dict[str, Span]

    def span(self, arg: str | None = None) -> Span:
        return self.spans.get(arg, self.expr.span) if arg else self.expr.span

    def tensor(self, value: object, arg: str, dtype: str | None = None) -> Node:
        return self.elab.tensor(value, self.span(arg), dtype)

    def make(self, op: str, inputs: list[Node], attrs: dict | None = None) -> Node:
        at = {arg: library.at(self.elab, s) for arg, s in self.spans.items()}
        return build.make(op, inputs, attrs, span=library.at(self.elab, self.expr.span), arg_spans=at)

    def integer(self, value: object, arg: str) -> int:
        return compile_time_int(value, self.span(arg), f"'{arg}'")

    def ints(self, value: object, arg: str) -> tuple[int, ...]:
        items = value if isinstance(value, tuple) else (value,)
        return tuple(self.integer(v, arg) for v in items)

    def dtype(self, value: object, arg: str) -> str:
        if isinstance(value, Dtype):
            return value.name
        if isinstance(value, str) and value in ("f32", "f64", "i32", "i64", "u8", "bool"):
            return value
        fail("E326", self.span(arg), what=f"'{arg}'", got=kind_of(value))


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, bool))


# ---- tensor functions not one operator each (the rest derive from the registry, see the end) ------


@builtin("identity", "x")
def _identity(c: Call, x):
    return x


# ---- compile-time helpers ------------------------------------------------------------------


@builtin("range", "n")
def _range(c: Call, n):
    count = c.integer(n, "n")
    if count > MAX_RANGE:  # a compile-time loop unrolls every step into the graph
        fail("E308", c.span("n"), limit=MAX_RANGE, got=count)
    return tuple(range(count))


MAX_RANGE = 100_000


def _list(c: Call, items: object, arg: str) -> tuple:
    items = as_list(items)
    if not isinstance(items, tuple):
        fail(
            "E325",
            c.span(arg),
            what=f"{c.expr.func.id if isinstance(c.expr.func, A.Name) else 'it'}'s '{arg}'",
            got=kind_of(items),
        )
    return items


@builtin("len", "items")
def _len(c: Call, items):
    """A list's length; a tensor's first dimension (an i64 scalar tensor when it is `?`)."""
    if isinstance(items, Node) and items.type.ndim:
        return shape_of(items, c.span())[0]
    return len(_list(c, items, "items"))


@builtin("enumerate", "items")
def _enumerate(c: Call, items):
    return tuple(enumerate(_list(c, items, "items")))


@builtin("zip", "a", "b")
def _zip(c: Call, a, b):
    return tuple(zip(_list(c, a, "a"), _list(c, b, "b")))


@builtin("dataset", ("kind", None), ("path", None), ("n", None), ("seed", None), ("dim", None), ("step", None))
def _dataset(c: Call, kind=None, path=None, n=None, seed=None, dim=None, step=None):
    if kind is None and path is None:
        fail("E301", c.span(), name="kind", callee="dataset", hint='dataset("fashion-mnist") or dataset(path = "mnist.pkl.gz")')
    options = tuple((k, v) for k, v in (("n", n), ("seed", seed), ("dim", dim), ("step", step)) if v is not None)
    return DataValue(DataSpec("", str(kind or "file") if path is None else f"path:{path}", options, c.span()))


# ---- gradients and update rules ---------------------------------------------------------------


def _wrt_nodes(c: Call, wrt: object, arg: str) -> tuple[Node, ...]:
    if isinstance(wrt, ParamSet):
        return wrt.nodes
    if isinstance(wrt, tuple):
        return tuple(c.tensor(w, arg) for w in wrt)
    return (c.tensor(wrt, arg),)


@builtin("grad", "cost", "wrt", ("constant", ()))
def _grad(c: Call, cost, wrt, constant=()):
    """Theano's consider_constant as marks: each constant inside the cost becomes stop_gradient(constant)."""
    if isinstance(cost, Grads) and wrt is None:  # gradients handed to an update rule in place of (cost, params)
        return cost
    items = constant if isinstance(constant, tuple) else (constant,)
    spans = _item_spans(c, "constant", len(items))
    consts = [c.tensor(k, "constant") for k in items]
    cost_node = c.tensor(cost, "cost")
    used = {id(n) for n in toposort([cost_node])}
    for node, span in zip(consts, spans):
        if id(node) not in used:
            c.elab.warn("W100", span, hint="remove it from constant, or check the cost", name=span.text)
    marked = substitute(cost_node, {id(k): c.make("stop_gradient", [k]) for k in consts if id(k) in used})
    through = {id(n) for n in toposort([marked], stop=lambda n: n.op == "stop_gradient")}
    nodes = _wrt_nodes(c, wrt, "wrt")
    for node in nodes:
        if node.op == "const":
            fail("E327", c.span("wrt"))
        if id(node) not in through:
            why = "it is reached only through a constant" if id(node) in used else "remove it from wrt, or check that the cost uses it"
            fail("E408", c.span("wrt"), name=node.name, hint=why)
    return Grads(tuple((n, c.make("grad", [marked, n])) for n in nodes))


def _item_spans(c: Call, arg: str, count: int) -> list[Span]:
    """The span of each item of a list argument written literally, else the argument's span."""
    value = next((k.value for k in c.expr.kwargs if k.name == arg), None)
    if isinstance(value, A.ListLit) and len(value.items) == count:
        return [item.span for item in value.items]
    return [c.span(arg)] * count


def fit_update(elab: Elaborator, target: Node, value: Node, span: Span) -> Node:
    """An update's value must have its target's type; a dtype differing only in width is cast."""
    if value.type.shape != target.type.shape:
        fail("E406", span, name=target.name, old=str(target.type), new=str(value.type), notes=(f"{target.name} declared at {target.span}",))
    if value.type.dtype != target.type.dtype:
        return build.make("cast", [value], {"dtype": target.type.dtype}, span=library.at(elab, span))
    return value


# ---- initialisers (after `~` in a param or state declaration) ----------------------------------

INITIALIZERS = ("uniform", "normal", "glorot", "he", "lecun")

# glorot's gain per activation: the tutorial's 4 for sigmoid and 1 for tanh; sqrt(2) for relu (He et al.,
# as PyTorch's calculate_gain), 1 for a linear layer
GLOROT_GAIN = {"tanh": 1.0, "sigmoid": 4.0, "relu": math.sqrt(2.0), "identity": 1.0, "none": 1.0}


def initializer(elab: Elaborator, decl: A.VarDecl, type_: TensorType, scope) -> Init:
    """The Init of a declaration: `= number`, `~ uniform(b)`, `~ normal(std)`, `~ glorot(act)`."""
    if decl.init is None:
        return Init("constant", (0,))
    if not decl.init.random:
        value = elab.eval(decl.init.value, scope)
        if isinstance(value, Node) and value.op in ("param", "state"):
            return _copy_of(value, type_, decl.init.value.span)
        if not _is_number(value):
            fail(
                "E340",
                decl.init.value.span,
                got=kind_of(value),
            )
        return Init("constant", (value,))
    call = decl.init.value
    if not (isinstance(call, A.Call) and isinstance(call.func, A.Name) and call.func.id in INITIALIZERS):
        fail(
            "E203", call.span, name=getattr(getattr(call, "func", None), "id", "?"), hint=f"random initialisers: {', '.join(INITIALIZERS)}"
        )
    args = [elab.eval(a, scope) for a in call.args]
    kwargs = {k.name: elab.eval(k.value, scope) for k in call.kwargs}
    return _init_of(elab, call, type_, args, kwargs)


def _copy_of(source: Node, type_: TensorType, span: Span) -> Init:
    """`state m: f32[3] = W`: starts as W's initial value (cast to its own dtype)."""
    if source.type.shape != type_.shape:
        fail("E341", span, shape=type_, got=source.type)
    return Init("copy", (source.name,))


def _init_of(elab: Elaborator, call: A.Call, type_: TensorType, args: list, kwargs: dict) -> Init:
    name = call.func.id
    pool = kwargs.pop("pool", None) if name == "glorot" else None
    values = args + list(kwargs.values())
    if name in ("glorot", "he", "lecun"):
        if type_.ndim < 2 or None in type_.shape:
            fail("E342", call.span, init=name, type=type_)
        fan_in, fan_out = _fans(type_.shape)
    if name == "glorot":
        act = values[0] if values else None
        act = act.result if isinstance(act, Instance) else act
        key = "none" if act is None else str(act)
        if len(values) > 1 or key not in GLOROT_GAIN:
            fail(
                "E343",
                call.span,
                names=", ".join(GLOROT_GAIN),
                got=", ".join(str(v) for v in values),
            )
        fan_out /= _pool_area(call, pool)
        bound = math.sqrt(6.0 / (fan_in + fan_out)) * GLOROT_GAIN[key]
        return Init("uniform", (-bound, bound))
    if name in ("he", "lecun"):
        if values:
            fail(
                "E344",
                call.span,
                init=name,
                got=", ".join(kind_of(v) for v in values),
            )
        # He et al. 2015 for relu layers: normal, std sqrt(2 / fan_in); LeCun 1998: std sqrt(1 / fan_in)
        return Init("normal", (0.0, math.sqrt((2.0 if name == "he" else 1.0) / fan_in)))
    if not all(_is_number(v) for v in values) or not 1 <= len(values) <= 2:
        fail("E345", call.span, init=name, got=", ".join(kind_of(v) for v in values) or "none")
    if name == "uniform":
        low, high = (-values[0], values[0]) if len(values) == 1 else values
        return Init("uniform", (float(low), float(high)))
    mean, std = (0.0, values[0]) if len(values) == 1 else values
    return Init("normal", (float(mean), float(std)))


def _pool_area(call: A.Call, pool: object) -> int:
    """glorot(act, pool = [2, 2]): a conv layer followed by pooling has fan_out / (pool area), as in the tutorial."""
    if pool is None:
        return 1
    items = pool if isinstance(pool, tuple) else (pool,)
    if len(items) != 2 or not all(isinstance(p, int) and not isinstance(p, bool) and p > 0 for p in items):
        fail("E314", call.span, got=kind_of(pool))
    return items[0] * items[1]


def _fans(shape: tuple[int | None, ...]) -> tuple[int, int]:
    """Fan-in and fan-out: a matrix's rows and columns; a conv filter's (out, in, h, w) as in the tutorial."""
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[2:]))
    return shape[1] * receptive, shape[0] * receptive


__all__ = ["BUILTINS", "InitSpec", "weak_dtype"]
