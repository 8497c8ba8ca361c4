"""The canonical text form of a program: what `--emit ir` prints and golden tests compare.

Leaves are declared first; every other node gets a number `%k` in topological order
and one line `%k: TYPE = op(args) {attrs}  # name @line:col`. Constants print inline.
"""

from __future__ import annotations

from symdl.ir.nodes import Node, Program, toposort


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
    for node in toposort(program.roots()):
        if id(node) in ids or node.op == "const":
            continue
        if node.is_leaf:
            ids[id(node)] = node.name
            continue
        ids[id(node)] = f"%{len(ids) - len(program.inputs) - len(program.params) - len(program.states)}"
        args = ", ".join(_ref(i, ids) for i in node.inputs)
        attrs = " ".join(f"{k}={_attr(v)}" for k, v in node.attrs)
        comment = "  # " + "  ".join(filter(None, [names.get(id(node), ""), _where(node)]))
        lines.append(f"{ids[id(node)]}: {node.type} = {node.op}({args}){' {' + attrs + '}' if attrs else ''}{comment}".rstrip(" #"))
    for fn in program.functions:
        ins = ", ".join(i.name for i in fn.inputs)
        outs = ", ".join(f"{name}={_ref(n, ids)}" for name, n in fn.outputs)
        lines.append(f"fn {fn.name}({ins}) -> {outs}")
        lines += [f"  update {t.name} = {_ref(u, ids)}" for t, u in fn.updates]
    return "\n".join(lines) + "\n"


def _ref(node: Node, ids: dict[int, str]) -> str:
    if node.op == "const":
        return f"{node.attr('value')!r}:{node.type.dtype}"
    return ids[id(node)]


def _attr(value: object) -> str:
    if isinstance(value, tuple):
        return "(" + ", ".join(_attr(v) for v in value) + ("," if len(value) == 1 else "") + ")"
    return repr(value) if isinstance(value, str) else str(value)


def _where(node: Node) -> str:
    return f"@{node.span.line}:{node.span.column}" if node.span else ""
