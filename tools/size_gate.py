"""CI gate: no file in symdl/ over 500 lines, no function over 60 (STYLE.md: short functions, small files)."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

MAX_FILE_LINES = 500
MAX_FUNCTION_LINES = 60

# Known to be over, each with the branch that removes it; an entry that no longer applies fails the gate too,
# so the list shrinks as they land.
KNOWN: dict[str, str] = {}


def violations(root: Path) -> dict[str, str]:
    """Every file and function in `root` that is over its limit: {`path:1` or `path:function`: `path:line: what`}."""
    found = {}
    for path in sorted(root.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        if (n := len(text.splitlines())) > MAX_FILE_LINES:
            found[f"{path}:1"] = f"{path}:1: file has {n} lines (limit {MAX_FILE_LINES})"
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    where = f"{path}:{node.lineno}: function {node.name} has {length} lines (limit {MAX_FUNCTION_LINES})"
                    found[f"{path}:{node.name}"] = where
    return found


def longest(root: Path, count: int) -> list[tuple[int, str]]:
    """The `count` longest functions in `root`: (lines, `path:line name`), longest first."""
    found = []
    for path in sorted(root.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((node.end_lineno - node.lineno + 1, f"{path}:{node.lineno} {node.name}"))
    return sorted(found, key=lambda f: -f[0])[:count]


def main() -> int:
    if sys.argv[1:2] == ["--longest"]:  # `--longest N [ROOT]`: a figure for reports, not a gate
        for length, where in longest(Path(sys.argv[3] if len(sys.argv) > 3 else "symdl"), int(sys.argv[2])):
            print(f"{length:4d}  {where}")
        return 0
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "symdl")
    found = violations(root)
    known = {key: why for key, why in KNOWN.items() if key.startswith(f"{root}/")}
    for key in found.keys() & known.keys():
        print(f"{found[key]}  [known: {known[key]}]")
    new = [found[key] for key in found.keys() - known.keys()]
    gone = [f"{key}: listed as known in tools/size_gate.py but within its limit now: remove it from KNOWN" for key in known.keys() - found]
    print("\n".join(sorted(new + gone)) or "size gate: every file and function within its limit, but the known ones")
    return 1 if new or gone else 0


if __name__ == "__main__":
    sys.exit(main())
