"""Compile-time arithmetic on hyperparameters: Python's operators, bounded to what an i64 holds."""

from __future__ import annotations

import math
import operator
from collections.abc import Callable

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span
from symdl.syntax.limits import MAX_INT, bounded

_PY_BINARY = {
    "add": operator.add,
    "sub": operator.sub,
    "mul": operator.mul,
    "div": operator.truediv,
    "floordiv": operator.floordiv,
    "mod": operator.mod,
    "pow": operator.pow,
    "eq": operator.eq,
    "ne": operator.ne,
    "lt": operator.lt,
    "le": operator.le,
    "gt": operator.gt,
    "ge": operator.ge,
}


def python_binary(op: str, a: object, b: object, span: Span) -> object:
    """Hyperparameter arithmetic, folded at compile time."""
    if op == "matmul":
        fail("E320", span, what="each operand of '@'", got="a number")
    if op == "pow" and _huge_power(a, b):  # computing it first could take all memory
        fail("E420", span, what="'**'", limit=MAX_INT, hint="compute large values as floats (e.g. 10.0 ** 20)")
    try:
        return bounded(_PY_BINARY[op](a, b), span, f"'{_SYMBOLS.get(op, op)}'")
    except ZeroDivisionError:
        fail("E807", span)
    except OverflowError:
        fail("E420", span, what=f"'{_SYMBOLS.get(op, op)}'", limit="a float's range", hint="keep compile-time values within 1e308")


_SYMBOLS = {"add": "+", "sub": "-", "mul": "*", "div": "/", "floordiv": "//", "mod": "%", "pow": "**"}


def _huge_power(a: object, b: object) -> bool:
    """An integer power whose result has more bits than an i64."""
    if isinstance(a, float) or isinstance(b, float) or not isinstance(b, int) or b <= 0 or abs(a) <= 1:
        return False
    return b * math.log2(abs(a)) > 64


def python_logic(op: str, a: object, b: Callable[[], object]) -> object:
    return (a and b()) if op == "and_" else (a or b())
