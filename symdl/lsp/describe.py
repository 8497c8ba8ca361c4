"""Hover text: what a recorded value is, in the words of the language (`h: f32[20, 500]`)."""

from __future__ import annotations

from symdl.elaborate import builtins as B
from symdl.elaborate import values as V
from symdl.elaborate.binding import REQUIRED
from symdl.elaborate.elaborator import declared_vars
from symdl.elaborate.recorder import Entry
from symdl.ir.nodes import Node
from symdl.syntax import ast as A

MAX_LINES = 8  # a block expanded many times (in a loop) shows its first expansions


def hover_text(entries: list[Entry]) -> str:
    """Markdown for the entries of one span: one line per distinct meaning, in a code block."""
    if not entries:
        return ""
    text = entries[0].span.text.strip() if entries[0].span.line == entries[0].span.end_line else ""
    lines: list[str] = []
    for entry in entries:
        for line in describe(text, entry.value).splitlines():
            if line not in lines:
                lines.append(line)
    shown = lines[:MAX_LINES] + ([f"# ... {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else [])
    return "```sdl\n" + "\n".join(shown) + "\n```"


def describe(text: str, value: object) -> str:
    """One value as the declaration a reader would write for it."""
    label = _short(text) or "value"
    if isinstance(value, Node):
        if value.is_leaf and value.op != "const":
            return f"{value.op} {value.name}: {value.type}"
        return f"{label}: {value.type}"
    if isinstance(value, (bool, int, float, str, tuple)):
        return f"{label} = {_literal(value)}"
    if isinstance(value, V.Instance):
        return _instance(label, value)
    if isinstance(value, V.BlockValue):
        return _block(value.decl)
    if isinstance(value, V.DefValue):
        return f"def {value.decl.name}({_params(value.decl.params)})"
    if isinstance(value, V.Builtin):
        return signature(value.name)
    if isinstance(value, V.ParamSet):
        return "\n".join([f"{label}: {len(value.nodes)} parameter(s)"] + [f"  {n.name}: {n.type}" for n in value.nodes])
    if isinstance(value, V.Grads):
        return "\n".join([f"{label}: {V.kind_of(value)}"] + [f"  {p.name}: {g.type}" for p, g in value.pairs])
    if isinstance(value, V.DataValue):
        return f"data {value.spec.name} = dataset({value.spec.kind!r})"
    if isinstance(value, V.FnRef):
        return f"fn {value.name}"
    if isinstance(value, V.Dtype):
        return f"dtype {value.name}"
    if isinstance(value, V.Collection):
        return "\n".join([f"{label}: {len(value.items)} item(s)"] + [describe(f"{value.name}[{k}]", v) for k, v in value.items.items()])
    return f"{label}: {V.kind_of(value)}"


def signature(name: str) -> str:
    """A builtin's signature with its defaults, then what it does: `sum(x, axis = none, keepdims = false)`."""
    sig = B.find(name)
    parts = [p if d is REQUIRED else f"{p} = {_literal(d)}" for p, d in sig.params]
    return f"{name}({', '.join(parts)})" + (f"\n{sig.doc}" if sig.doc else "")


def _instance(label: str, value: V.Instance) -> str:
    head = f"{label}: instance {value.path}"
    result = value.result
    if isinstance(result, Node):
        head += f" -> {result.type}"
    return "\n".join([head] + [f"  param {p.name}: {p.type}" for p in value.params])


def _block(decl: A.BlockDecl) -> str:
    lines = [f"block {decl.name}({_params(decl.params)})"]
    for var in declared_vars(decl.body):
        lines.append(f"  {var.kind} {var.name}: {var.type.span.text}")
    return "\n".join(lines)


def _params(params: tuple[A.Param, ...]) -> str:
    return ", ".join(p.name if p.default is None else f"{p.name} = {p.default.span.text}" for p in params)


def _literal(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, tuple):
        return "[" + ", ".join(_literal(v) for v in value) + "]"
    if isinstance(value, str):
        return f'"{value}"'
    if value is None:
        return "none"
    return str(value)


def _short(text: str) -> str:
    return text if len(text) <= 40 else text[:37] + "..."
