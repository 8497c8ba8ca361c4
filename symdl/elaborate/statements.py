"""Statements: declarations, assignments, compile-time control flow, functions and runs.

`context` says where a statement stands: "top" (the model), "block", "def" or "fn";
each statement kind is allowed in some of them only.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.elaborate import builtins as B
from symdl.elaborate import library, modes
from symdl.elaborate.imports import import_names
from symdl.elaborate.recipes import check_run
from symdl.elaborate.values import BlockValue, Collection, DataValue, DefValue, FnRef, Instance, ReturnSignal, Scope, as_list, kind_of
from symdl.ir import build
from symdl.ir.nodes import Function, Node, toposort
from symdl.syntax import ast as A

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator

ALLOWED = {
    A.ModelDecl: ("top",),
    A.Import: ("top",),
    A.Hyper: ("top",),
    A.DataDecl: ("top",),
    A.InputDecl: ("top",),
    A.VarDecl: ("top", "block"),
    A.FnDecl: ("top",),
    A.Run: ("top",),
    A.Update: ("fn", "block"),
    A.Return: ("def", "block"),
    A.BlockDecl: ("top",),
    A.Def: ("top", "block", "def"),
}


def execute_all(elab: Elaborator, body: tuple[A.Node, ...], scope: Scope, context: str, only: tuple[type, ...] = ()) -> None:
    """Each statement of `body` in order (with `only`, just the statements of those kinds: a library's)."""
    check_context(body, context)
    for stmt in body:
        if not only or isinstance(stmt, only):
            HANDLERS[type(stmt)](elab, stmt, scope, context)


def check_context(body: tuple[A.Node, ...], context: str) -> None:
    """Each statement is allowed where it stands (checked when declared, not when called)."""
    for stmt in body:
        allowed = ALLOWED.get(type(stmt))
        if allowed is not None and context not in allowed:
            word = stmt.kind if isinstance(stmt, A.VarDecl) else type(stmt).__name__.replace("Decl", "").lower()
            where = "at the top level" if context == "top" else f"inside a {context}"
            fail(
                "E800",
                stmt.span,
                statement=word,
                where=where,
                hint=f"allowed in: {', '.join(a if a != 'top' else 'the model' for a in allowed)}",
            )
        for inner in _nested(stmt):
            check_context(inner, context)


def _nested(stmt: A.Node) -> list[tuple[A.Node, ...]]:
    if isinstance(stmt, A.If):
        return [b for _, b in stmt.branches] + [stmt.orelse]
    if isinstance(stmt, A.For):
        return [stmt.body]
    return []


def _model(elab, s: A.ModelDecl, scope, context) -> None:
    elab.model.name = s.name


def _import(elab, s: A.Import, scope, context) -> None:
    import_names(elab, s, scope)


def _hyper(elab, s: A.Hyper, scope, context) -> None:
    for item in s.items:
        elab.define_hyper(item, scope)


def _data(elab, s: A.DataDecl, scope, context) -> None:
    value = elab.eval(s.value, scope)
    if not isinstance(value, DataValue):
        fail("E322", s.value.span, what="a data declaration", got=kind_of(value))
    spec = type(value.spec)(s.name, value.spec.kind, value.spec.options, s.span)
    elab.model.data.append(spec)
    elab.bind(scope, s.name, DataValue(spec), s.span, rebind=False)


def _input(elab, s: A.InputDecl, scope, context) -> None:
    node = elab.declare_leaf("input", s.name, elab.type_of(s.type, scope), s.span)
    elab.bind(scope, s.name, node, s.span, rebind=False)


def _var(elab, s: A.VarDecl, scope, context) -> None:
    type_, owner = library.declared_type(elab, s.type, scope)
    if None in type_.shape:
        fail(
            "E346",
            s.type.span,
            kind=s.kind,
            name=s.name,
            type=type_,
        )
    given = scope.names.get("__given__", {}).get(s.name)
    if given is not None:
        value, span = given
        node = elab.tensor(value, span)
        if node.type != type_:
            fail(
                "E400",
                span,
                what=f"the {s.kind} '{s.name}' handed to this block",
                label=f"given {node.type}, declared {type_}",
                notes=(f"{s.name} declared at {s.span}",),
            )
        elab.bind(scope, s.name, node, s.span)
        return
    init = B.initializer(elab, s, type_, scope)
    node = elab.declare_leaf(s.kind, library.state_name(elab, s, scope, owner), type_, s.span, init=init)
    elab.bind(scope, s.name, node, s.span)


def _assign(elab, s: A.Assign, scope, context) -> None:
    if len(s.targets) == 1 and isinstance(s.value, A.Call):
        path = _target_path(elab, s.targets[0], scope)
        value = elab._eval_Call(s.value, scope, path=path)
    else:
        value = elab.eval(s.value, scope)
    if len(s.targets) == 1:
        _store(elab, s.targets[0], value, scope)
        return
    items = value.result if isinstance(value, Instance) else value
    if not isinstance(items, tuple) or len(items) != len(s.targets):
        got = len(items) if isinstance(items, tuple) else 1
        fail("E310", s.value.span, what="the right-hand side", got=got, count=len(s.targets))
    for target, item in zip(s.targets, items):
        _store(elab, target, item, scope)


def _target_path(elab, target: A.Node, scope: Scope) -> str | None:
    if isinstance(target, A.Name):
        return target.id
    if isinstance(target, A.Index) and isinstance(target.value, A.Name) and len(target.subscripts) == 1:
        return f"{target.value.id}.{elab.eval(target.subscripts[0], scope)}"
    return None


def _store(elab, target: A.Node, value: object, scope: Scope) -> None:
    if isinstance(target, A.Name):
        elab.bind(scope, target.id, value, target.span)
        return
    if isinstance(target, A.Index) and isinstance(target.value, A.Name) and len(target.subscripts) == 1:
        existing = scope.names.get(target.value.id)
        if not isinstance(existing, Collection):
            existing = Collection(target.value.id)
            elab.bind(scope, target.value.id, existing, target.span)
        existing.items[elab.eval(target.subscripts[0], scope)] = value
        return
    fail("E801", target.span, hint="assign to a name, or to name[index] in a loop")


def _expr(elab, s: A.ExprStmt, scope, context) -> None:
    elab.eval(s.value, scope)


def _def(elab, s: A.Def, scope, context) -> None:
    if isinstance(s.body, tuple):
        check_context(s.body, "def")
    elab.bind(scope, s.name, DefValue(s, scope), s.span, rebind=False)


def _block(elab, s: A.BlockDecl, scope, context) -> None:
    check_context(s.body, "block")
    elab.bind(scope, s.name, BlockValue(s, scope), s.span, rebind=False)


def _return(elab, s: A.Return, scope, context) -> None:
    values = tuple(elab.eval(v, scope) for v in s.values)
    raise ReturnSignal(values[0] if len(values) == 1 else values)


def _assert(elab, s: A.Assert, scope, context) -> None:
    value = elab.eval(s.test, scope)
    if not isinstance(value, (bool, int, float)):
        fail(
            "E304",
            s.test.span,
            what="an assert's condition",
            got=kind_of(value),
        )
    if not value:
        condition = s.test.span.text
        fail("E505", s.span, message=s.message or condition, hint=f"{condition} is false" if s.message else "")


def _if(elab, s: A.If, scope, context) -> None:
    for test, body in s.branches:
        value = elab.eval(test, scope)
        if not isinstance(value, (bool, int, float, str, tuple)) and value is not None:
            fail(
                "E304",
                test.span,
                what="the condition of a compile-time if",
                got=kind_of(value),
            )
        if value:
            execute_all(elab, body, scope, context)
            return
    execute_all(elab, s.orelse, scope, context)


def _for(elab, s: A.For, scope, context) -> None:
    items = as_list(elab.eval(s.iterable, scope))
    if not isinstance(items, tuple):
        fail("E325", s.iterable.span, what="what a compile-time loop walks", got=kind_of(items))
    for item in items:
        values = (item,) if len(s.names) == 1 else item
        if not isinstance(values, tuple) or len(values) != len(s.names):
            fail("E310", s.iterable.span, what="an item", got=len(item) if isinstance(item, tuple) else 1, count=len(s.names))
        for name, value in zip(s.names, values):
            elab.bind(scope, name.id, value, name.span)
        execute_all(elab, s.body, scope, context)


def _fn(elab, s: A.FnDecl, scope, context) -> None:
    inputs = []
    for name in s.inputs:
        node = elab.lookup(name.id, scope, name.span)
        if not isinstance(node, Node) or node.op != "input":
            fail("E337", name.span, name=name.id, got=kind_of(node))
        inputs.append(node)
    inner = scope.child()
    updates: list[tuple[Node, Node]] = []
    elab.update_sink, outer_sink = updates, elab.update_sink
    try:
        execute_all(elab, s.body, inner, "fn")
    finally:
        elab.update_sink = outer_sink
    outputs = []
    for k, out in enumerate(s.outputs):
        value = elab.tensor(elab.eval(out.value, inner), out.value.span)
        name = out.alias or (out.value.id if isinstance(out.value, A.Name) else f"out{k}")
        outputs.append((name, value))
    outputs, updates = modes.specialise_function(elab, outputs, updates, modes.function_mode(inner, updates))
    _check_updates(updates)
    name = s.name if s.index is None else f"{s.name}[{_fn_index(elab, s, scope)}]"
    fn = Function(name, tuple(inputs), tuple(outputs), tuple(updates), s.span)
    _check_inputs_listed(fn, s)
    if any(f.name == name for f in elab.model.functions):
        fail("E201", s.span, name=name, hint="each function needs its own name (or index)")
    elab.model.functions.append(fn)
    if s.index is None:
        elab.bind(scope, s.name, FnRef(name), s.span, rebind=False)
    else:  # the name is a collection of functions, one per index, as `layer[i] = ...` makes
        _store(elab, A.Index(s.span, A.Name(s.span, s.name), (s.index,)), FnRef(name), scope)


def _fn_index(elab, s: A.FnDecl, scope: Scope) -> int:
    k = elab.eval(s.index, scope)
    if isinstance(k, bool) or not isinstance(k, int):
        fail("E303", s.index.span, what="a function's index", got=kind_of(k))
    return k


def _update_stmt(elab, s: A.Update, scope: Scope, context) -> None:
    """In a fn, or in a block it calls: the fn's update; in a block outside any fn: one training fns apply."""
    pairs = _update(elab, s, scope)
    if elab.update_sink is None:
        elab.modes.add(pairs)
    else:
        elab.update_sink.extend(pairs)


def _update(elab, s: A.Update, scope: Scope) -> list[tuple[Node, Node]]:
    if s.target is None:
        rule = library.call_update_rule(elab, s.value, scope)
        if not isinstance(rule, Instance):
            fail("E323", s.value.span, got=kind_of(rule))
        return []  # a block of update statements (sgd, adam): they have been made
    target = elab.eval(s.target, scope)
    if not isinstance(target, Node) or target.op not in ("param", "state"):
        fail("E407", s.target.span, name=_name(s.target))
    value = elab.tensor(elab.eval(s.value, scope), s.value.span, target.type.dtype)
    return [(target, B.fit_update(elab, target, value, s.value.span))]


def _check_updates(updates: list[tuple[Node, Node]]) -> None:
    seen: dict[int, Node] = {}
    for target, value in updates:
        if id(target) in seen:
            fail("E411", value.span, name=target.name)
        seen[id(target)] = value


def _check_inputs_listed(fn: Function, s: A.FnDecl) -> None:
    listed = {id(i) for i in fn.inputs}
    for node in toposort(fn.roots()):
        if node.op == "input" and id(node) not in listed:
            fail(
                "E802",
                s.span,
                fn=fn.name,
                name=node.name,
                hint=f"write fn {fn.name}({', '.join([i.name for i in fn.inputs] + [node.name])}) -> ...",
            )


def _run(elab, s: A.Run, scope, context) -> None:
    call = s.recipe
    if not isinstance(call, A.Call) or not isinstance(call.func, A.Name):
        fail("E324", s.recipe.span)
    elab.model.recipes.append(check_run(elab, call, s.span, scope))


def _name(expr: A.Node) -> str:
    return expr.id if isinstance(expr, A.Name) else type(expr).__name__


HANDLERS = {
    A.ModelDecl: _model,
    A.Import: _import,
    A.Hyper: _hyper,
    A.DataDecl: _data,
    A.InputDecl: _input,
    A.VarDecl: _var,
    A.Assign: _assign,
    A.ExprStmt: _expr,
    A.Def: _def,
    A.BlockDecl: _block,
    A.Return: _return,
    A.Assert: _assert,
    A.If: _if,
    A.For: _for,
    A.FnDecl: _fn,
    A.Run: _run,
    A.Update: _update_stmt,
}

__all__ = ["execute_all", "build"]
