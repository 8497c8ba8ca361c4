"""Completion: after `name.` its members; elsewhere the names in scope, the builtins with their signatures, keywords."""

from __future__ import annotations

import re
from dataclasses import dataclass

from symdl.elaborate.builtins import names
from symdl.elaborate.values import Instance
from symdl.ir.nodes import Node
from symdl.lsp.analysis import Analysis
from symdl.lsp.describe import describe, signature
from symdl.lsp.symbols import KEYWORDS, local_names

MEMBER_BEFORE_CURSOR = re.compile(r"([A-Za-z_]\w*)\.\w*$")


@dataclass(frozen=True)
class Candidate:
    label: str
    kind: str  # "value", "function" or "keyword"
    detail: str = ""


def candidates(analysis: Analysis | None, line_text: str, line: int, column: int) -> list[Candidate]:
    """What may be typed at (line, column), 1-based; `line_text` is the line as it is now."""
    member = MEMBER_BEFORE_CURSOR.search(line_text[: column - 1])
    top = analysis.top.names if analysis is not None and analysis.top is not None else {}
    if member:
        return _members(top.get(member.group(1)))
    found: dict[str, Candidate] = {}
    if analysis is not None and analysis.module is not None:
        for name in local_names(analysis.module, line):
            found[name] = Candidate(name, "value")
    for name, value in top.items():
        if not name.startswith("__"):
            found.setdefault(name, Candidate(name, "value", describe(name, value).splitlines()[0]))
    for name in sorted(names()):
        found.setdefault(name, Candidate(name, "function", signature(name).splitlines()[0]))
    for word in KEYWORDS:
        found.setdefault(word, Candidate(word, "keyword"))
    return list(found.values())


def _members(value: object) -> list[Candidate]:
    if isinstance(value, Instance):
        out = [Candidate(k, "value", describe(f"{value.path}.{k}", v).splitlines()[0]) for k, v in value.members.items()]
        return out + [Candidate("params", "value", f"{len(value.params)} parameter(s)")]
    if isinstance(value, Node):
        return [Candidate("T", "value", "the transpose"), Candidate("shape", "value", str(list(value.type.shape)))]
    return []
