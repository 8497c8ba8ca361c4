"""A `run` line checked against its recipe's declaration (`symdl/ir/recipes.py`) through the one binder.

Arguments become IR-level values here, so the runtime never sees an elaborator object; each mistake is
reported at the keyword or value it concerns.
"""

from __future__ import annotations

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span, did_you_mean
from symdl.elaborate.binding import REQUIRED, bind, fill_defaults
from symdl.elaborate.values import Collection, DataField, DataValue, FnRef, Scope, kind_of
from symdl.elaborate.writers import check_writers, legacy_writers
from symdl.ir import build
from symdl.ir.nodes import DataSpec, Init, Node, RecipeCall, toposort
from symdl.ir.ops import OPS
from symdl.ir.recipes import CLOCK, KINDS, SIGNATURES, FieldArg, FunctionArg, FunctionsArg, Param, Signature, TensorArg, WriteArg
from symdl.ir.recipes import REQUIRED as NO_DEFAULT
from symdl.ir.types import TensorType
from symdl.syntax import ast as A


def check_run(elab, call: A.Call, span: Span, scope: Scope) -> RecipeCall:
    """The `run` statement's recipe call: bound, defaults filled, every value of its declared kind."""
    name = call.func.id
    if name not in SIGNATURES:
        fail("E207", span, name=name, hint=did_you_mean(name, list(SIGNATURES)) or f"recipes: {', '.join(SIGNATURES)}")
    sig = SIGNATURES[name]
    names = [p.name for p in sig.params]
    inputs = {i.name: i for i in elab.model.inputs}
    fed = {k.name for k in call.kwargs if k.name in inputs and k.name not in names and inputs[k.name].type.ndim == 0}
    feeds = tuple((k.name, _feed(elab, k, scope)) for k in call.kwargs if k.name in fed)
    values = {k.name: (_value(elab, k, scope, names), k.span) for k in call.kwargs if k.name not in fed}
    binds = {k: v for k, (v, _) in values.items() if k in inputs and k not in names}
    for key, (value, key_span) in values.items():
        if key in binds and not isinstance(value, DataField):
            fail("E321", key_span, what=f"the binding of input '{key}'", got=kind_of(value))
    spans = {p: a.span for p, a in zip(names, call.args)} | {k.name: k.value.span for k in call.kwargs}
    usage = f"parameters: {', '.join(names)}"
    bound = bind(name, names, [elab.eval(a, scope) for a in call.args], values, span, usage, extra=(*binds, *fed))
    defaults = {p.name: REQUIRED if p.default == NO_DEFAULT and not p.optional else p.default for p in sig.params}
    fill_defaults(name, bound, defaults, span, usage)
    typed = {p.name: _typed(sig, p, bound[p.name], spans.get(p.name, span)) for p in sig.params}
    if "write" in typed:  # `filters = W` and `tiles = FN` are writers too, written after each epoch
        typed["write"] = legacy_writers(typed.get("filters"), typed.get("tiles")) + typed["write"]
    _check_stage_counts(sig, typed, spans, span)
    return RecipeCall(
        name,
        tuple(typed.items()),
        tuple((k, v.field) for k, (v, _) in values.items() if k in binds),
        span,
        tuple(spans.items()),
        feeds,
    )


def _value(elab, keyword: A.Keyword, scope: Scope, names: list[str]) -> object:
    """A keyword's value: `write = [...]` names writers (read from the syntax), the others are expressions."""
    return check_writers(elab, keyword, scope) if keyword.name == "write" and "write" in names else elab.eval(keyword.value, scope)


