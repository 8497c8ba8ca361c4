"""`symdl lsp` end to end: a JSON-RPC client talks to the real server process over stdio."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from lsp_client import LspClient
from test_errors import CASES, HEAD

from symdl.fmt import format_source
from symdl.lsp.analysis import analyse

ROOT = Path(__file__).resolve().parents[1]
MODELS = ROOT / "models"


def _mlp_with_its_blocks(layers: str) -> str:
    """models/mlp.sdl with the library's dense and softmax_layer written in the file (hovers inside a block body)."""
    blocks = "\n".join(re.search(rf"^block {name}\(.*?\n\n", layers, re.S | re.M).group(0) for name in ("dense", "softmax_layer"))
    return (MODELS / "mlp.sdl").read_text().replace('from "std/layers.sdl" import dense, softmax_layer\n', blocks)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    # the library's layers beside lenet.sdl, imported by a relative path (go-to-definition across files)
    layers = (ROOT / "symdl" / "std" / "layers.sdl").read_text()
    (tmp_path / "layers.sdl").write_text(layers)
    lenet = (MODELS / "lenet.sdl").read_text()
    (tmp_path / "lenet.sdl").write_text(lenet.replace('"std/layers.sdl"', '"layers.sdl"'))
    (tmp_path / "mlp.sdl").write_text(_mlp_with_its_blocks(layers))
    return tmp_path


@pytest.fixture
def client(workspace: Path):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    c = LspClient(workspace, env)
    c.initialize(workspace)
    yield c
    if c.proc.poll() is None:
        c.proc.kill()


def _line_of(text: str, needle: str) -> tuple[int, int]:
    """0-based (line, character) of the first occurrence of `needle`."""
    for k, line in enumerate(text.split("\n")):
        if needle in line:
            return k, line.index(needle)
    raise AssertionError(needle)


def test_a_session_from_a_broken_file_to_shutdown(client: LspClient, workspace: Path):
    text = (workspace / "mlp.sdl").read_text()
    broken = text.replace("hidden = dense(x, n_in,", "hidden = dense(x, n_inn,")
    uri = client.open(workspace / "mlp.sdl", broken)
    published = client.wait_for("textDocument/publishDiagnostics", uri)
    [diagnostic] = published["diagnostics"]
    line, char = _line_of(broken, "n_inn")
    assert diagnostic["range"]["start"] == {"line": line, "character": char}
    assert diagnostic["code"] == "E200" and "did you mean 'n_in'?" in diagnostic["message"]

    client.change(uri, 2, text)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []

    line, char = _line_of(text, "inp @ W + b")
    product = client.at("textDocument/hover", uri, line, char + 4)  # on the `@`
    assert "f32[20, 500]" in product["contents"]["value"]
    assert product["range"]["start"] == {"line": line, "character": char}
    line, char = _line_of(text, "n_hidden = 500")
    assert "n_hidden = 500" in client.at("textDocument/hover", uri, line, char)["contents"]["value"]
    line, char = _line_of(text, "hidden = dense")
    block = client.at("textDocument/hover", uri, line, char + len("hidden = "))["contents"]["value"]
    assert "block dense(inp, n_in, n_out, act = tanh)" in block and "param W: f32[n_in, n_out]" in block

    symbols = client.request("textDocument/documentSymbol", {"textDocument": {"uri": uri}})
    names = {s["name"]: s for s in symbols}
    assert {"n_hidden", "x", "dense", "softmax_layer", "cost", "train", "validate"} <= set(names)
    assert [c["name"] for c in names["dense"]["children"]] == ["W", "b"]

    completion = client.at("textDocument/completion", uri, line, 0)
    labels = {item["label"]: item for item in completion["items"]}
    assert labels["sum"]["detail"].startswith("sum(x")
    assert labels["n_hidden"]["detail"] == "n_hidden = 500"
    line, char = _line_of(text, "sum(abs(hidden.W))")
    members = client.at("textDocument/completion", uri, line, char + len("sum(abs(hidden."))["items"]
    assert {m["label"]: m.get("detail") for m in members}["W"] == "param hidden.W: f32[784, 500]"

    messy = text.replace("hyper n_in = 784, n_hidden = 500", "hyper   n_in=784 ,n_hidden= 500")
    client.change(uri, 3, messy)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    [edit] = client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": {"tabSize": 4, "insertSpaces": True}})
    assert edit["range"]["start"] == {"line": 0, "character": 0} and edit["newText"] == format_source(messy, "mlp.sdl")
    assert "hyper n_in = 784, n_hidden = 500" in edit["newText"]
    assert client.close() == 0


