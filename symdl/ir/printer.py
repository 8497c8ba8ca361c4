"""The canonical text form of a program: what `--emit ir` prints and golden tests compare.

Leaves are declared first; every other node gets a number `%k` in topological order
and one line `%k: TYPE = op(args) {attrs}  # name @line:col`. Constants print inline.
A node made by code of an imported file says so: `@rbm.sdl:17:9`.
"""

from __future__ import annotations

from pathlib import PurePath

from symdl.ir.nodes import Node, Program, toposort
from symdl.ir.ops import OPS


def format_program(program: Program) -> str:
    names = {id(n): name for name, n in program.definitions}
    ids: dict[int, str] = {}
    lines = [f"model {program.name}"]
    for node in program.inputs:
        lines.append(f"input {node.name}: {node.type}")
    for node in program.params + program.states:
        init = node.attr("init")
        lines.append(f"{node.op} {node.name}: {node.type} {init}".rstrip())
    for node in (*program.inputs, *program.params, *program.states):
        ids[id(node)] = node.name
    lines += _node_lines(toposort(program.roots()), ids, names, "", program.source)
    for fn in program.functions:
        ins = ", ".join(i.name for i in fn.inputs)
        outs = ", ".join(f"{name}={_ref(n, ids)}" for name, n in fn.outputs)
        lines.append(f"fn {fn.name}({ins}) -> {outs}")
        lines += [f"  update {t.name} = {_ref(u, ids)}" for t, u in fn.updates]
    return "\n".join(lines) + "\n"


def _node_lines(order: list[Node], ids: dict[int, str], names: dict[int, str], prefix: str, home: str) -> list[str]:
    """One line per node not yet named; a scan is followed by its body, indented."""
    lines = []
    counter = 0
    for node in order:
        if id(node) in ids or node.op == "const":
            continue
        if node.is_leaf:
            ids[id(node)] = node.name
            continue
        ids[id(node)] = f"%{prefix}{counter}"
        counter += 1
        args = ", ".join(_ref(i, ids) for i in node.inputs)
        attrs = " ".join(f"{k}={_attr(v)}" for k, v in node.attrs if k not in _unprinted(node))
        comment = "  # " + "  ".join(filter(None, [names.get(id(node), ""), _where(node, home)]))
        lines.append(f"{ids[id(node)]}: {node.type} = {node.op}({args}){' {' + attrs + '}' if attrs else ''}{comment}".rstrip(" #"))
        if node.op == "scan":
            lines += _body_lines(node, ids, names, f"{ids[id(node)][1:]}.", home)
    return lines


def _unprinted(node: Node) -> set[str]:
    """Attributes the printer leaves out: hidden ones, and quiet ones at their default."""
    opdef = OPS[node.op]
    return set(opdef.hidden) | {a.name for a in opdef.attrs if a.quiet and node.attr(a.name) == a.default}


def _body_lines(scan: Node, ids: dict[int, str], names: dict[int, str], prefix: str, home: str) -> list[str]:
    body = scan.attr("body")
    for k, arg in enumerate(body.args):
        ids[id(arg)] = f"${prefix}{k}"
    head = ", ".join(f"{ids[id(a)]}: {a.type} ({a.name})" for a in body.args)
    inner = _node_lines(body.nodes(scan.inputs), ids, names, prefix, home)
    tail = ", ".join(_ref(o, ids) for o in body.outputs)
    return [f"  step({head}):"] + [f"    {line}" for line in inner] + [f"    -> {tail}"]


def _ref(node: Node, ids: dict[int, str]) -> str:
    if node.op == "const":
        return f"{node.attr('value')!r}:{node.type.dtype}"
    return ids[id(node)]


def _attr(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_attr(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value) if isinstance(value, str) else str(value)


def _where(node: Node, home: str) -> str:
    if not node.span:
        return ""
    file = "" if node.span.source.name == home else f"{PurePath(node.span.source.name).name}:"
    return f"@{file}{node.span.line}:{node.span.column}"
