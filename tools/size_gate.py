"""CI gate: no file in symdl/ over 500 lines, no function over 60 (STYLE.md: short functions, small files)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60


def violations(root: Path) -> list[str]:
    """Every file and function in `root` that is over its limit, as `path:line: what`."""
    found = []
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > MAX_FILE_LINES:
            found.append(f"{path}:1: file has {n} lines (limit {MAX_FILE_LINES})")
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    found.append(f"{path}:{node.lineno}: function {node.name} has {length} lines (limit {MAX_FUNCTION_LINES})")
    return found


def main() -> int:
    found = violations(Path(sys.argv[1] if len(sys.argv) > 1 else "symdl"))
    print("\n".join(found) or "size gate: every file and function within its limit")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
