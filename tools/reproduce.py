"""Reproduce one model's figure and update its row of RESULTS.md.

    python tools/reproduce.py MODEL            # the model's full schedule (its own hypers)
    python tools/reproduce.py MODEL --short    # the shortened schedule RESULTS.md reports when the full one did not fit

It runs `symdl run models/MODEL.sdl` (extra arguments after `--` are passed on), reads the run's
summary.json, and rewrites the row of RESULTS.md whose first cell is `models/MODEL.sdl`:
command, schedule, measured figure with the date, and the time it took.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "RESULTS.md"

# model: (the figure summary.json holds, how to show it, the shortened schedule's arguments)
FIGURES: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "linear": ("final_cost", "final cost {:.3g}", ()),
    "logreg": ("test_error", "test error {:.2%}", ("--train-limit", "5000", "--max-epochs", "5")),
    "mlp": ("test_error", "test error {:.2%}", ("--train-limit", "5000", "--max-epochs", "3")),
    "mlp_momentum": ("valid_accuracy", "valid accuracy {:.1%}", ()),
    "lenet": (
        "test_error",
        "test error {:.2%}",
        ("--train-limit", "2000", "--max-epochs", "2", "--set", "nkerns=[8, 16]", "--set", "n_hidden=64", "--set", "batch=50"),
    ),
    "da": ("final_cost", "reconstruction cost {:.1f}", ("--train-limit", "400", "--max-epochs", "3", "--set", "n_hidden=36")),
    "rbm": ("final_cost", "pseudo-likelihood cost {:.1f}", ("--train-limit", "2000", "--max-epochs", "1")),
    "dbn": ("test_error", "test error {:.2%}", ("--train-limit", "2000", "--max-epochs", "2", "--set", "hidden_sizes=[100, 100]")),
    "sda": ("test_error", "test error {:.2%}", ("--train-limit", "2000", "--max-epochs", "2", "--set", "hidden_sizes=[100, 100]")),
    "rnnrbm": (
        "test_frame_accuracy",
        "test frame accuracy {:.1%}",
        (
            "--max-epochs",
            "3",
            "--set",
            "lr=0.01",
            "--set",
            "ais_betas=10",
            "--set",
            "generate_steps=10",
            "--set",
            "n_generated=1",
            "--backend",
            "fast",
        ),
    ),
    "hmc": ("mean_abs_error", "sample mean off by {:.3f} on average", ()),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model", choices=sorted(FIGURES))
    parser.add_argument("--short", action="store_true", help="the shortened schedule instead of the full one")
    parser.add_argument("extra", nargs="*", help="more `symdl run` arguments (after --)")
    args = parser.parse_args(argv)
    key, shown, short = FIGURES[args.model]
    schedule = [*(short if args.short else ()), *args.extra]
    out = ROOT / "runs" / f"reproduce-{args.model}-{time.strftime('%Y%m%d-%H%M%S')}"
    command = [sys.executable, "-m", "symdl", "run", f"models/{args.model}.sdl", "--quiet", "--out", str(out), *schedule]
    started = time.perf_counter()
    status = subprocess.run(command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}).returncode
    seconds = time.perf_counter() - started
    if status != 0:
        print(f"the run failed (status {status}); RESULTS.md is unchanged", file=sys.stderr)
        return status
    summary = json.loads((out / "summary.json").read_text())
    figure = shown.format(summary[key]) if isinstance(summary.get(key), (int, float)) else f"{key}: {summary.get(key)}"
    typed = " ".join(["symdl run", f"models/{args.model}.sdl", *(_quoted(a) for a in schedule)])
    label = "shortened: " + " ".join(short) if args.short else "full (the model's hypers)"
    update_row(args.model, typed, label + (f", with {' '.join(args.extra)}" if args.extra else ""), figure, seconds)
    print(f"{args.model}: {figure} in {seconds:.0f} s; RESULTS.md updated")
    return 0


def _quoted(arg: str) -> str:
    return f"'{arg}'" if " " in arg else arg


def update_row(model: str, command: str, schedule: str, figure: str, seconds: float) -> None:
    """Rewrite cells 2-5 of the model's row (command, schedule, measured, time); keep the published ones."""
    lines = RESULTS.read_text().splitlines()
    first = f"| `models/{model}.sdl` |"
    for k, line in enumerate(lines):
        if line.startswith(first):
            cells = [c.strip() for c in line.strip("|").split("|")]
            cells[1:5] = [f"`{command}`", schedule, f"{figure} ({time.strftime('%Y-%m-%d')})", f"{seconds:.0f} s"]
            lines[k] = "| " + " | ".join(cells) + " |"
            RESULTS.write_text("\n".join(lines) + "\n")
            return
    raise SystemExit(f"RESULTS.md has no row for models/{model}.sdl")


if __name__ == "__main__":
    sys.exit(main())
