"""`symdl lsp`: a language server over stdio (pygls).

Diagnostics as you type (debounced), hover with dtypes and static shapes, go-to-definition across
imports, completion, document symbols and formatting. The front end runs without PyTensor.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import from_fs_path, to_fs_path

from symdl import __version__
from symdl.diagnostics.errors import InternalError, Source, Span, UserError
from symdl.elaborate.recorder import Entry
from symdl.fmt import format_source
from symdl.lsp.analysis import Analysis, analyse
from symdl.lsp.complete import candidates
from symdl.lsp.describe import hover_text
from symdl.lsp.symbols import Symbol, import_target, outline

DEBOUNCE_S = 0.15  # typing pauses shorter than this do not start a check
SYMBOL_KINDS = {
    "hyper": T.SymbolKind.Constant,
    "data": T.SymbolKind.Variable,
    "input": T.SymbolKind.Variable,
    "param": T.SymbolKind.Field,
    "state": T.SymbolKind.Field,
    "value": T.SymbolKind.Variable,
    "block": T.SymbolKind.Class,
    "def": T.SymbolKind.Function,
    "fn": T.SymbolKind.Method,
}

COMPLETION_KINDS = {
    "value": T.CompletionItemKind.Variable,
    "function": T.CompletionItemKind.Function,
    "keyword": T.CompletionItemKind.Keyword,
}


class SymdlServer(LanguageServer):
    """The documents' latest analyses; the last one that parsed serves hover while a syntax error stands."""

    def __init__(self) -> None:
        super().__init__("symdl", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental)
        self.latest: dict[str, Analysis] = {}
        self.parsed: dict[str, Analysis] = {}
        self.pending: dict[str, asyncio.Task] = {}

    def check(self, uri: str) -> None:
        """Analyse the open document now and publish its diagnostics."""
        if uri not in self.workspace.text_documents:  # closed while its check waited
            return
        doc = self.workspace.get_text_document(uri)
        analysis = analyse(doc.source, path_of(uri))
        self.latest[uri] = analysis
        if analysis.module is not None:
            self.parsed[uri] = analysis
        self.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics(analysis), version=doc.version))

    def check_later(self, uri: str) -> None:
        """Check once typing pauses: a newer change cancels the check an older one scheduled."""
        if uri in self.pending:
            self.pending[uri].cancel()

        async def wait_then_check() -> None:
            await asyncio.sleep(DEBOUNCE_S)
            self.pending.pop(uri, None)
            self.check(uri)

        self.pending[uri] = asyncio.ensure_future(wait_then_check())


def path_of(uri: str) -> str:
    return to_fs_path(uri) or uri


def uri_of(name: str) -> str:
    return from_fs_path(str(Path(name).resolve())) or name


def range_of(span: Span | None) -> T.Range:
    if span is None:
        return T.Range(T.Position(0, 0), T.Position(0, 0))
    return T.Range(_position(span.source, span.line, span.column), _position(span.source, span.end_line, span.end_column))


