"""Write a drawing to a file, its format picked by the file's suffix."""

from __future__ import annotations

from pathlib import Path

import graphviz

from symdl.diagnostics.catalog import fail

FORMATS = {".svg": "svg", ".png": "png", ".pdf": "pdf", ".dot": "dot"}


def format_of(path: Path) -> str:
    """The graphviz format for `path`'s suffix; an unknown suffix is the user's mistake."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        fail("E702", None, hint=f"end the name with one of {', '.join(FORMATS)}, e.g. '{path.with_suffix('.svg').name}'", path=path)
    return fmt


def write(graph: graphviz.Digraph, path: Path) -> None:
    """Render with the `dot` program (or write the DOT text itself for `.dot`)."""
    fmt = format_of(path)
    try:
        data = graph.source.encode() if fmt == "dot" else graph.pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        fail("E703", None, hint="install graphviz (`bash tools/setup.sh`, or `apt-get install graphviz`), or write a .dot file")
    try:
        path.write_bytes(data)
    except OSError as err:
        fail("E704", None, hint="check that the folder exists and is writable", path=path, reason=err.strerror or err)
