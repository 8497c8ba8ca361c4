"""Benchmark one training step of each tutorial model and mlp_dropout: symdl against hand-written PyTensor and PyTorch.

    python tools/bench.py [--models mlp,logreg,rbm,da,lenet,mlp_dropout] [--backends default,numba,c,jax] [--rounds 12]
                          [--burst-s 0.3] [--threads 2] [--json bench.json]

Every implementation runs in a persistent worker process of its own (tools/bench_workers.py),
compiled and warmed before timing starts: symdl bound to shared data as `symdl run` binds it, symdl
through the Python API (`symdl.load(...).fn.train(**arrays)` on NumPy minibatches), PyTensor written
by hand, PyTorch eager, and the step's matrix products alone in NumPy. They are then timed in the same
window, in bursts of about `--burst-s` seconds, one worker working at a time, the order reversed every
round, with a pause before each burst for idle threads to settle. For each burst the load the
other processes put on the machine is recorded (CPU seconds the whole machine spent during the burst,
less the worker's own, per wall second). Printed per model and backend: the median ms per step and
its spread (the 10th-90th percentile of the per-burst medians) for each implementation, and the
ratios; `--json` writes the same with every burst. Synthetic data with the real shapes (50000 x 784
float32, 10 classes). `default` is the backend of each model's `train` (its `backend` hyper, else `auto`'s
pick), which `symdl run` and `symdl.load` use. On `jax` the symdl step reads the dataset held on the device
(`symdl.lowering.device`) and runs as one jitted call; the hand-written step is left out there (PyTensor's
JAX mode takes no symbolic slice). A benchmark, not a test.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parent.parent)]
from bench_workers import PYTENSOR_MODES, ROOT, SPECS, peak_gflops, serve  # noqa: E402

SETTLE_S = 0.25  # OpenBLAS and OpenMP threads spin a while after their work; let them stop


@dataclass
class Worker:
    """One implementation in its own process, and the bursts it has run."""

    name: str
    job: str
    proc: subprocess.Popen
    build_s: float = 0.0
    bursts: list[dict] = field(default_factory=list)

    def burst(self, n: int) -> dict:
        before = busy_cpu_s()
        started = time.perf_counter()
        self.proc.stdin.write(f"burst {n}\n")
        self.proc.stdin.flush()
        result = json.loads(self.proc.stdout.readline())
        wall = time.perf_counter() - started
        result["others_load"] = max(0.0, (busy_cpu_s() - before - result["cpu_s"]) / wall)
        self.bursts.append(result)
        return result

    def close(self) -> None:
        try:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
        except OSError:
            pass
        self.proc.wait(timeout=30)

    def medians_ms(self) -> list[float]:
        return [statistics.median(b["times"]) * 1e3 for b in self.bursts]


def busy_cpu_s() -> float:
    """CPU seconds the whole machine has spent busy since boot (/proc/stat), for the load per burst."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def thread_env(threads: int) -> dict[str, str]:
    names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "NUMBA_NUM_THREADS")
    return dict(os.environ) | dict.fromkeys(names, str(threads))


def start(name: str, job: str, threads: int) -> Worker | None:
    """Start a worker and wait until it is built and warm; None (with the reason) when it failed."""
    print(f"  building {job} ...", file=sys.stderr, flush=True)
    command = [sys.executable, str(Path(__file__).resolve()), "--worker", job]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=thread_env(threads), cwd=ROOT)
    first = proc.stdout.readline()
    message = json.loads(first) if first else {"error": f"exited with status {proc.wait()}"}
    if "error" in message:
        print(f"  {job}: left out ({message['error']})", file=sys.stderr)
        proc.kill()
        return None
    return Worker(name, job, proc, message["build_s"])


def workers_for(model: str, backends: list[str], default: str, threads: int) -> list[Worker]:
    """symdl and the hand-written step per backend, symdl's Python API on the model's default backend
    (chosen by symdl.load itself), PyTorch, and the matrix products alone."""
    actual = {b: default if b == "default" else b for b in backends}
    jobs = [(f"{impl} {b}", f"{model}:{impl}:{actual[b]}") for b in backends for impl in ("symdl", "hand")]
    jobs += [("api default", f"{model}:api:default"), ("torch", f"{model}:torch:-"), ("gemm", f"{model}:gemm:-")]
    return [w for name, job in jobs if (w := start(name, job, threads)) is not None]


def time_bursts(workers: list[Worker], rounds: int, burst_s: float) -> None:
    """Alternate bursts of about `burst_s` seconds; the order reverses every round."""
    sizes = {}
    for w in workers:  # a first short burst sizes the rest by its fastest step: the first steps after a pause run slow
        probe = w.burst(5)
        sizes[w.name] = max(3, round(burst_s / max(min(probe["times"]), 1e-6)))
        w.bursts.clear()
    for r in range(rounds):
        for w in workers if r % 2 == 0 else reversed(workers):
            time.sleep(SETTLE_S)
            w.burst(sizes[w.name])


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def summarise(workers: list[Worker]) -> dict[str, dict]:
    """Per implementation: median ms per step over all steps, the 10-90% spread of burst medians, load."""
    out = {}
    for w in workers:
        steps = [t * 1e3 for b in w.bursts for t in b["times"]]
        medians = w.medians_ms()
        out[w.name] = {
            "median_ms": statistics.median(steps),
            "p10_ms": percentile(medians, 0.1),
            "p90_ms": percentile(medians, 0.9),
            "steps": len(steps),
            "others_load": statistics.mean(b["others_load"] for b in w.bursts),
            "build_s": w.build_s,
            "bursts": w.bursts,
        }
    return out


