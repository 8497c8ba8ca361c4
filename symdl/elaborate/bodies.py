"""Every def and block body checked, called or not: names resolve, calls match their callee's parameters.

Elaboration expands a body only where it is called, so a typo in an unused block would pass
`check`. This pass reads each body without evaluating it: what depends on the types or values
of the arguments is left to elaboration; what does not (a name bound nowhere, a call with
too many arguments or an unknown keyword) is reported here with the error elaboration would give.
"""

from __future__ import annotations

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.elaborate.binding import REQUIRED, bind, fill_defaults
from symdl.syntax import ast as A

Scopes = tuple[dict[str, object], ...]  # innermost last; a name maps to its Def or BlockDecl, else None
_UNKNOWN = None


def prelude_names() -> frozenset[str]:
    from symdl.elaborate.library import prelude_names as names  # library imports the elaborator's helpers late

    return names()


def check_bodies(module: A.Module) -> None:
    """Check each def and block of `module`, called or not."""
    from symdl.elaborate.builtins import find, names

    signatures = {name: find(name) for name in names()}
    builtins = {name: None if sig.collect is not None else sig.params for name, sig in signatures.items()}  # None: any number
    top = dict.fromkeys(_bound_names(module.body), _UNKNOWN) | _callables(module.body)
    _Checker(builtins).statements(module.body, (top,))  # the top level too: a compile-time if skips a branch


def _callables(body: tuple[A.Node, ...]) -> dict[str, object]:
    return {s.name: s for s in body if isinstance(s, (A.Def, A.BlockDecl))}


def _bound_names(body: tuple[A.Node, ...]) -> set[str]:
    """Every name a statement list binds, also inside its ifs and fors (order is elaboration's business)."""
    names: set[str] = set()
    for s in body:
        if isinstance(s, (A.DataDecl, A.InputDecl, A.VarDecl, A.Def, A.BlockDecl, A.FnDecl)):
            names.add(s.name)
        elif isinstance(s, A.Hyper):
            names |= {i.name for i in s.items}
        elif isinstance(s, A.Import):
            names |= {n.id for n in s.names}
        elif isinstance(s, A.Assign):
            names |= {_target_name(t) for t in s.targets} - {""}
        elif isinstance(s, A.For):
            names |= {n.id for n in s.names} | _bound_names(s.body)
        elif isinstance(s, A.If):
            names |= set().union(*(_bound_names(b) for _, b in s.branches), _bound_names(s.orelse))
    return names


def _target_name(target: A.Node) -> str:
    while isinstance(target, A.Index):  # layer[i] = ... binds layer
        target = target.value
    return target.id if isinstance(target, A.Name) else ""


