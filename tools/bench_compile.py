"""Time to the end of epoch 1 on a fresh cache against a warm one (issue 14, item 3).

    python tools/bench_compile.py [--models mlp,lenet,rbm] [--backends auto] [--rounds 2] [--compile dbn] [--json F]
                                  [--set NAME=VALUE ...] [--train-limit N] [--threads N] [--serial]

For each model and backend, `symdl run MODEL --max-epochs 1` (and for each model in `--compile`,
`symdl compile MODEL`) runs in a subprocess, alternately cold and warm: cold with an empty PyTensor
`base_compiledir` and `NUMBA_CACHE_DIR` (fresh temporary directories, removed after), warm with a pair
primed by a first run and kept for the model. The priming `run` has `--no-tiers`: every function compiled on its
backend before it runs, as a run long enough to switch tiers leaves it (a one-epoch run may end first). Each run
records its wall time, the `compiling ... done in` seconds it printed per function, the epoch's seconds, and the
load the other processes put on the machine meanwhile (CPU seconds the machine was busy beyond the run's own, per wall second), since cold
and warm runs are far apart in time on a shared machine. Printed: the median cold and warm wall, their
ratio (issue 14's target for the MLP: at most 2.5x) and the compile lines. `--serial` adds, per run, the same
run with every compile in the thread that needs it: what compiling in threads buys. A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
COMPILED = re.compile(r"compiling (\S+) with pytensor/(\S+) .*? done in ([\d.]+)s")
LISTED = re.compile(r"^\s+(\S+)\s+pytensor/(\S+)\s+([\d.]+)s$", re.M)  # `symdl compile`'s table
EPOCH = re.compile(r"epoch 1/\d+ .*seconds ([\d.]+)")


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(fields[:8]) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# `--serial`: symdl's CLI with every compile in the thread that needs it, for an A/B against the threads
SERIAL = (
    "import sys; from symdl.runtime import background as b; add = b.Compiles.add; "
    "b.Compiles.add = lambda self, what, work, concurrent, *rest, **named: add(self, what, work, False, *rest, **named); "
    "from symdl.cli.main import main; sys.exit(main(sys.argv[1:]))"
)
THREADS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
ENV: dict[str, str] = {}  # --threads


def timed(command: list[str], cache: Path, out: Path | None) -> dict:
    """One run of `command` with its caches under `cache`: wall seconds, compile lines, epoch seconds, load."""
    env = dict(os.environ, PYTENSOR_FLAGS=f"base_compiledir={cache / 'pt'}", NUMBA_CACHE_DIR=str(cache / "nb"), PYTHONPATH=str(ROOT))
    env |= ENV
    if out is not None:
        shutil.rmtree(out, ignore_errors=True)
        command = [*command, "--out", str(out)]
    machine, own, started = busy_cpu_s(), children_cpu_s(), time.perf_counter()
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - started
    others = max(0.0, (busy_cpu_s() - machine - (children_cpu_s() - own)) / wall)
    text = done.stdout + done.stderr
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed ({done.returncode}):\n{text[-2000:]}")
    compiles = [(fn, backend, float(s)) for fn, backend, s in COMPILED.findall(text) + LISTED.findall(text)]
    epoch = EPOCH.search(text)
    return {"wall_s": wall, "compiles": compiles, "epoch_s": float(epoch.group(1)) if epoch else None, "others_load": others}


def alternate(label: str, command: list[str], rounds: int, scratch: Path, run_out: bool) -> dict:
    """`rounds` cold runs and as many warm ones, alternately (after one run that primes the warm caches)."""
    warm_cache = scratch / f"warm-{label}"
    out = scratch / "run" if run_out else None
    timed([*command, "--no-tiers"] if run_out else command, warm_cache, out)  # primes the warm caches
    cold, warm = [], []
    for r in range(rounds):
        for kind in ("cold", "warm") if r % 2 == 0 else ("warm", "cold"):
            cache = Path(tempfile.mkdtemp(dir=scratch)) if kind == "cold" else warm_cache
            result = timed(command, cache, out)
            (cold if kind == "cold" else warm).append(result)
            if kind == "cold":
                shutil.rmtree(cache, ignore_errors=True)
            line = f"  {label:<24} {kind}: {result['wall_s']:6.1f}s wall, others' load {result['others_load']:.2f}"
            print(line, file=sys.stderr, flush=True)
    return {"cold": cold, "warm": warm}


def summary_line(label: str, runs: dict) -> str:
    cold = statistics.median(r["wall_s"] for r in runs["cold"])
    warm = statistics.median(r["wall_s"] for r in runs["warm"])
    load = statistics.mean(r["others_load"] for r in runs["cold"] + runs["warm"])

    def compiles(kind: str) -> str:
        last = runs[kind][-1]
        parts = [f"{fn}/{backend} {s:.1f}s" for fn, backend, s in last["compiles"]]
        epoch = f", epoch 1 {last['epoch_s']:.1f}s" if last["epoch_s"] is not None else ""
        return ", ".join(parts) + epoch

    return (
        f"{label:<24} cold {cold:6.1f}s  warm {warm:6.1f}s  cold/warm {cold / warm:5.2f}x  (others' load {load:.2f})\n"
        f"{'':<24}   cold: {compiles('cold')}\n{'':<24}   warm: {compiles('warm')}"
    )


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,lenet,rbm", help="comma-separated model names under models/ (empty: none)")
    p.add_argument("--backends", default="default", help="comma-separated: default (no --backend: the model's), auto, numba, c, jax, fast")
    p.add_argument("--compile", default="dbn", help="comma-separated models to time `symdl compile` on (empty: none)")
    p.add_argument("--rounds", type=int, default=2, help="cold runs (and as many warm) per model and backend")
    p.add_argument("--set", action="append", default=[], help="NAME=VALUE for every run")
    p.add_argument("--train-limit", type=int)
    p.add_argument("--json", type=Path)
    p.add_argument("--serial", action="store_true", help="also time each run with every compile serial (no threads)")
    p.add_argument(
        "--threads", type=int, help="BLAS/OpenMP/Numba threads per run (default: inherited); on a loaded machine 1, or OpenBLAS spins"
    )
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.threads:
        ENV.update(dict.fromkeys(THREADS, str(args.threads)))
    symdl = [sys.executable, "-m", "symdl"]
    extra = [a for s in args.set for a in ("--set", s)] + (["--train-limit", str(args.train_limit)] if args.train_limit else [])
    launchers = [("", symdl)] + ([(", serial", [sys.executable, "-c", SERIAL])] if args.serial else [])
    jobs = [
        (
            f"run {m} ({b}{tag})",
            [*cli, "run", f"models/{m}.sdl", "--max-epochs", "1", *(["--backend", b] if b != "default" else []), *extra],
            True,
        )
        for m in filter(None, args.models.split(","))
        for b in args.backends.split(",")
        for tag, cli in launchers
    ]
    jobs += [(f"compile {m}", [*symdl, "compile", f"models/{m}.sdl", *extra], False) for m in filter(None, args.compile.split(","))]
    results, scratch = {}, Path(tempfile.mkdtemp(prefix="bench-compile-"))
    try:
        for label, command, run_out in jobs:
            name = "".join(c if c.isalnum() else "-" for c in label)
            results[label] = alternate(name, command, args.rounds, scratch, run_out)
            print(summary_line(label, results[label]), file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    print(f"{os.cpu_count()} cores, load average {load} at the end; median of {args.rounds} run(s) each")
    for label, runs in results.items():
        print(summary_line(label, runs))
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
