"""Elaboration: the AST becomes a typed, shape-checked IR program.

Names are resolved, hyperparameters evaluated (with the user's overrides), blocks,
defs and compile-time loops expanded. Everything known at compile time is computed
here in Python; what depends on data becomes IR nodes built through `ir.build`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdl.diagnostics.catalog import fail, warning
from symdl.diagnostics.errors import InternalError, Source, Span, UserError, did_you_mean
from symdl.elaborate import arith, imports, library, modes, sampling, statements  # noqa: F401 - sampling registers the draws and scan
from symdl.elaborate import builtins as B
from symdl.elaborate.binding import REQUIRED, bind, fill_defaults
from symdl.elaborate.bodies import check_bodies
from symdl.elaborate.overrides import apply_override
from symdl.elaborate.recipes import clock_state
from symdl.elaborate.recorder import Recorder
from symdl.elaborate.values import (
    BlockValue,
    Builtin,
    Collection,
    DataField,
    DataValue,
    DefValue,
    Dtype,
    Grads,
    Instance,
    ParamSet,
    ReturnSignal,
    Scope,
    is_plain,
    kind_of,
)
from symdl.ir import build
from symdl.ir.nodes import DataSpec, Function, Node, Program, RecipeCall
from symdl.ir.recipes import CLOCK
from symdl.ir.types import TensorType
from symdl.syntax import ast as A

Given = dict[str, tuple[str, Span]]  # --set values by name: (the text, its span)


@dataclass
class ModelState:
    """What elaboration has declared so far, in order."""

    name: str = "model"
    hypers: dict[str, object] = field(default_factory=dict)
    inputs: list[Node] = field(default_factory=list)
    params: list[Node] = field(default_factory=list)
    states: list[Node] = field(default_factory=list)
    definitions: list[tuple[str, Node]] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    data: list[DataSpec] = field(default_factory=list)
    recipes: list[RecipeCall] = field(default_factory=list)


class Elaborator:
    """Evaluates one module: statements via `statements`, expressions here."""

    def __init__(self, source: Source, overrides: Given | None = None, loader: imports.Loader | None = None, defaults: Given | None = None):
        self.source = source
        self.loader = loader or imports.Loader.for_root(source)  # shared with the files this one imports
        self.overrides = dict(overrides or {})
        self.defaults = dict(defaults or {})  # like overrides, but a model without that hyper ignores them
        self.model = ModelState()
        self.top = Scope()
        self.hyper_spans: dict[str, Span] = {}
        self.leaf_names: dict[str, Span] = {}
        self.depth = 0  # of def expansion, to stop endless recursion
        self.warnings: list = []
        self.streams = 0  # random draws made so far: each draw's stream number
        self.modes = modes.Modes()  # the `training` placeholder and each mode's graphs
        self.update_sink: list | None = None  # where `update` statements go: the fn being elaborated
        self.recorder: Recorder | None = None  # an editor's index of what each span stood for
        self.call_site: Span | None = None  # the user's call a library body being expanded came from

    def next_stream(self) -> int:
        self.streams += 1
        return self.streams

    def execute(self, body: tuple[A.Node, ...], scope: Scope, context: str, only: tuple[type, ...] = ()) -> None:
        """Run statements here (an imported file's library statements come through this, not `statements`)."""
        statements.execute_all(self, body, scope, context, only)

    def warn(self, code: str, span: Span | None, hint: str = "", **fields: object) -> None:
        self.warnings.append(warning(code, span, hint=hint, **fields))

    # ---- entry ----------------------------------------------------------------------
    def run(self, module: A.Module) -> Program:
        statements.execute_all(self, module.body, self.top, context="top")
        check_bodies(module)  # the defs and blocks no statement called
        self._check_overrides_used()
        self._check_seed()
        return self.program()

    def program(self) -> Program:
        """The program of what has been declared so far."""
        m = self.model
        return Program(
            m.name,
            tuple(m.hypers.items()),
            tuple(m.inputs),
            tuple(m.params),
            tuple(m.states),
            tuple(modes.specialise_definitions(self, m.definitions)),
            tuple(m.functions),
            tuple(m.data),
            tuple(m.recipes),
            self.source.name,
            tuple(self.warnings),
        )

    def _check_overrides_used(self) -> None:
        for name, (_, span) in self.overrides.items():
            known = list(self.model.hypers)
            fail(
                "E204",
                span,
                hint=imports.override_hint(self, name) or did_you_mean(name, known),
                notes=(f"known: {', '.join(known)}",),
                name=name,
            )

    def _check_seed(self) -> None:
        """The `seed` hyper seeds every random draw: a whole number a generator accepts."""
        seed = self.model.hypers.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32):
            fail("E309", self.hyper_spans["seed"], got=repr(seed))

    # ---- hypers -----------------------------------------------------------------------
    def define_hyper(self, item: A.HyperItem, scope: Scope) -> None:
        value = self.eval(item.value, scope)
        if item.name in self.overrides or item.name in self.defaults:
            text, span = self.overrides.pop(item.name) if item.name in self.overrides else self.defaults.pop(item.name)
            value = apply_override(self, item.name, value, text, span, scope)
        self.bind(scope, item.name, value, item.span, rebind=False)
        self.model.hypers[item.name] = value
        self.hyper_spans[item.name] = item.span

    # ---- binding ------------------------------------------------------------------------
    def bind(self, scope: Scope, name: str, value: object, span: Span, rebind: bool = True) -> None:
        if not rebind and name in scope.names:
            fail("E201", span, hint=f"first defined at {scope.spans[name]}", name=name)
        scope.names[name] = value
        scope.spans[name] = span
        if self.recorder is not None:
            self.recorder.binding(name, span, value)
        result = value.result if isinstance(value, Instance) else value
        if isinstance(result, Node) and scope is self.top and not result.is_leaf:
            self.model.definitions.append((name, result))

    def lookup(self, name: str, scope: Scope, span: Span) -> object:
        try:
            return scope.lookup(name)
        except KeyError:
            pass
        if name == "params":
            return ParamSet(tuple(self.model.params))
        if name == modes.NAME:
            self.modes.used = True
            return self.modes.placeholder
        if name in CLOCK:
            return clock_state(self, name, span)
        if B.find(name) is not None:
            return Builtin(name)
        found = imports.prelude_value(self, name)
        if found is not None:
            return found
        known = scope.visible() | B.names()
        hint = (
            imports.hidden_hint(self, scope, name)
            or did_you_mean(name, known)
            or "declare it first (hyper, input, param, state, or an assignment)"
        )
        fail("E200", span, hint=hint, name=name)

    def qualified(self, scope: Scope, name: str) -> str:
        return f"{scope.prefix}.{name}" if scope.prefix else name

    def declare_leaf(self, kind: str, name: str, type_: TensorType, span: Span, **attrs: object) -> Node:
        if name in self.leaf_names:
            hint = f"first declared at {self.leaf_names[name]}" + (
                "; in a loop, assign each instance to an indexed name such as layer[i]" if "." in name else ""
            )
            fail("E201", span, hint=hint, name=name)
        self.leaf_names[name] = span
        node = build.leaf(kind, name, type_, span, **attrs)
        {"input": self.model.inputs, "param": self.model.params, "state": self.model.states}[kind].append(node)
        return node

    # ---- expressions ---------------------------------------------------------------------
    def eval(self, expr: A.Node, scope: Scope) -> object:
        value = getattr(self, f"_eval_{type(expr).__name__}")(expr, scope)
        if self.recorder is not None:
            self.recorder.expression(expr.span, value, expr.id if isinstance(expr, A.Name) else None, scope)
        return value

    def _eval_Literal(self, e: A.Literal, scope: Scope) -> object:
        return e.value

    def _eval_DtypeLit(self, e: A.DtypeLit, scope: Scope) -> object:
        return Dtype(e.dtype)

    def _eval_Name(self, e: A.Name, scope: Scope) -> object:
        return self.lookup(e.id, scope, e.span)

    def _eval_ListLit(self, e: A.ListLit, scope: Scope) -> object:
        return tuple(self.eval(i, scope) for i in e.items)

    def _eval_Unary(self, e: A.Unary, scope: Scope) -> object:
        value = self.eval(e.operand, scope)
        if _is_number(value):
            return (not value) if e.op == "not_" else -value
        return build.make(e.op, [self.tensor(value, e.operand.span)], span=library.at(self, e.span), operands=(_text(e.operand),))

    def _eval_Binary(self, e: A.Binary, scope: Scope) -> object:
        left = self.eval(e.left, scope)
        if e.op in ("and_", "or_") and _is_number(left):
            return arith.python_logic(e.op, left, lambda: self.eval(e.right, scope))
        right = self.eval(e.right, scope)
        if _is_number(left) and _is_number(right):
            return arith.python_binary(e.op, left, right, e.span)
        if isinstance(left, tuple) and isinstance(right, tuple) and e.op == "add":
            return left + right
        if e.op in ("eq", "ne") and is_plain(left) and is_plain(right):  # lists, strings, none: compared at compile time
            return (left == right) == (e.op == "eq")
        if isinstance(left, ParamSet) and isinstance(right, ParamSet) and e.op == "add":  # layer.params + out.params
            return ParamSet(tuple(dict.fromkeys(left.nodes + right.nodes)))
        a, b = self.tensors(left, right, e.left.span, e.right.span)
        return build.make(e.op, [a, b], span=library.at(self, e.span), operands=(_text(e.left), _text(e.right)))

    def _eval_Conditional(self, e: A.Conditional, scope: Scope) -> object:
        test = self.eval(e.test, scope)
        if _is_number(test):
            return self.eval(e.then if test else e.orelse, scope)
        then, orelse = self.tensors(self.eval(e.then, scope), self.eval(e.orelse, scope), e.then.span, e.orelse.span)
        return build.make("switch", [self.tensor(test, e.test.span), then, orelse], span=library.at(self, e.span))

    def _eval_Attr(self, e: A.Attr, scope: Scope) -> object:
        value = self.eval(e.value, scope)
        if isinstance(value, Instance):
            if e.name == "params":
                return ParamSet(value.params)
            if e.name in value.members:
                return value.members[e.name]
            value = value.result
        if isinstance(value, Collection) and e.name == "params":  # the parameters of every block made in a loop
            items = [value.items[k] for k in sorted(value.items)]
            if all(isinstance(v, Instance) for v in items):
                return ParamSet(tuple(dict.fromkeys(p for v in items for p in v.params)))
        if isinstance(value, Node) and e.name == "T":
            return build.make("transpose", [value], span=library.at(self, e.span))
        if isinstance(value, Node) and e.name == "shape":  # a compile-time list; a `?` dimension is an i64 scalar tensor
            return B.shape_of(value, e.span)
        if isinstance(value, DataValue):
            return DataField(value.spec.name, e.name)
        members = sorted(value.members) + ["params"] if isinstance(value, Instance) else []
        fail(
            "E202",
            e.span,
            hint=did_you_mean(e.name, members) or f"{_text(e.value)} is {kind_of(value)}",
            name=_text(e.value),
            member=e.name,
        )

    def _eval_Call(self, e: A.Call, scope: Scope, path: str | None = None) -> object:
        callee = self.eval(e.func, scope)
        if isinstance(callee, BlockValue):
            return self.instantiate(callee, e, scope, path or f"{callee.decl.name}@{e.span.line}:{e.span.column}")
        args = [self.eval(a, scope) for a in e.args]
        kwargs = {k.name: (self.eval(k.value, scope), k.span) for k in e.kwargs}
        return self.call(callee, args, kwargs, e, scope)

    def call(self, callee: object, args: list, kwargs: dict, e: A.Call, scope: Scope) -> object:
        """Call a function value with evaluated arguments."""
        if isinstance(callee, Builtin):
            return B.call_builtin(self, callee.name, args, kwargs, e, scope)
        if isinstance(callee, DefValue):
            return self.call_def(callee, args, kwargs, e)
        if isinstance(callee, Instance) and isinstance(callee.result, (Builtin, DefValue)):
            return self.call(callee.result, args, kwargs, e, scope)
        fail("E315", e.func.span, what=f"'{_text(e.func)}'", got=kind_of(callee))

    def call_def(self, fn: DefValue, args: list, kwargs: dict, e: A.Call) -> object:
        self.depth += 1
        try:
            if self.depth > 64:
                fail(
                    "E803",
                    e.span,
                    name=fn.decl.name,
                    hint="defs are expanded at compile time: recursion must stop on a compile-time if",
                )
            return self._expand_def(fn, args, kwargs, e)
        finally:
            self.depth -= 1

    def _expand_def(self, fn: DefValue, args: list, kwargs: dict, e: A.Call) -> object:
        try:
            with library.expanding(self, e):
                return self._expand_def_body(fn, args, kwargs, e)
        except UserError as err:
            raise library.called_from(err, fn.decl, e) from None

    def _expand_def_body(self, fn: DefValue, args: list, kwargs: dict, e: A.Call) -> object:
        inner = fn.scope.child()
        bound = self.bind_params(fn.decl.params, args, kwargs, e, fn.decl.name, fn.scope)
        for name, value in bound.items():
            inner.names[name] = value
            inner.spans[name] = e.span
        if isinstance(fn.decl.body, tuple):
            try:
                statements.execute_all(self, fn.decl.body, inner, context="def")
            except ReturnSignal as ret:
                return ret.value
            fail("E804", fn.decl.span, name=fn.decl.name)
        return self.eval(fn.decl.body, inner)

    def bind_params(
        self, params: tuple[A.Param, ...], args: list, kwargs: dict, e: A.Call, callee: str, scope: Scope, extra: tuple[str, ...] = ()
    ) -> dict[str, object]:
        """Match positional and keyword arguments to declared parameters, with defaults."""
        names = [p.name for p in params]
        usage = f"{callee}({', '.join(names)})"
        bound = bind(callee, names, args, kwargs, e.span, usage, extra)
        defaults = {p.name: REQUIRED if p.default is None else p.default for p in params}
        return fill_defaults(callee, bound, defaults, e.span, usage, lambda d: self.eval(d, scope))

    def instantiate(self, block: BlockValue, e: A.Call, scope: Scope, path: str, evaluated: tuple[list, dict] | None = None) -> Instance:
        """Expand a block call: its parameters are named under `path` (`evaluated`: its arguments, already evaluated)."""
        if evaluated is None:
            evaluated = [self.eval(a, scope) for a in e.args], {k.name: (self.eval(k.value, scope), k.span) for k in e.kwargs}
        args, kwargs = evaluated
        declared = tuple(s.name for s in declared_vars(block.decl.body))
        bound = self.bind_params(block.decl.params, args, kwargs, e, block.decl.name, block.scope, extra=declared)
        full_path = f"{scope.prefix}.{path}" if scope.prefix else path
        inner = block.scope.child(prefix=full_path)
        inner.names.update(bound)
        inner.spans.update({k: e.span for k in bound})
        inner.names["__given__"] = {k: kwargs[k] for k in declared if k in kwargs}
        start, updates_start = len(self.model.params), len(self.modes.block_updates)
        try:
            with library.expanding(self, e):
                statements.execute_all(self, block.decl.body, inner, context="block")
            result: object = None
        except ReturnSignal as ret:
            result = ret.value
        except UserError as err:
            raise library.called_from(err, block.decl, e) from None
        self.modes.returned(updates_start, result)
        members = {k: v for k, v in inner.names.items() if not k.startswith("__")}
        return Instance(full_path, members, result, tuple(self.model.params[start:]) + _given_params(inner))

    def _eval_Index(self, e: A.Index, scope: Scope) -> object:
        value = self.eval(e.value, scope)
        if isinstance(value, Instance):
            value = value.result
        if isinstance(value, (tuple, Collection)):
            return self._index_compile_time(value, e, scope)
        tensor = self.tensor(value, e.value.span)
        spec, indices = [], []
        for sub in e.subscripts:
            if isinstance(sub, A.Slice):
                bounds = [None if b is None else self.int_value(b, scope, "a slice bound") for b in (sub.lower, sub.upper, sub.step)]
                spec.append(("slice", *bounds))
                continue
            index = self.eval(sub, scope)
            if isinstance(index, int) and not isinstance(index, bool):
                spec.append(("int", index))
            else:
                spec.append(("tensor", len(indices)))
                indices.append(self.tensor(index, sub.span))
        return build.make("index", [tensor, *indices], {"spec": tuple(spec)}, span=library.at(self, e.span))

    def _index_compile_time(self, value: tuple | Collection, e: A.Index, scope: Scope) -> object:
        if len(e.subscripts) != 1:
            fail("E409", e.span, what=_text(e.value), hint="a list takes one subscript")
        sub = e.subscripts[0]
        if isinstance(sub, A.Slice) and isinstance(value, tuple):
            bounds = [None if b is None else self.int_value(b, scope, "a slice bound") for b in (sub.lower, sub.upper, sub.step)]
            return value[slice(*bounds)]
        key = self.eval(sub, scope)
        try:
            return value.items[key] if isinstance(value, Collection) else value[key]
        except (KeyError, IndexError, TypeError):
            size = len(value.items) if isinstance(value, Collection) else len(value)
            fail("E409", sub.span, what=_text(e.value), hint=f"{_text(e.value)} has {size} item(s)")

    def _eval_Keyword(self, e: A.Keyword, scope: Scope) -> object:  # pragma: no cover - parser never yields one bare
        return self.eval(e.value, scope)

    # ---- conversions ----------------------------------------------------------------------
    def tensor(self, value: object, span: Span, dtype: str | None = None) -> Node:
        """A value as an IR tensor: numbers become constants."""
        if isinstance(value, Instance):
            value = value.result
        if isinstance(value, Grads) and len(value.pairs) == 1:  # grad(cost, W) used as a tensor
            value = value.pairs[0][1]
        if isinstance(value, Node):
            return value
        if _is_number(value):
            return build.const(_const_value(value, dtype), dtype or _number_dtype(value), library.at(self, span))
        fail("E319", span, what="this operand", got=kind_of(value))

    def tensors(self, left: object, right: object, lspan: Span, rspan: Span) -> tuple[Node, Node]:
        """Two operands as tensors; a number takes the other side's dtype (weak typing)."""
        left = left.result if isinstance(left, Instance) else left
        right = right.result if isinstance(right, Instance) else right
        if _is_number(left) and isinstance(right, Node):
            return self.tensor(left, lspan, B.weak_dtype(left, right.type.dtype)), right
        if _is_number(right) and isinstance(left, Node):
            return self.tensor(left, lspan), self.tensor(right, rspan, B.weak_dtype(right, left.type.dtype))
        return self.tensor(left, lspan), self.tensor(right, rspan)

    def int_value(self, expr: A.Node, scope: Scope, what: str) -> int:
        value = self.eval(expr, scope)
        if isinstance(value, bool) or not isinstance(value, int):
            fail("E303", expr.span, what=what, got=kind_of(value))
        return value

    def type_of(self, t: A.TypeExpr, scope: Scope) -> TensorType:
        dims = tuple(None if d is None else self.int_value(d, scope, "a dimension") for d in t.dims)
        for d, expr in zip(dims, t.dims):
            if d is not None and d < 1:  # an empty tensor holds nothing to learn and would divide by zero in its initialiser
                fail("E307", expr.span, what="a dimension", least=1, got=d)
        return TensorType(t.dtype, dims)


