"""The standard library: `.sdl` files shipped in the package (`symdl/std/`), and what the language needs to write them.

`from "std/optim.sdl" import adam` reads the package's file from any directory. The update rules of
`std/optim.sdl` are the prelude: visible without an import (as `sgd` and `momentum` always were), after
the user's own names. Per-parameter state is `state m: like(p) = 0`: shaped like `p`, and named after
it (`hidden.W.m`), so a loop over a parameter set declares one each. An error raised inside library
code is reported at the user's call that reached it (the library's line becomes a note).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span, UserError
from symdl.elaborate.values import BlockValue, Grads, Instance, Scope, kind_of
from symdl.ir.nodes import Node
from symdl.ir.types import TensorType
from symdl.syntax import ast as A

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator

STD_DIR = Path(__file__).resolve().parent.parent / "std"
STD_PREFIX = "std/"
PRELUDE = "std/optim.sdl"  # its blocks and defs are visible without an import


def import_path(spelled: str, importer: Source) -> Path:
    """Where an import's path string points: `std/...` is the package's library, the rest is relative to the importer."""
    if spelled.startswith(STD_PREFIX):
        return STD_DIR / spelled[len(STD_PREFIX) :]
    return Path(os.path.normpath(Path(importer.name).parent / spelled))  # `dir/../x.sdl` reads as `x.sdl` in messages


def is_library(source: Source) -> bool:
    return _in_library(source.name)


@functools.cache
def _in_library(name: str) -> bool:
    return Path(name).resolve().is_relative_to(STD_DIR)


@contextlib.contextmanager
def expanding(elab: Elaborator, call: A.Call) -> Iterator[None]:
    """While a block or def is expanded from a user's call, the nodes its library code builds name that call."""
    outer = elab.call_site
    if not is_library(call.span.source):
        elab.call_site = call.span
    try:
        yield
    finally:
        elab.call_site = outer


def at(elab: Elaborator, span: Span | None) -> Span | None:
    """A node's span; inside library code it carries the user's call (`Span.via`), so a fault found when the
    model runs (`--nan-guard`) names the model's line."""
    if span is None or elab.call_site is None or span.via is not None or not is_library(span.source):
        return span
    return dataclasses.replace(span, via=elab.call_site)


@functools.cache
def prelude_names() -> frozenset[str]:
    """The blocks and defs of the prelude (what a body may call without an import)."""
    from symdl.syntax.parser import parse

    module = parse(Source.read(STD_DIR / PRELUDE[len(STD_PREFIX) :]))
    return frozenset(s.name for s in module.body if isinstance(s, (A.Def, A.BlockDecl)))


def declared_type(elab: Elaborator, t: A.TypeExpr | A.LikeType, scope: Scope) -> tuple[TensorType, Node | None]:
    """A declaration's type, and the parameter it is shaped like (`like(p)`), if any."""
    if not isinstance(t, A.LikeType):
        return elab.type_of(t, scope), None
    value = elab.eval(t.value, scope)
    value = value.result if isinstance(value, Instance) else value
    if not isinstance(value, Node):
        fail("E320", t.value.span, what="the argument of like(...)", got=kind_of(value))
    return value.type, value if value.op == "param" else None


def state_name(elab: Elaborator, s: A.VarDecl, scope: Scope, owner: Node | None) -> str:
    """A state shaped like a parameter belongs to it (`hidden.W.velocity`); anything else is named by its scope."""
    if owner is not None and s.kind == "state":
        return f"{owner.name}.{s.name}"
    return elab.qualified(scope, s.name)


def call_update_rule(elab: Elaborator, call: A.Node, scope: Scope) -> object:
    """`update adam(cost, params, lr)`: a block's instance is named after the block (`adam.t`), and
    gradients may stand for (cost, params): `update sgd(grad(cost, params, constant = [k]), lr)`."""
    callee = elab.eval(call.func, scope) if isinstance(call, A.Call) else None
    if not isinstance(callee, BlockValue):
        return elab.eval(call, scope)
    args = [elab.eval(a, scope) for a in call.args]
    kwargs = {k.name: (elab.eval(k.value, scope), k.span) for k in call.kwargs}
    names = [p.name for p in callee.decl.params]
    if args and isinstance(args[0], Grads) and names[1:2] == ["params"] and "params" not in kwargs:
        args.insert(1, None)
    return elab.instantiate(callee, call, scope, callee.decl.name, (args, kwargs))


def called_from(err: UserError, decl: A.Def | A.BlockDecl, e: A.Call) -> UserError:
    """An error inside a block or def body also names the call that expanded it (innermost first)."""
    relocate(err, decl.params, e)
    inside = err.span is not None and e.span.line <= err.span.line <= e.span.end_line and err.span.source is e.span.source
    if err.span is not None and not inside and err.severity == "error":
        err.notes = (*err.notes, f"in the call of {decl.name} at {e.span}")
    return err


def relocate(err: UserError, params: tuple[A.Param, ...], e: A.Call) -> None:
    """An error inside library code, reached from a user's call: report it at the argument it concerns, else at the call."""
    if err.span is None or not is_library(err.span.source) or is_library(e.span.source) or err.severity != "error":
        return
    given: dict[str, Span] = {p.name: a.span for p, a in zip(params, e.args)}
    given |= {k.name: k.value.span for k in e.kwargs}
    inside = f"inside {Path(err.span.source.name).name}:{err.span.line}:{err.span.column}"
    err.notes = (*err.notes, inside)
    err.span = given.get(err.span.text, e.span)
