"""One model text analysed for an editor: parse, elaborate with a recorder, collect diagnostics.

The check stops at a statement's first error, as `symdl check` does, but an editor wants more:
each top-level statement is elaborated on its own, so a mistake in one leaves the index of types
(hover, definition) filled for the statements after it. A later error that only repeats the first
(an unknown name the failed statement would have defined) is not reported again.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from symdl.diagnostics.catalog import error
from symdl.diagnostics.errors import Source, UserError
from symdl.elaborate import statements
from symdl.elaborate.elaborator import Elaborator, ReturnSignal
from symdl.elaborate.recorder import Recorder
from symdl.elaborate.values import Scope
from symdl.ir.nodes import Program
from symdl.syntax import ast as A
from symdl.syntax.parser import parse


@dataclass
class Analysis:
    """What an editor needs of one text: its diagnostics, its syntax and the index of its types."""

    source: Source
    module: A.Module | None
    diagnostics: list[UserError] = field(default_factory=list)
    recorder: Recorder = field(default_factory=Recorder)
    top: Scope | None = None
    imported_at: dict[str, object] = field(default_factory=dict)  # a file's name -> its import statement's span
    internal: str = ""  # a bug in symdl met while analysing: reported, never raised


def analyse(text: str, path: str) -> Analysis:
    """Parse and elaborate `text` as the model file `path` (imports resolve next to it); never raises."""
    source = Source(path, text)
    try:
        module = parse(source)
    except UserError as err:
        return Analysis(source, None, [err])
    except Exception as err:  # noqa: BLE001 - a broken file must never stop the editor's server
        return Analysis(source, None, internal=f"{type(err).__name__}: {err}")
    analysis = Analysis(source, module)
    try:
        _elaborate(analysis, module)
    except RecursionError:
        analysis.internal = "the model nests too deeply to check"
    except Exception as err:  # noqa: BLE001
        analysis.internal = f"{type(err).__name__}: {err}"
    return analysis


def _elaborate(analysis: Analysis, module: A.Module) -> None:
    elab = Elaborator(analysis.source)
    elab.recorder = analysis.recorder
    analysis.top = elab.top
    failed: set[str] = set()  # names a failed statement would have bound
    for stmt in module.body:
        try:
            statements.check_context((stmt,), "top")
            statements.HANDLERS[type(stmt)](elab, stmt, elab.top, "top")
        except UserError as err:
            elab.loader.annotate(err)
            if not (err.code == "E200" and err.span is not None and err.span.text in failed):
                analysis.diagnostics.append(err)
            failed |= bound_names(stmt) - set(elab.top.names)
        except ReturnSignal:
            analysis.diagnostics.append(error("E800", stmt.span, statement="return", where="at the top level"))
    if not analysis.diagnostics:  # what `symdl check` checks after elaboration: the run statements against their recipes
        try:
            _check_runs(elab.program())
        except UserError as err:
            analysis.diagnostics.append(err)
    analysis.diagnostics += elab.warnings
    analysis.imported_at = dict(elab.loader.imported_at)


def _check_runs(program: Program) -> None:
    from symdl.runtime.recipes import check_fields
    from symdl.runtime.session import check_data_kinds

    check_data_kinds(program)
    for call in program.recipes:
        check_fields(call, program)


def bound_names(stmt: A.Node) -> set[str]:
    """The top-level names a statement binds."""
    if isinstance(stmt, A.Hyper):
        return {item.name for item in stmt.items}
    if isinstance(stmt, A.Import):
        return {n.id for n in stmt.names}
    if isinstance(stmt, A.Assign):
        names = [t.value if isinstance(t, A.Index) else t for t in stmt.targets]
        return {t.id for t in names if isinstance(t, A.Name)}
    if isinstance(stmt, (A.If, A.For)):
        bodies = [b for _, b in stmt.branches] + [stmt.orelse] if isinstance(stmt, A.If) else [stmt.body]
        return {name for body in bodies for inner in body for name in bound_names(inner)}
    name = getattr(stmt, "name", None)
    return {name} if isinstance(name, str) else set()
