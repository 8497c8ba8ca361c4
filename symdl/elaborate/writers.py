"""A `run` line's `write = [...]`: which artifacts a run writes, by which writer, and when.

`write = [tiles(samples, "samples.png"), npz(samples, "last.npz", every = "end")]` names writers of the
registry declared in `symdl/ir/recipes.py` (`WRITERS`); each call is read here from the syntax (a writer is
not a value of the language), its arguments bound by the one binder, and checked before anything compiles.
"""

from __future__ import annotations

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span, did_you_mean
from symdl.elaborate.binding import REQUIRED, bind, fill_defaults
from symdl.elaborate.values import FnRef, Scope, kind_of
from symdl.ir.nodes import Node
from symdl.ir.recipes import WHEN, WRITERS, FunctionArg, TensorArg, WriteArg, Writer
from symdl.ir.types import TensorType
from symdl.syntax import ast as A

USAGE = 'WRITER(SOURCE, "FILE", every = "epoch" or "end"); writers: ' + ", ".join(WRITERS)


def check_writers(elab, keyword: A.Keyword, scope: Scope) -> tuple[WriteArg, ...]:
    """`write = [WRITER(...), ...]` (or one writer) as IR-level `WriteArg`s, each mistake at its own span."""
    items = keyword.value.items if isinstance(keyword.value, A.ListLit) else (keyword.value,)
    return tuple(_writer(elab, item, scope) for item in items)


def legacy_writers(filters: TensorArg | None, tiles: FunctionArg | None) -> tuple[WriteArg, ...]:
    """`filters = W` and `tiles = FN`, the keywords older models use, as the writers they stand for."""
    writes = (WriteArg("filters", filters, "filters"),) if filters else ()
    return writes + ((WriteArg("tiles", tiles, tiles.name),) if tiles else ())


def _writer(elab, item: A.Node, scope: Scope) -> WriteArg:
    if not isinstance(item, A.Call) or not isinstance(item.func, A.Name):
        fail("E332", item.span, got=_text(item), hint=USAGE)
    name = item.func.id
    if name not in WRITERS:
        fail("E218", item.func.span, name=name, hint=did_you_mean(name, list(WRITERS)) or USAGE)
    writer = WRITERS[name]
    names = ["source", "file", "every", *writer.options]
    usage = f"{name}({', '.join(names)})"
    args = [elab.eval(a, scope) for a in item.args]
    kwargs = {k.name: (elab.eval(k.value, scope), k.span) for k in item.kwargs}
    bound = bind(name, names, args, kwargs, item.span, usage)
    spans = {n: a.span for n, a in zip(names, item.args)} | {k.name: k.value.span for k in item.kwargs}
    defaults = {"source": REQUIRED, "file": None, "every": "epoch"} | {o: None for o in writer.options}
    fill_defaults(name, bound, defaults, item.span, usage)
    source, stem = _source(elab, writer, bound["source"], spans["source"])
    every = bound["every"]
    if every not in WHEN:
        fail("E334", spans.get("every", item.span), got=_text_of(every), hint=did_you_mean(str(every), list(WHEN)) or "")
    file = _stem(writer, bound["file"], stem, spans.get("file", item.span))
    options = tuple((o, _number(writer, o, bound[o], spans.get(o, item.span))) for o in writer.options if bound[o] is not None)
    return WriteArg(name, source, file, every, options)


def _source(elab, writer: Writer, value: object, span: Span) -> tuple[FunctionArg | TensorArg, str]:
    """What a writer reads: a function without inputs (its first output) or a parameter or state, of a rank it takes."""
    if isinstance(value, FnRef):
        fn = next(f for f in elab.model.functions if f.name == value.name)
        if fn.inputs:
            fail("E333", span, writer=writer.name, takes="a function without inputs", got=f"fn {fn.name}, which takes {fn.inputs[0].name}")
        source, type_ = FunctionArg(fn.name), fn.outputs[0][1].type
    elif isinstance(value, Node) and value.op in ("param", "state"):
        source, type_ = TensorArg(value.name), value.type
    else:
        fail("E333", span, writer=writer.name, takes="a function without inputs, a parameter or a state", got=kind_of(value))
    if writer.ranks is not None and (type_.ndim not in writer.ranks or not _square_images(writer, type_)):
        fail("E333", span, writer=writer.name, takes=writer.takes, got=f"{source.name}: {type_}")
    return source, source.name


def _square_images(writer: Writer, type_: TensorType) -> bool:
    """`tiles` draws square images: the last dimension a square number of pixels (a `?` one is checked when written)."""
    side = type_.shape[-1]
    return writer.name != "tiles" or side is None or round(side**0.5) ** 2 == side


def _stem(writer: Writer, file: object, default: str, span: Span) -> str:
    """The file's stem in the run directory: a plain name, with the writer's suffix or none."""
    if file is None:
        return default
    text = file if isinstance(file, str) else ""
    stem = text.removesuffix(writer.suffix)
    if not stem or "." in stem or "/" in stem or "\\" in stem or stem.startswith("-"):
        fail("E335", span, writer=writer.name, suffix=writer.suffix, got=_text_of(file))
    return stem


def _number(writer: Writer, option: str, value: object, span: Span) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        fail("E333", span, writer=writer.name, takes=f"{option} as a positive number", got=_text_of(value))
    return float(value)


def _text(node: A.Node) -> str:
    return node.span.text or "this value"


def _text_of(value: object) -> str:
    return f'"{value}"' if isinstance(value, str) else repr(value) if isinstance(value, (int, float)) else kind_of(value)
