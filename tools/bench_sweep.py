"""What a sweep costs: Ray's start, Ray Tune's overhead per trial, and a 16-trial ASHA sweep of the MLP
against the same 16 runs one after another (a shell loop). Prints the load average next to each figure.

    PYTHONPATH=$PWD python tools/bench_sweep.py --out /tmp/bench-sweep
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])), "MPLBACKEND": "Agg"}
# one thread a run, as Ray gives each trial one CPU (OMP_NUM_THREADS=1): threads oversubscribing 2 cores measured ~10x slower epochs
ENV.update({k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")})


def load() -> str:
    return "load " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def symdl(*args: str) -> list[str]:
    return [sys.executable, "-m", "symdl", *args]


def ray_start() -> float:
    """Seconds to start (and stop) a local Ray of two workers, in a fresh process."""
    code = (
        "import time,ray;t=time.perf_counter();"
        "ray.init(num_cpus=2,include_dashboard=False,log_to_driver=False);print(time.perf_counter()-t)"
    )
    return float(subprocess.run([sys.executable, "-c", code], env=ENV, capture_output=True, text=True, check=True).stdout.split()[-1])


def overhead(out: Path, trials: int = 3) -> tuple[float, float]:
    """One worker: the sweep's wall time less its Ray start, against the same runs in a loop; seconds per trial each."""
    common = ["--backend", "fast", "--train-limit", "600", "--max-epochs", "1"]
    lrs = [f"0.0{k + 1}" for k in range(trials)]
    sweep = timed(
        symdl("sweep", "models/logreg.sdl", "--grid", "lr=" + ",".join(lrs), *common, "--workers", "1", "--out", str(out / "overhead"))
    )
    loop = sum(
        timed(symdl("run", "models/logreg.sdl", "--set", f"lr={lr}", *common, "--quiet", "--out", str(out / f"loop-{lr}"))) for lr in lrs
    )
    return sweep / trials, loop / trials


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("/tmp/bench-sweep"))
    parser.add_argument("--train-limit", default="2000")
    parser.add_argument("--max-epochs", default="4")
    args = parser.parse_args()
    shutil.rmtree(args.out, ignore_errors=True)
    args.out.mkdir(parents=True)
    print(f"ray start: {ray_start():.1f} s ({load()})", flush=True)
    per_sweep, per_loop = overhead(args.out)
    print(
        f"one worker, logreg 1 epoch: {per_sweep:.1f} s a trial in a sweep (Ray start included), {per_loop:.1f} s a `symdl run` ({load()})",
        flush=True,
    )
    options = ["--train-limit", args.train_limit, "--max-epochs", args.max_epochs]
    space = ["--sample", "lr=loguniform(0.003,0.3)", "--grid", "n_hidden=100,200,400,800", "--trials", "4"]
    sweep_dir = args.out / "mlp"
    sweep = timed(symdl("sweep", "models/mlp.sdl", *space, "--scheduler", "asha", *options, "--workers", "2", "--out", str(sweep_dir)))
    print(f"16-trial ASHA sweep of mlp on 2 workers: {sweep:.1f} s ({load()})", flush=True)
    with open(sweep_dir / "sweep.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    best = min(rows, key=lambda r: float(r["best_valid_errors"] or "inf"))
    print(
        f"best: {best['trial']} lr={best['lr']} n_hidden={best['n_hidden']}: "
        f"valid_errors {best['best_valid_errors']} after {best['epochs']} epochs"
    )
    print("statuses: " + ", ".join(f"{s} {sum(r['status'] == s for r in rows)}" for s in sorted({r["status"] for r in rows})))
    loop = 0.0
    for r in rows:  # the same 16 runs one after another, each to --max-epochs (what a shell loop does)
        loop += timed(
            symdl(
                "run",
                "models/mlp.sdl",
                "--set",
                f"lr={r['lr']}",
                "--set",
                f"n_hidden={r['n_hidden']}",
                *options,
                "--quiet",
                "--out",
                str(args.out / f"seq-{r['trial']}"),
            )
        )
    print(f"the same 16 runs one after another: {loop:.1f} s ({load()})", flush=True)


if __name__ == "__main__":
    main()
