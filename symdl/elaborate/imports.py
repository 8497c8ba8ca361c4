"""Imports: `from "file.sdl" import a, b` binds blocks and defs of another model file.

An imported file is parsed and elaborated once per compilation (cached by resolved path),
as a library: its hypers take their default values (`--set` reaches the importing file's
only), its imports, blocks and defs are bound, and everything else (data, inputs, params,
state, assignments, fns, runs) is skipped and creates nothing. Its blocks and defs are
expanded later by the importing elaborator, so the parameters they declare belong to the
importing program, named by its instance names; their spans still name the imported file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Source, Span, UserError, did_you_mean
from symdl.elaborate import library
from symdl.elaborate.bodies import check_bodies
from symdl.elaborate.values import Scope
from symdl.syntax import ast as A
from symdl.syntax.limits import read_source
from symdl.syntax.parser import parse

if TYPE_CHECKING:
    from symdl.elaborate.elaborator import Elaborator

# What an imported file runs; every other top-level statement is skipped.
LIBRARY_STATEMENTS = (A.ModelDecl, A.Import, A.Hyper, A.Def, A.BlockDecl)


@dataclass(frozen=True)
class Library:
    """One imported file, elaborated: its top scope, what it exports and what it hides."""

    source: Source
    scope: Scope
    exports: tuple[str, ...]
    hidden: dict[str, str]  # top-level names skipped on import -> what they are ("a param")
    hypers: tuple[str, ...]


@dataclass
class Loader:
    """The imports of one compilation: the cache, the chain being loaded, where each file was imported."""

    loading: list[tuple[Path, str]]
    cache: dict[Path, Library] = field(default_factory=dict)
    imported_at: dict[str, Span] = field(default_factory=dict)  # source name -> its (first) import statement
    libraries: dict[int, Library] = field(default_factory=dict)  # id of a library's top scope -> the library

    @staticmethod
    def for_root(source: Source) -> Loader:
        return Loader([(Path(source.name).resolve(), source.name)])

    def annotate(self, err: UserError) -> None:
        """Notes naming the import chain of an error raised inside an imported file."""
        name = err.span.source.name if err.span else ""
        for _ in range(len(self.imported_at)):
            if name not in self.imported_at:
                break
            span = self.imported_at[name]
            err.notes += (f"{name} is imported at {span}",)
            name = span.source.name


def import_names(elab: Elaborator, s: A.Import, scope: Scope) -> None:
    """Bind each imported name to the block or def of that name in the imported file."""
    lib = _load(elab, s)
    for name in s.names:
        if name.id not in lib.exports:
            what = lib.hidden.get(name.id)
            hint = (
                f"'{name.id}' is {what} of {lib.source.name}: an import brings only blocks and defs"
                if what
                else did_you_mean(name.id, lib.exports)
            )
            fail(
                "E211",
                name.span,
                hint=hint,
                notes=(f"{lib.source.name} offers: {', '.join(lib.exports) or 'nothing'}",),
                name=name.id,
                file=lib.source.name,
            )
        elab.bind(scope, name.id, lib.scope.names[name.id], name.span, rebind=False)


def hidden_hint(elab: Elaborator, scope: Scope, name: str) -> str:
    """For an unknown name in imported code: say so when its file declares it at top level."""
    while scope.parent is not None:
        scope = scope.parent
    lib = elab.loader.libraries.get(id(scope))
    if lib is None or name not in lib.hidden:
        return ""
    return f"'{name}' is {lib.hidden[name]} at the top level of {lib.source.name}, which importing files do not see: pass it as an argument"


def override_hint(elab: Elaborator, name: str) -> str:
    """For `--set` of a hyper that only an imported file declares: why it is not reached."""
    files = [lib.source.name for lib in elab.loader.cache.values() if name in lib.hypers]
    return f"'{name}' is a hyper of {files[0]}: imported files keep their defaults, --set reaches this file's hypers only" if files else ""


def _load(elab: Elaborator, s: A.Import) -> Library:
    return load(elab, library.import_path(s.path.value, s.span.source), s, s.path.value)


def load(elab: Elaborator, path: Path, s: A.Import | None, spelled: str) -> Library:
    """The library of the file at `path`, imported by `s` (None for the prelude), loaded once per compilation."""
    loader = elab.loader
    key = path.resolve()
    chain = [name for k, name in loader.loading]
    if key in [k for k, _ in loader.loading]:
        fail(
            "E212",
            s.path.span if s else None,
            chain=" -> ".join(chain + [str(path)]),
            hint="move what both files need into a third file that imports neither",
        )
    if key in loader.cache:
        return loader.cache[key]
    source = _read(path, s, spelled)
    if s is not None:
        loader.imported_at.setdefault(source.name, s.span)
    loader.loading.append((key, source.name))
    try:
        lib = _library(type(elab)(source, loader=loader), parse(source))
    finally:
        loader.loading.pop()
    loader.cache[key] = lib
    loader.libraries[id(lib.scope)] = lib
    return lib


def _read(path: Path, s: A.Import | None, spelled: str) -> Source:
    where = "the standard library's files are symdl/std/*.sdl" if spelled.startswith(library.STD_PREFIX) else ""
    relative = f"the path is relative to the importing file's directory ({Path(s.span.source.name).parent})" if s else ""
    hint = where or relative
    span = s.path.span if s else None
    if not path.is_file():
        fail("E213", span, hint=hint, path=spelled, file=path)
    try:
        return read_source(path)
    except OSError as err:
        fail("E210", span, hint=hint, path=spelled, file=path, reason=getattr(err, "strerror", None) or err)


def _library(elab: Elaborator, module: A.Module) -> Library:
    """Run a file as a library: hypers (defaults), imports, blocks and defs; skip the rest."""
    elab.execute(module.body, elab.top, "top", only=LIBRARY_STATEMENTS)
    exports: list[str] = []
    hidden: dict[str, str] = {}
    for stmt in module.body:
        if isinstance(stmt, LIBRARY_STATEMENTS):
            exports += (
                [n.id for n in stmt.names] if isinstance(stmt, A.Import) else [stmt.name] if isinstance(stmt, (A.Def, A.BlockDecl)) else []
            )
        else:
            hidden.update(_declared(stmt))
    check_bodies(module)  # its defs and blocks, also those no importer uses
    return Library(elab.source, elab.top, tuple(exports), hidden, tuple(elab.model.hypers))


def _declared(stmt: A.Node) -> dict[str, str]:
    """The top-level names a skipped statement would have declared, with what they are."""
    if isinstance(stmt, A.VarDecl):
        return {stmt.name: f"a {stmt.kind}"}
    if isinstance(stmt, (A.InputDecl, A.DataDecl, A.FnDecl)):
        return {stmt.name: {A.InputDecl: "an input", A.DataDecl: "a dataset", A.FnDecl: "a fn"}[type(stmt)]}
    if isinstance(stmt, A.Assign):
        return {t.id: "a value" for t in stmt.targets if isinstance(t, A.Name)}
    return {}


def prelude_value(elab: Elaborator, name: str) -> object | None:
    """A block or def of the prelude named `name`, or None (the user's names were looked up first)."""
    lib = load(elab, library.import_path(library.PRELUDE, elab.source), None, library.PRELUDE)
    return lib.scope.names[name] if name in lib.exports else None
