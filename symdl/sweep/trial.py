"""One trial on a Ray worker: `symdl run` in a child process, its run directory under the sweep's.

The child is the very command a user types, so a trial runs what `symdl run` runs; each epoch's row of
its metrics.csv is reported to Tune as it is written. A trial Tune stops (ASHA, a NaN) gets SIGTERM,
which `symdl run` answers with a checkpoint; a trial of an interrupted sweep continues with `--resume`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

from symdl.runtime.parent import PARENT_ENV
from symdl.sweep.plan import Plan

POLL_SECONDS = 0.2
LOG_FILE = "log.txt"  # the child's stdout and stderr


class TrialFailed(RuntimeError):
    """`symdl run` exited with an error: Tune records it as the trial's result."""


def run_dir_name(trial_id: str) -> str:
    """`trial-00003` for Tune's `a1b2c_00003`: the same on resume, short in a listing."""
    return "trial-" + trial_id.rsplit("_", 1)[-1]


def trial_dirname(trial) -> str:
    """Tune's own directory of a trial (under DIR/tune) has the run directory's name."""
    return run_dir_name(trial.trial_id)


def run_trial(config: dict, plan: Plan, out: str, symdl_root: str) -> None:
    """Tune's trainable: run (or continue) this trial's `symdl run`, reporting each epoch's measures."""
    from ray import tune

    rundir = Path(out) / run_dir_name(tune.get_context().get_trial_id())
    if _summary_status(rundir) == "finished":  # it finished before the sweep was interrupted: report, do not rerun
        _report_rows(read_rows(rundir / "metrics.csv"), 0, plan.measure, tune.report)
        return
    if (rundir / "params.npz").is_file():
        command = [sys.executable, "-m", "symdl", "run", "--resume", str(rundir), "--quiet"]
    else:  # never started, or stopped before its first checkpoint: nothing to keep
        shutil.rmtree(rundir, ignore_errors=True)
        command = [sys.executable, "-m", "symdl", "run", plan.source, *plan.run_args(config), "--out", str(rundir), "--quiet"]
    rundir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [symdl_root, os.environ.get("PYTHONPATH")])), "MPLBACKEND": "Agg"}
    env[PARENT_ENV] = str(os.getpid())  # the run stops when this worker dies (Ray kills stopped actors): none trains orphaned
    with open(rundir / LOG_FILE, "a") as log:
        child = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            code = _follow(child, rundir / "metrics.csv", plan.measure, tune.report)
        finally:  # Tune stopped the trial (SystemExit inside report) or the worker is going: the run checkpoints
            _stop(child)
    if code != 0:
        raise TrialFailed(f"symdl run exited with status {code}: {error_line(rundir)}")


def _follow(child: subprocess.Popen, metrics: Path, measure: str, report) -> int:
    """Report every new complete row of metrics.csv until the child exits; its exit status."""
    reported = 0
    while True:
        code = child.poll()
        reported = _report_rows(read_rows(metrics), reported, measure, report)
        if code is not None:
            return code
        time.sleep(POLL_SECONDS)


def _report_rows(rows: list[dict], start: int, measure: str, report) -> int:
    """Rows from `start` on that carry the measure, to Tune (a non-finite one marks the trial diverged)."""
    for row in rows[start:]:
        if isinstance(row.get(measure), float):
            diverged = any(isinstance(v, float) and not math.isfinite(v) for v in row.values())
            report({**{k: v for k, v in row.items() if isinstance(v, (int, float))}, "measure": row[measure], "diverged": diverged})
    return max(start, len(rows))


def read_rows(path: Path) -> list[dict]:
    """The complete rows of a metrics.csv another process is writing (a half-written last line waits)."""
    try:
        text = path.read_text()
    except OSError:
        return []
    text = text[: text.rfind("\n") + 1]
    return [{k: _float(v) for k, v in row.items() if v} for row in csv.DictReader(io.StringIO(text))]


def _float(text: str) -> float | str:
    """A metrics.csv cell: every number as a float (Tune compares them), a stage name as itself."""
    try:
        return float(text)
    except ValueError:
        return text


def _summary_status(rundir: Path) -> str | None:
    """ "finished", "interrupted", "nan", ... from a run directory's summary.json; None before it has one."""
    try:
        summary = json.loads((rundir / "summary.json").read_text())
    except (OSError, ValueError):
        return None
    return summary.get("status", "finished")


def error_line(rundir: Path) -> str:
    """The error a failed run printed (its first `error[CODE]` or internal-error line), or the last line of its log.

    Matched by the diagnostic's form, not the bare word: a path may hold "error" (a folder named errors)."""
    try:
        lines = [line.strip() for line in (rundir / LOG_FILE).read_text().splitlines() if line.strip()]
    except OSError:
        return "no log"
    return next((line for line in lines if "error[" in line or "internal error" in line), lines[-1] if lines else "no output")


def _stop(child: subprocess.Popen) -> None:
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
        try:
            child.wait(timeout=30)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