def test_definition_goes_into_the_imported_file(client: LspClient, workspace: Path):
    text = (workspace / "lenet.sdl").read_text()
    uri = client.open(workspace / "lenet.sdl", text)
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    line, char = _line_of(text, "= dense(")
    location = client.at("textDocument/definition", uri, line, char + 3)
    assert location["uri"] == (workspace / "layers.sdl").resolve().as_uri()
    target_line = (workspace / "layers.sdl").read_text().split("\n")[location["range"]["start"]["line"]]
    assert target_line.startswith("block dense(")
    line, char = _line_of(text, '"layers.sdl"')
    assert client.at("textDocument/definition", uri, line, char + 2)["uri"] == location["uri"]

    # the imported file's block bodies have types where lenet.sdl expands them
    layers = (workspace / "layers.sdl").read_text()
    library = client.open(workspace / "layers.sdl", layers)
    client.wait_for("textDocument/publishDiagnostics", library)
    line, char = _line_of(layers, "inp @ W + b")
    shown = client.at("textDocument/hover", library, line, char + 4)["contents"]["value"]
    assert shown == "```sdl\ninp @ W: f32[500, 500]\n```"  # lenet's hidden layer: batch 500, 500 units
    assert client.close() == 0


def test_an_error_inside_an_imported_file_is_shown_at_the_import(client: LspClient, workspace: Path):
    layers = workspace / "layers.sdl"
    layers.write_text(layers.read_text().replace("return act(inp @ W + b)", "return act(inp @ W + c)"))
    text = (workspace / "lenet.sdl").read_text()
    uri = client.open(workspace / "lenet.sdl", text)
    [diagnostic] = client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]
    assert "unknown name 'c'" in diagnostic["message"]
    related = diagnostic["relatedInformation"][0]["location"]
    assert related["uri"] == layers.resolve().as_uri()
    assert client.close() == 0


def test_text_that_breaks_the_parser_never_stops_the_server(client: LspClient, workspace: Path):
    uri = client.open(workspace / "mlp.sdl", "hyper n = (\n")
    [diagnostic] = client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]
    assert diagnostic["code"].startswith("E1")
    options = {"tabSize": 4, "insertSpaces": True}
    assert client.request("textDocument/formatting", {"textDocument": {"uri": uri}, "options": options}) is None  # left as it is
    for version, junk in enumerate(["\x00\x01", "block b(:\n  param", "def f(x) = f(x)\ny = f(1)\n", "@@@", ""], start=2):
        client.change(uri, version, junk)
        client.wait_for("textDocument/publishDiagnostics", uri)
    client.at("textDocument/hover", uri, 0, 0)  # answered, not a crash
    client.change(uri, 99, (workspace / "mlp.sdl").read_text())
    assert client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"] == []
    assert client.close() == 0


def test_positions_count_utf16_units(client: LspClient, workspace: Path):
    """A character outside the BMP is two UTF-16 units in the editor's columns, one code point in symdl's."""
    uri = client.open(workspace / "clef.sdl", 'hyper a = 1\nc = ["\U0001d11e", a]\nb = "\U0001d11e" + zz\n')
    [diagnostic] = client.wait_for("textDocument/publishDiagnostics", uri)["diagnostics"]
    assert diagnostic["range"] == {"start": {"line": 2, "character": 11}, "end": {"line": 2, "character": 13}}
    assert "a = 1" in client.at("textDocument/hover", uri, 1, 11)["contents"]["value"]
    assert client.close() == 0


def test_hover_still_works_after_an_error():
    """Each top-level statement is checked on its own: a mistake leaves later, independent ones indexed."""
    text = _mlp_with_its_blocks((ROOT / "symdl" / "std" / "layers.sdl").read_text()).replace("hyper lr = 0.01", "hyper lr = undefined_name")
    analysis = analyse(text, str(MODELS / "mlp.sdl"))
    assert [d.code for d in analysis.diagnostics] == ["E200"]  # `lr`'s later uses are not reported again
    line, char = _line_of(text, "inp @ W + b")
    [entry] = analysis.recorder.at(str(MODELS / "mlp.sdl"), line + 1, char + 5)
    assert str(entry.value.type) == "f32[20, 500]"


@pytest.mark.parametrize("name,body,code,line,column,words", CASES, ids=[c[0] for c in CASES])
def test_the_editor_sees_what_check_reports(tmp_path, name, body, code, line, column, words):
    """Each of `symdl check`'s error cases is the analysis's first diagnostic, at the same place."""
    analysis = analyse(HEAD + body, str(tmp_path / "model.sdl"))
    first = analysis.diagnostics[0]
    assert (first.code, first.span.line, first.span.column) == (code, line, column)
    assert words in first.render()


@pytest.mark.parametrize("model", sorted(p.name for p in MODELS.glob("*.sdl")))
def test_every_model_file_is_clean_in_the_editor(model):
    analysis = analyse((MODELS / model).read_text(), str(MODELS / model))
    assert analysis.diagnostics == [] and analysis.internal == ""