def resolved_backend(model: str) -> str:
    """The backend of the model's `train`, as `symdl run` and `symdl.load` choose it (the model's `backend` hyper,
    else `auto`'s pick for that function)."""
    import symdl

    return symdl.load(ROOT / SPECS[model].file).backend_of("train")


def ratio(a: dict | None, b: dict | None) -> str:
    return "n/a" if not a or not b else f"{a['median_ms'] / b['median_ms']:.2f}x"


def table_rows(model: str, backends: list[str], impls: dict[str, dict], default: str) -> list[list[str]]:
    """One row per backend: each implementation's median [spread], then the ratios."""

    def cell(name: str) -> str:
        r = impls.get(name)
        return "n/a" if r is None else f"{r['median_ms']:.3f} [{r['p10_ms']:.3f}-{r['p90_ms']:.3f}]"

    rows = []
    for b in backends:
        shown = default if b == "default" else b
        symdl, hand, torch = impls.get(f"symdl {b}"), impls.get(f"hand {b}"), impls.get("torch")
        api = impls.get("api default") if shown == default else None
        rows.append(
            [model, f"{b} ({shown})" if b == "default" else b, cell(f"symdl {b}"), cell(f"hand {b}"), cell("torch"), cell("gemm")]
            + [ratio(symdl, hand), ratio(symdl, torch), ratio(api, symdl), ratio(impls.get("gemm"), symdl)]
        )
    return rows


HEADER = ["model", "backend", "symdl ms", "hand ms", "torch ms", "products ms", "symdl/hand", "symdl/torch", "api/symdl", "products/step"]


def print_table(rows: list[list[str]], file=sys.stdout) -> None:
    rows = [HEADER, *rows]
    widths = [max(len(c) for c in column) for column in zip(*rows, strict=True)]
    for line in rows:
        print(
            "  ".join(c.ljust(w) if i < 2 else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths, strict=True))), file=file, flush=True
        )


def package_version(name: str) -> str:
    try:
        return f"{name} {version(name)}"
    except PackageNotFoundError:
        return f"{name} not installed"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="mlp,logreg,rbm,da,lenet,mlp_dropout", help="comma-separated: " + ", ".join(SPECS))
    p.add_argument("--backends", default="default,numba,c,jax", help="comma-separated: default, numba, c, jax")
    p.add_argument("--rounds", type=int, default=12, help="bursts per implementation")
    p.add_argument("--burst-s", type=float, default=0.3, help="seconds per burst (roughly)")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--json", type=Path, help="write every figure and burst here")
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    args.models, args.backends = args.models.split(","), list(dict.fromkeys(args.backends.split(",")))
    unknown = [m for m in args.models if m not in SPECS] + [b for b in args.backends if b != "default" and b not in PYTENSOR_MODES]
    if unknown:
        p.error(f"unknown model or backend: {', '.join(unknown)}")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.worker:
        return serve(args.worker)
    peak = peak_gflops()
    results, rows = {}, []
    for model in args.models:
        default = resolved_backend(model)
        # `c` beside a `default` that is c: once; `c` alone: c
        backends = [b for b in args.backends if b == "default" or b != default or "default" not in args.backends]
        workers = workers_for(model, backends, default, args.threads)
        try:
            time_bursts(workers, args.rounds, args.burst_s)
        finally:
            for w in workers:
                w.close()
        impls = summarise(workers)
        results[model] = {"default_backend": default, "implementations": impls}
        rows += table_rows(model, backends, impls, default)
        print_table(rows[-len(backends) :], file=sys.stderr)  # each model as it is done; the whole table at the end
        if args.json:
            args.json.write_text(json.dumps({"peak_gflops": peak, "threads": args.threads, "models": results}, indent=1))
    print(
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores; "
        f"{', '.join(map(package_version, ('pytensor', 'numba', 'torch', 'numpy')))}; "
        f"{args.threads} threads; float32 matrix-product peak {peak:.0f} GFLOP/s (NumPy, 1024^3)"
    )
    print("median ms per training step [10th-90th percentile of burst medians]; products = the step's matrix products alone in NumPy")
    print_table(rows)
    loads = [b["others_load"] for r in results.values() for i in r["implementations"].values() for b in i["bursts"]]
    print(f"load from other processes during the bursts: mean {statistics.mean(loads):.2f}, max {max(loads):.2f} cores")
    if args.json:
        args.json.write_text(json.dumps({"peak_gflops": peak, "threads": args.threads, "models": results}, indent=1))
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