class _Checker:
    def __init__(self, builtins: dict[str, tuple[tuple[str, object], ...] | None]) -> None:
        self.builtins = builtins

    def callable_(self, decl: A.Def | A.BlockDecl, scopes: Scopes) -> None:
        for p in decl.params:
            if p.default is not None:
                self.expr(p.default, scopes)
        local: dict[str, object] = dict.fromkeys((p.name for p in decl.params), _UNKNOWN)
        if not isinstance(decl.body, tuple):
            self.expr(decl.body, (*scopes, local))
            return
        local |= dict.fromkeys(_bound_names(decl.body), _UNKNOWN) | _callables(decl.body)
        self.statements(decl.body, (*scopes, local))

    def statements(self, body: tuple[A.Node, ...], scopes: Scopes) -> None:
        for s in body:
            if isinstance(s, (A.Def, A.BlockDecl)):
                self.callable_(s, scopes)
            else:
                self.statement(s, scopes)

    def statement(self, s: A.Node, scopes: Scopes) -> None:
        if isinstance(s, A.If):
            for test, branch in s.branches:
                self.expr(test, scopes)
                self.statements(branch, scopes)
            self.statements(s.orelse, scopes)
        elif isinstance(s, A.For):
            self.expr(s.iterable, scopes)
            self.statements(s.body, scopes)
        elif isinstance(s, A.Assign):
            for target in s.targets:
                while isinstance(target, A.Index):
                    self.exprs(target.subscripts, scopes)
                    target = target.value
            self.expr(s.value, scopes)
        elif isinstance(s, A.VarDecl):
            dims = (s.type.value,) if isinstance(s.type, A.LikeType) else s.type.dims
            self.exprs(tuple(d for d in dims if d is not None), scopes)
            if s.init is not None:
                self.init(s.init, scopes)
        elif isinstance(s, A.Return):
            self.exprs(s.values, scopes)
        elif isinstance(s, A.ExprStmt):
            self.expr(s.value, scopes)

    def init(self, init: A.Init, scopes: Scopes) -> None:
        """After `~` stands an initialiser, named in a namespace of its own; its arguments are expressions."""
        from symdl.elaborate.builtins import INITIALIZERS

        call = init.value
        if not init.random:
            self.expr(call, scopes)
        elif not (isinstance(call, A.Call) and isinstance(call.func, A.Name) and call.func.id in INITIALIZERS):
            name = call.func.id if isinstance(call, A.Call) and isinstance(call.func, A.Name) else "?"
            fail("E203", call.span, name=name, hint=f"random initialisers: {', '.join(INITIALIZERS)}")
        else:
            self.exprs((*call.args, *(k.value for k in call.kwargs)), scopes)

    def exprs(self, items: tuple[A.Node, ...], scopes: Scopes) -> None:
        for item in items:
            self.expr(item, scopes)

    def expr(self, e: A.Node | None, scopes: Scopes) -> None:
        if isinstance(e, A.Name):
            self.resolve(e, scopes)
        elif isinstance(e, A.Call):
            self.call(e, scopes)
        elif isinstance(e, (A.Attr, A.Unary)):
            self.expr(e.value if isinstance(e, A.Attr) else e.operand, scopes)
        elif isinstance(e, A.Binary):
            self.exprs((e.left, e.right), scopes)
        elif isinstance(e, A.Conditional):
            self.exprs((e.test, e.then, e.orelse), scopes)
        elif isinstance(e, A.Index):
            self.exprs((e.value, *e.subscripts), scopes)
        elif isinstance(e, A.Slice):
            self.exprs(tuple(b for b in (e.lower, e.upper, e.step) if b is not None), scopes)
        elif isinstance(e, A.ListLit):
            self.exprs(e.items, scopes)

    def resolve(self, name: A.Name, scopes: Scopes) -> object:
        for scope in reversed(scopes):
            if name.id in scope:
                return scope[name.id]
        if name.id in self.builtins or name.id in ("params", "training") or name.id in prelude_names():
            return name.id
        known = set(self.builtins).union(*scopes)
        fail(
            "E200",
            name.span,
            name=name.id,
            hint=did_you_mean(name.id, known) or "declare it first (hyper, input, param, state, or an assignment)",
        )

    def call(self, e: A.Call, scopes: Scopes) -> None:
        callee = self.resolve(e.func, scopes) if isinstance(e.func, A.Name) else self.expr(e.func, scopes)
        self.exprs(e.args, scopes)
        self.exprs(tuple(k.value for k in e.kwargs), scopes)
        kwargs = {k.name: (None, k.span) for k in e.kwargs}
        if isinstance(callee, (A.Def, A.BlockDecl)):
            names = [p.name for p in callee.params]
            declared = tuple(_bound_names(callee.body)) if isinstance(callee, A.BlockDecl) else ()  # a block may be given its params
            usage = f"{callee.name}({', '.join(names)})"
            bound = bind(callee.name, names, e.args, kwargs, e.span, usage, extra=declared)
            fill_defaults(callee.name, bound, {p.name: REQUIRED if p.default is None else p.default for p in callee.params}, e.span, usage)
        elif isinstance(callee, str) and self.builtins.get(callee) is not None:
            params = self.builtins[callee]
            names = [p for p, _ in params]
            usage = f"usage: {callee}({', '.join(p if d is REQUIRED else f'{p} = {d}' for p, d in params)})"
            bound = bind(callee, names, e.args, kwargs, e.span, usage)
            fill_defaults(callee, bound, dict(params), e.span, usage)
