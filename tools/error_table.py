"""docs/LANGUAGE.md's table of error codes, generated from the catalog: `python tools/error_table.py --write`."""

from __future__ import annotations

import sys
from pathlib import Path

from symdl.diagnostics.catalog import markdown_table

DOC = Path(__file__).resolve().parents[1] / "docs" / "LANGUAGE.md"
START = "<!-- error codes: generated from symdl/diagnostics/catalog.py by tools/error_table.py --write -->\n"
END = "<!-- end of error codes -->\n"


def with_table(text: str) -> str:
    """The document with the table between its markers replaced by the catalog's."""
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    return head + START + markdown_table() + END + tail


def main() -> int:
    text = DOC.read_text()
    if START not in text or END not in text:
        print(f"{DOC} lacks the markers around its table of codes", file=sys.stderr)
        return 1
    if "--write" in sys.argv:
        DOC.write_text(with_table(text))
    else:
        print(markdown_table(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