def _position(source: Source, line: int, column: int) -> T.Position:
    """A 1-based line and column in code points as LSP's 0-based line and offset in UTF-16 units."""
    text = source.line(line)[: column - 1]
    return T.Position(line - 1, len(text.encode("utf-16-le")) // 2 + max(0, column - 1 - len(text)))


def line_column(source: Source, position: T.Position) -> tuple[int, int]:
    """An LSP position (UTF-16 units) as a 1-based line and column in code points."""
    units = 0
    for k, char in enumerate(source.line(position.line + 1)):
        if units >= position.character:
            return position.line + 1, k + 1
        units += 2 if ord(char) > 0xFFFF else 1
    return position.line + 1, len(source.line(position.line + 1)) + 1 + max(0, position.character - units)


def diagnostics(analysis: Analysis) -> list[T.Diagnostic]:
    """Every error and warning of an analysis, each at its range with its hint and notes."""
    out = [_diagnostic(err, analysis) for err in analysis.diagnostics]
    if analysis.internal:
        text = f"internal error in symdl: {analysis.internal} (a bug in symdl: please report it with the model file)"
        out.append(T.Diagnostic(range_of(None), text, severity=T.DiagnosticSeverity.Error, source="symdl"))
    return out


def _diagnostic(err: UserError, analysis: Analysis) -> T.Diagnostic:
    lines = [err.message] + ([err.label] if err.label else []) + [f"note: {n}" for n in err.notes]
    lines += [f"hint: {err.hint}"] if err.hint else []
    span, related = err.span, []
    if span is not None and span.source.name != analysis.source.name:  # inside an imported file: shown at its import
        related.append(T.DiagnosticRelatedInformation(T.Location(uri_of(span.source.name), range_of(span)), err.message))
        span = _import_site(span.source.name, analysis)
    severity = T.DiagnosticSeverity.Warning if err.severity == "warning" else T.DiagnosticSeverity.Error
    return T.Diagnostic(
        range_of(span), "\n".join(lines), severity=severity, code=err.code, source="symdl", related_information=related or None
    )


def _import_site(name: str, analysis: Analysis) -> Span | None:
    """The import statement of this file through which the file `name` was reached."""
    for _ in range(len(analysis.imported_at) + 1):
        span = analysis.imported_at.get(name)
        if span is None or span.source.name == analysis.source.name:
            return span
        name = span.source.name
    return None


def _symbol(s: Symbol) -> T.DocumentSymbol:
    children = [_symbol(c) for c in s.children] or None
    return T.DocumentSymbol(s.name, SYMBOL_KINDS[s.kind], range_of(s.span), range_of(s.name_span), detail=s.detail, children=children)


server = SymdlServer()


@server.feature(T.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: SymdlServer, params: T.DidOpenTextDocumentParams) -> None:
    ls.check(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: SymdlServer, params: T.DidChangeTextDocumentParams) -> None:
    ls.check_later(params.text_document.uri)


@server.feature(T.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: SymdlServer, params: T.DidSaveTextDocumentParams) -> None:
    for uri in [params.text_document.uri, *(u for u in ls.latest if u != params.text_document.uri)]:
        ls.check(uri)  # the open files that import the saved one read it from disk again


@server.feature(T.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: SymdlServer, params: T.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    for table in (ls.latest, ls.parsed):
        table.pop(uri, None)
    if uri in ls.pending:
        ls.pending.pop(uri).cancel()
    ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def entries_at(ls: SymdlServer, uri: str, position: T.Position) -> list[Entry]:
    """What the text at `position` stood for: in this document's analysis, else in another open document's
    that expanded it (a block of an imported file is typed where it is called)."""
    own = ls.parsed.get(uri)
    if own is None:
        return []
    line, column = line_column(own.source, position)
    for analysis in [own, *(a for u, a in ls.parsed.items() if u != uri)]:
        entries = analysis.recorder.at(own.source.name, line, column)
        if entries:
            return entries
    return []


@server.feature(T.TEXT_DOCUMENT_HOVER)
def hover(ls: SymdlServer, params: T.HoverParams) -> T.Hover | None:
    entries = entries_at(ls, params.text_document.uri, params.position)
    text = hover_text(entries)
    return T.Hover(T.MarkupContent(T.MarkupKind.Markdown, text), range_of(entries[0].span)) if text else None


@server.feature(T.TEXT_DOCUMENT_DEFINITION)
def definition(ls: SymdlServer, params: T.DefinitionParams) -> T.Location | None:
    analysis = ls.parsed.get(params.text_document.uri)
    if analysis is None or analysis.module is None:
        return None
    line, column = line_column(analysis.source, params.position)
    target = import_target(analysis.module, analysis.source.name, line, column)
    if target is not None:
        return T.Location(uri_of(str(target)), range_of(None)) if target.is_file() else None
    for entry in entries_at(ls, params.text_document.uri, params.position):
        if entry.definition is not None:
            return T.Location(uri_of(entry.definition.source.name), range_of(entry.definition))
    return None


@server.feature(T.TEXT_DOCUMENT_COMPLETION, T.CompletionOptions(trigger_characters=["."]))
def completion(ls: SymdlServer, params: T.CompletionParams) -> T.CompletionList:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    line, column = line_column(Source(doc.path, doc.source), params.position)
    line_text = doc.lines[line - 1] if line <= len(doc.lines) else ""
    found = candidates(ls.parsed.get(params.text_document.uri), line_text, line, column)
    items = [T.CompletionItem(c.label, kind=COMPLETION_KINDS[c.kind], detail=c.detail or None) for c in found]
    return T.CompletionList(is_incomplete=False, items=items)


@server.feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
def document_symbol(ls: SymdlServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol]:
    analysis = ls.parsed.get(params.text_document.uri)
    return [_symbol(s) for s in outline(analysis.module)] if analysis is not None and analysis.module is not None else []


@server.feature(T.TEXT_DOCUMENT_FORMATTING)
def formatting(ls: SymdlServer, params: T.DocumentFormattingParams) -> list[T.TextEdit] | None:
    doc = ls.workspace.get_text_document(params.text_document.uri)
    try:
        formatted = format_source(doc.source, path_of(params.text_document.uri))
    except UserError:  # a file that does not parse is left as it is: its diagnostic says why
        return None
    except InternalError as err:  # the formatter refused its own output: leave the text, say so
        ls.window_show_message(T.ShowMessageParams(T.MessageType.Error, err.render()))
        return None
    if formatted == doc.source:
        return []
    end = T.Position(len(doc.lines), 0)
    return [T.TextEdit(T.Range(T.Position(0, 0), end), formatted)]


def main() -> int:
    """Serve over stdin/stdout until the client says exit."""
    logging.basicConfig(level=logging.WARNING)  # to stderr: stdout carries the protocol
    server.start_io()
    return 0