def declared_vars(body: tuple[A.Node, ...]) -> list[A.VarDecl]:
    """The param and state declarations of a block body, also inside its ifs."""
    out: list[A.VarDecl] = []
    for stmt in body:
        if isinstance(stmt, A.VarDecl):
            out.append(stmt)
        elif isinstance(stmt, A.If):
            for _, branch in stmt.branches:
                out += declared_vars(branch)
            out += declared_vars(stmt.orelse)
        elif isinstance(stmt, A.For):
            out += declared_vars(stmt.body)
    return out


def _given_params(scope: Scope) -> tuple[Node, ...]:
    """Parameters handed to a block (shared with another): they belong to its params too."""
    given = scope.names.get("__given__", {})
    return tuple(v for v, _ in given.values() if isinstance(v, Node) and v.op == "param")


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float, bool))


def _number_dtype(value: object) -> str:
    if isinstance(value, bool):
        return "bool"
    return "i64" if isinstance(value, int) else "f32"


def _const_value(value: object, dtype: str | None) -> object:
    if dtype in ("f32", "f64"):
        return float(value)
    return value


def _text(expr: A.Node) -> str:
    """The source text of an expression (for error labels)."""
    span = expr.span
    if span.line != span.end_line:
        return span.source.line(span.line)[span.column - 1 :].strip()
    return span.source.line(span.line)[span.column - 1 : span.end_column - 1]


def elaborate(source: Source, module: A.Module, overrides: Given | None = None, defaults: Given | None = None) -> Program:
    """The IR program of a parsed module; `defaults` set only the hypers it declares and `overrides` leave alone."""
    elab = Elaborator(source, overrides, defaults=defaults)
    try:
        return elab.run(module)
    except UserError as err:  # raised inside an imported file: say where it was imported
        elab.loader.annotate(err)
        applied = [text for text, span in (overrides or {}).values()]
        if applied and err.span is not None and err.span.source.name != "--set":  # a value from the command line may be the cause
            err.notes = (*err.notes, f"with --set {' --set '.join(applied)}")
        raise
    except ReturnSignal as ret:  # a return outside any def or block
        raise InternalError("return outside a def or block passed the statement checks") from ret


__all__ = ["Elaborator", "elaborate", "ReturnSignal", "Builtin", "DefValue", "ParamSet", "Instance"]
