"""Highlighting: the Pygments lexer on every model file, its entry point, and the VS Code extension's files."""

from __future__ import annotations

import importlib
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pygments.token import Comment, Error, Keyword, Name, Number, Operator, Punctuation, String

from symdl.highlight import SymdlLexer, textmate_grammar
from symdl.syntax.concrete import grammar_dtypes, grammar_keywords

ROOT = Path(__file__).resolve().parents[1]
VSCODE = ROOT / "editors" / "vscode"
SOURCES = sorted((ROOT / "models").glob("*.sdl")) + sorted((ROOT / "tests" / "imports").glob("*.sdl"))


def _tokens(text: str) -> list[tuple[object, str]]:
    return list(SymdlLexer().get_tokens(text))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.name)
def test_every_model_file_lexes_without_an_error_token_and_loses_nothing(path):
    text = path.read_text(encoding="utf-8")
    tokens = _tokens(text)
    assert [value for kind, value in tokens if kind in Error] == []
    assert "".join(value for _, value in tokens) == text


def test_the_models_use_every_token_class_and_each_word_gets_its_own():
    found: dict[object, set[str]] = {}
    for path in SOURCES:
        for kind, value in _tokens(path.read_text(encoding="utf-8")):
            found.setdefault(kind, set()).add(value)
    expected = {
        Keyword: {"model", "hyper", "param", "block", "return", "fn", "update", "run", "for", "in", "if", "else", "as"},
        Keyword.Type: {"f32", "i32"},
        Keyword.Constant: {"true"},
        Number.Integer: {"784", "0"},
        Number.Float: {"0.1"},
        String.Double: {'"fashion-mnist"'},
        Comment.Single: {"# hidden bias"},
        Operator: {"@", "=", "~", "**", "->", "-", "==", "?"},
        Name.Builtin: {"sigmoid", "scan", "glorot", "sum"},
        Name.Function: {"layer", "train", "epochs"},
        Name.Namespace: {"rbm"},
        Name: {"n_visible", "W"},
        Punctuation: {"(", "[", ",", ":", "."},
    }
    for kind, values in expected.items():
        assert values <= found.get(kind, set()), kind


def test_word_operators_and_every_grammar_keyword_are_keywords():
    tokens = dict((value, kind) for kind, value in _tokens("x = not a and b or none\n"))
    assert tokens["not"] is Operator.Word and tokens["and"] is Operator.Word and tokens["none"] is Keyword.Constant
    for word in grammar_keywords():
        kind = dict((v, k) for k, v in _tokens(f"{word}\n"))[word]
        assert kind in Keyword or kind is Operator.Word, word


def test_the_pygments_entry_point_names_the_lexer():
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]["pygments.lexers"]
    module, _, attribute = table["sdl"].partition(":")
    assert getattr(importlib.import_module(module), attribute) is SymdlLexer
    assert "sdl" in SymdlLexer.aliases and "*.sdl" in SymdlLexer.filenames


def test_the_textmate_grammar_is_written_from_the_grammars_words():
    on_disk = json.loads((VSCODE / "syntaxes" / "symdl.tmLanguage.json").read_text(encoding="utf-8"))
    assert on_disk == textmate_grammar(), "run python tools/textmate.py"
    word_lists = [(p["name"], re.fullmatch(r"\\b\(([A-Za-z0-9_|]+)\)\\b", p["match"])) for p in on_disk["patterns"] if "name" in p]
    listed = {name: set(match.group(1).split("|")) for name, match in word_lists if match}
    assert listed["keyword.control.symdl"] | listed["constant.language.symdl"] | listed["keyword.operator.logical.symdl"] == set(
        grammar_keywords()
    )
    assert listed["storage.type.symdl"] == set(grammar_dtypes())


def test_the_vscode_extension_declares_the_language_grammar_and_server():
    package = json.loads((VSCODE / "package.json").read_text(encoding="utf-8"))
    language = package["contributes"]["languages"][0]
    assert language["extensions"] == [".sdl"] and (VSCODE / language["configuration"]).is_file()
    grammar = package["contributes"]["grammars"][0]
    assert grammar["language"] == language["id"] and (VSCODE / grammar["path"]).is_file()
    assert package["contributes"]["configuration"]["properties"]["symdl.server.command"]["default"] == ["symdl", "lsp"]
    assert "vscode-languageclient" in package["dependencies"] and (VSCODE / package["main"]).is_file()
    config = json.loads((VSCODE / "language-configuration.json").read_text(encoding="utf-8"))
    assert config["comments"]["lineComment"] == "#" and ["(", ")"] in config["brackets"]
    assert re.match(config["indentationRules"]["increaseIndentPattern"], "    def f(x):  # a comment")


def test_pygmentize_finds_the_lexer_through_the_entry_point(tmp_path):
    """What `pip install` writes for the pyproject table, on the path of a real `pygmentize` run."""
    table = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["entry-points"]["pygments.lexers"]
    info = tmp_path / "symdl_entry_points-0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: symdl-entry-points\nVersion: 0\n")
    (info / "entry_points.txt").write_text("[pygments.lexers]\n" + "".join(f"{k} = {v}\n" for k, v in table.items()))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tmp_path), str(ROOT)])}
    command = [sys.executable, "-m", "pygments", "-l", "sdl", "-f", "html", str(ROOT / "models" / "rbm.sdl")]
    html = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    assert '<span class="k">model</span>' in html and '<span class="nb">sigmoid</span>' in html and 'class="err"' not in html
