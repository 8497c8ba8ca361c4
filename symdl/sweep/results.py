"""A sweep's results: sweep.csv (a row per trial), the best trial with the command that reproduces it, pictures.

Every figure comes from the trials' own run directories (metrics.csv, summary.json), which outlive Ray.
"""

from __future__ import annotations

import csv
import json
import math
import shlex
from dataclasses import dataclass, field
from pathlib import Path

from symdl.sweep.plan import Plan
from symdl.sweep.space import set_text
from symdl.sweep.trial import LOG_FILE, error_line, read_rows


@dataclass
class Trial:
    """One trial as the sweep reports it."""

    name: str
    config: dict
    status: str  # finished, stopped (by the scheduler), nan, error, unfinished
    curve: list[tuple[float, float]] = field(default_factory=list)  # (epoch, measure) at each validation
    epochs: int = 0
    seconds: float | None = None
    test: float | None = None
    note: str = ""

    def final(self) -> float | None:
        return self.curve[-1][1] if self.curve else None

    def best(self, mode: str) -> float | None:
        finite = [v for _, v in self.curve if math.isfinite(v)]
        return (min if mode == "min" else max)(finite) if finite else None


def collect(plan: Plan, out: Path, results, interrupted: bool) -> list[Trial]:
    """Every trial Tune knows of, read back from its run directory."""
    trials = [_trial(plan, out / Path(r.path).name, r, interrupted) for r in results]
    return sorted(trials, key=lambda t: t.name)


def _trial(plan: Plan, rundir: Path, result, interrupted: bool) -> Trial:
    rows = read_rows(rundir / "metrics.csv")
    first = next(iter(rows[0]), "epoch") if rows else "epoch"
    curve = [(float(r.get(first, k + 1)), r[plan.measure]) for k, r in enumerate(rows) if isinstance(r.get(plan.measure), float)]
    summary = _summary(rundir)
    seconds = summary.get("seconds", (result.metrics or {}).get("time_total_s"))
    trial = Trial(rundir.name, dict(result.config), "finished", curve, len(rows), seconds, summary.get("test_error"))
    diverged = any(isinstance(v, float) and not math.isfinite(v) for r in rows for v in r.values())
    if result.error is not None:
        trial.status, trial.note = "error", error_line(rundir) if (rundir / LOG_FILE).is_file() else str(result.error).splitlines()[0]
    elif diverged or summary.get("status") == "nan":
        trial.status = "nan"
    elif not summary or summary.get("status") == "interrupted":
        trial.status = "unfinished" if interrupted else "stopped"  # an ended sweep's unended trial: its scheduler stopped it
    return trial


def _summary(rundir: Path) -> dict:
    try:
        return json.loads((rundir / "summary.json").read_text())
    except (OSError, ValueError):
        return {}


def write_csv(plan: Plan, trials: list[Trial], path: Path) -> None:
    """sweep.csv: the trial, its hypers, status, final and best measures, epochs, seconds, test error and note."""
    names = [a["name"] for a in plan.axes]
    columns = ["trial", *names, "status", f"final_{plan.measure}", f"best_{plan.measure}", "epochs", "seconds", "test_error", "note"]
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for t in trials:
            values = [set_text(n, t.config[n]).partition("=")[2] if n in t.config else "" for n in names]
            writer.writerow(
                [t.name, *values, t.status, _cell(t.final()), _cell(t.best(plan.mode)), t.epochs, _cell(t.seconds), _cell(t.test), t.note]
            )


def _cell(value: float | None) -> str:
    return "" if value is None else f"{value:.6g}"


def best_trial(plan: Plan, trials: list[Trial]) -> Trial | None:
    """The trial with the best measure at any validation (ties: the first by name); never one that diverged or failed."""
    ranked = [t for t in trials if t.status in ("finished", "stopped", "unfinished") and t.best(plan.mode) is not None]
    if not ranked:
        return None
    sign = 1 if plan.mode == "min" else -1
    return min(ranked, key=lambda t: sign * t.best(plan.mode))


def reproduce(plan: Plan, trial: Trial) -> str:
    """The `symdl run` command that runs `trial` again."""
    return shlex.join(["symdl", "run", plan.file, *plan.run_args(trial.config)])


def summary_lines(plan: Plan, trials: list[Trial], out: Path) -> list[str]:
    """What a finished sweep prints: counts by status, the best trial and how to run it again."""
    counts: dict[str, int] = {}
    for t in trials:
        counts[t.status] = counts.get(t.status, 0) + 1
    lines = [f"sweep saved to {out}/ ({len(trials)} trials: {', '.join(f'{n} {s}' for s, n in counts.items())}; sweep.csv, pictures)"]
    best = best_trial(plan, trials)
    if best is None:
        return [*lines, f"no trial reported {plan.measure}"]
    values = " ".join(set_text(k, v) for k, v in best.config.items())
    return [*lines, f"best: {best.name} ({values}): {plan.measure} {best.best(plan.mode):.4g}", f"  {reproduce(plan, best)}"]
