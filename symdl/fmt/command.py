"""The `symdl fmt FILE...` command: rewrite files in place, or `--check` / `--diff` them."""

from __future__ import annotations

import argparse
import difflib
import sys
from pathlib import Path

from symdl.diagnostics.errors import UserError
from symdl.fmt import format_source
from symdl.pipeline import read_source


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("files", type=Path, nargs="+", metavar="FILE", help="model files, or folders to search for .sdl files")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="change nothing; exit 1 and list the files that would change")
    mode.add_argument("--diff", action="store_true", help="change nothing; print what would change as a unified diff")


def cmd_fmt(args: argparse.Namespace) -> int:
    """Exit 0 when done (or nothing would change), 1 when --check or --diff finds a change, 2 on an error."""
    changed, failed, files = [], 0, model_files(args.files)
    for path in files:
        try:
            source = read_source(path)
            formatted = format_source(source.text, str(path))
        except UserError as err:
            print(err.render(), file=sys.stderr)
            failed += 1
            continue
        if formatted == source.text:
            continue
        changed.append(path)
        if args.diff:
            sys.stdout.writelines(_diff(source.text, formatted, str(path)))
        elif args.check:
            print(f"would reformat {path}")
        else:
            path.write_text(formatted, encoding="utf-8")
    verb = "would be reformatted" if args.check or args.diff else "reformatted"
    errors = f", {failed} with errors" if failed else ""
    print(f"{len(changed)} file(s) {verb}, {len(files) - len(changed) - failed} left as they were{errors}", file=sys.stderr)
    return 2 if failed else int(bool(changed) and (args.check or args.diff))


def model_files(paths: list[Path]) -> list[Path]:
    """The files named, and the .sdl files under the folders named."""
    found = []
    for path in paths:
        found += sorted(path.rglob("*.sdl")) if path.is_dir() else [path]
    return found


def _diff(before: str, after: str, name: str) -> list[str]:
    return list(difflib.unified_diff(before.splitlines(True), after.splitlines(True), f"{name} (before)", f"{name} (formatted)"))
