"""The one argument binder: blocks, defs, builtins and recipes match arguments to parameters here."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span, did_you_mean

REQUIRED = object()


def bind(
    callee: str,
    names: Sequence[str],
    args: Sequence[object],
    kwargs: dict[str, tuple[object, Span]],
    span: Span,
    usage: str,
    extra: Sequence[str] = (),
) -> dict[str, object]:
    """Positional then keyword arguments: E300 too many, E205 unknown keyword (did-you-mean), E302 given twice.

    Keywords named in `extra` are left for the caller. Errors about a keyword are located at its span."""
    names = list(names)
    if len(args) > len(names):
        fail("E300", span, callee=callee, expected=len(names), got=len(args), hint=usage)
    bound = dict(zip(names, args))
    for key, (value, key_span) in kwargs.items():
        if key in extra:
            continue
        if key not in names:
            fail("E205", key_span, name=key, callee=callee, hint=did_you_mean(key, names + list(extra)) or usage)
        if key in bound:
            fail("E302", key_span, name=key)
        bound[key] = value
    return bound


def fill_defaults(
    callee: str,
    bound: dict[str, object],
    defaults: dict[str, object],
    span: Span,
    usage: str,
    resolve: Callable[[object], object] = lambda d: d,
) -> dict[str, object]:
    """Give each missing parameter its default (through `resolve`); E301 where it has none."""
    for name, default in defaults.items():
        if name not in bound:
            if default is REQUIRED:
                fail("E301", span, name=name, callee=callee, hint=usage)
            bound[name] = resolve(default)
    return bound


def compile_time_int(value: object, span: Span, what: str) -> int:
    """An integer known at compile time, or E303 at `span`."""
    if isinstance(value, bool) or not isinstance(value, int):
        from symdl.elaborate.values import kind_of

        fail("E303", span, what=what, got=kind_of(value))
    return value