def _feed(elab, keyword: A.Keyword, scope: Scope) -> Node:
    """`rate = lr * 0.95 ** epoch`: a scalar input's value per call, an IR expression of numbers, hypers and
    the loop's `step` and `epoch` (a model's own names of those shadow them), so `ir.recipes.feed_value`
    computes it from the loop's position alone and a resumed run feeds what the run would have."""
    inner, span = scope.child(), keyword.value.span
    for name in CLOCK:
        if name not in scope.visible():
            inner.names[name] = build.leaf("state", name, TensorType("f32", ()), span, clock=True)
    value = elab.eval(keyword.value, inner)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = elab.tensor(value, span)
    if not isinstance(value, Node) or value.type.ndim != 0:
        fail("E330", span, name=keyword.name, got=_describe(value), hint="a number, or an expression of hypers, step and epoch")
    clock = {id(v) for v in inner.names.values()}
    for node in toposort([value]):
        if node.op != "const" and id(node) not in clock and (node.is_leaf or OPS[node.op].reference is None):
            fail(
                "E331",
                span,
                name=keyword.name,
                what=f"{node.op} {node.name}" if node.is_leaf else f"`{node.op}`",
                hint="the loop computes a fed value from numbers, hypers, step and epoch alone",
            )
    return value


def clock_state(elab, name: str, span: Span) -> Node:
    """The built-in scalar state `step` or `epoch` (`CLOCK`), declared where first used; the loop sets it."""
    known = next((n for n in elab.model.states if n.name == name), None)
    return known or elab.declare_leaf("state", name, TensorType("f32", ()), span, init=Init("constant", (0,)), clock=True)


def _typed(sig: Signature, param: Param, value: object, span: Span) -> object:
    """`value` as the IR-level value of `param`'s kind, or the error of that kind (`KINDS`) at `span`."""
    if value is None and param.optional:
        return None
    converted = _convert(param.kind, value)
    if converted is None:
        fail(KINDS[param.kind], span, what=f"'{param.name}' of {sig.name}", got=_describe(value))
    counts = converted if param.kind == "integers" and isinstance(converted, tuple) else (converted,) if param.kind == "integer" else ()
    if any(v < 0 for v in counts):  # epochs, patience, samples, seeds: none is negative (a data option is the data's)
        fail("E307", span, what=f"'{param.name}' of {sig.name}", least=0, got=repr(value))
    return converted


def _convert(kind: str, value: object) -> object:
    if kind == "function":
        return FunctionArg(value.name) if isinstance(value, FnRef) else None
    if kind == "functions":
        return _functions(value)
    if kind == "writers":
        return value if isinstance(value, tuple) and all(isinstance(v, WriteArg) for v in value) else None
    if kind == "data":
        return value.spec if isinstance(value, DataValue) else value if isinstance(value, DataSpec) else None
    if kind == "field":
        return FieldArg(value.data, value.field) if isinstance(value, DataField) else None
    if kind == "tensor":
        return TensorArg(value.name) if isinstance(value, Node) and value.op in ("param", "state") else None
    if kind == "integers" and isinstance(value, tuple):
        return value if value and all(_is_int(v) for v in value) else None
    if kind in ("integer", "integers"):
        return value if _is_int(value) else None
    return value if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _functions(value: object) -> FunctionsArg | None:
    if isinstance(value, FnRef):
        return FunctionsArg((value.name,))
    items = [value.items[k] for k in sorted(value.items)] if isinstance(value, Collection) else value
    if isinstance(items, (list, tuple)) and items and all(isinstance(v, FnRef) for v in items):
        return FunctionsArg(tuple(v.name for v in items))
    return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: object) -> str:
    """What a wrong argument is, in the user's words (never a Python repr)."""
    if isinstance(value, DataField):
        return f"the data field {value.data}.{value.field}"
    if isinstance(value, DataValue):
        return f"the dataset {value.spec.name}"
    if isinstance(value, FnRef):
        return f"the function {value.name}"
    if isinstance(value, Node):
        return f"{value.op} {value.name}: {value.type}" if value.name else kind_of(value)
    return kind_of(value)


def _check_stage_counts(sig: Signature, typed: dict[str, object], spans: dict[str, Span], span: Span) -> None:
    """A list of epochs gives one number per stage."""
    epochs, stages = typed.get("epochs"), typed.get("pretrain")
    if isinstance(epochs, tuple) and isinstance(stages, FunctionsArg) and len(epochs) != len(stages.names):
        fail(
            "E311",
            spans.get("epochs", span),
            what=f"'epochs' of {sig.name}",
            got=len(epochs),
            count=len(stages.names),
        )
