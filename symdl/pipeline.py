"""The compiler as one straight function of named stages: parse, elaborate, passes, lower.

Every stage's output can be printed (`symdl compile --emit ast|ir|ir-opt|pytensor`).
Nothing here imports PyTensor: lowering is imported only when a backend is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source
from symdl.elaborate.elaborator import elaborate
from symdl.elaborate.overrides import parse_overrides
from symdl.ir.nodes import Program
from symdl.passes import PassReport, run_passes
from symdl.syntax import ast as A
from symdl.syntax import limits
from symdl.syntax.parser import parse


@dataclass(frozen=True)
class Compiled:
    """Every stage's result for one model file."""

    source: Source
    ast: A.Module
    ir: Program
    optimized: Program
    report: PassReport


def read_source(path: str | Path) -> Source:
    try:
        return limits.read_source(path)
    except OSError as err:
        fail("E000", None, hint="check the path", path=path, reason=getattr(err, "strerror", None) or err)


def front_end(
    path: str | Path, overrides: list[str] | tuple[str, ...] = (), exclude: tuple[str, ...] = (), defaults: dict[str, str] | None = None
) -> Compiled:
    """Parse, elaborate and optimize a model file (no PyTensor involved).

    `defaults` ({name: value text}) set hypers the model declares and no override sets (gradcheck's small batch).
    """
    source = read_source(path)
    module = parse(source)
    given = parse_overrides(list(overrides))
    fallback = parse_overrides([f"{k}={v}" for k, v in (defaults or {}).items() if k not in given])
    program = elaborate(source, module, given, fallback)
    optimized, report = run_passes(program, exclude=exclude)
    return Compiled(source, module, program, optimized, report)
