"""`symdl sweep`: many runs of one model over a search space of its hypers, on Ray Tune.

The space is checked against the model before Ray starts; Ray loads only when a sweep runs.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.runtime.rundir import RunDir
from symdl.sweep.plan import PLAN_FILE, Plan, check_space, trial_count
from symdl.sweep.space import parse_file, parse_option

DEFAULT_SAMPLES = 10  # trials of a sampled space when --trials is not given


def add_arguments(p: argparse.ArgumentParser, count) -> None:
    """The sweep's own options (the CLI adds FILE, --set, --exclude, --data, --train-limit and --backend); `count` parses N >= 1."""
    space = p.add_argument_group("search space")
    space.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2", help="try each value (every combination of the grids)")
    space.add_argument(
        "--sample",
        action="append",
        default=[],
        metavar="NAME=DIST(ARGS)",
        help="uniform, loguniform, randint, lograndint (low, high) or choice(...)",
    )
    space.add_argument(
        "--space", type=Path, metavar="FILE", help="a space file: `lr ~ loguniform(1e-4, 1e-1)`, `n_hidden = 500, 1000`, one a line"
    )
    space.add_argument(
        "--trials", type=count, help=f"draws per grid point (default 1 for a grid, {DEFAULT_SAMPLES} with --sample or --search)"
    )
    p.add_argument("--max-epochs", type=count, help="cap the epochs of every trial (and ASHA's longest trial)")
    p.add_argument("--out", type=Path, help="sweep directory (default runs/sweep-MODEL-TIMESTAMP)")
    p.add_argument("--workers", type=count, help="trials at once (default: the core count of a local Ray)")
    p.add_argument("--address", help="join this Ray cluster (e.g. auto, or HOST:6379) instead of starting a local Ray")
    p.add_argument("--scheduler", choices=("asha",), help="asha: stop the trials whose validation measure lags (early)")
    p.add_argument("--search", choices=("optuna",), help="optuna: choose each trial's values from the trials so far")
    p.add_argument(
        "--mode", choices=("min", "max"), default="min", help="whether a lower or higher validation measure is better (default min)"
    )
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted sweep (finished trials are not rerun)")


def cmd_sweep(args) -> int:
    """Check the space, run the trials on Ray Tune, write sweep.csv and the pictures, name the best trial."""
    plan, out = _resume(args) if args.resume else _new_plan(args)
    try:
        from symdl.sweep import tuner
    except ImportError as err:
        fail("E750", None, hint="pip install 'symdl[sweep]'", name=err.name)
    from symdl.sweep.pictures import draw
    from symdl.sweep.results import collect, summary_lines, write_csv

    ray_seconds = tuner.start_ray(args.workers, args.address)
    where = f"the Ray cluster at {args.address}" if args.address else "a local Ray"
    print(
        f"{plan.model}: {plan.total} trial(s) on {where} (started in {ray_seconds:.1f} s), ranked by {plan.measure} ({plan.mode})",
        file=sys.stderr,
        flush=True,
    )
    started = time.perf_counter()
    results, interrupted = tuner.fit(plan, out, bool(args.resume), args.workers)
    trials = collect(plan, out, results, interrupted)
    write_csv(plan, trials, out / "sweep.csv")
    draw(plan, trials, out)
    print(f"trials took {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print("\n".join(summary_lines(plan, trials, out)))
    if interrupted:
        print(f"interrupted: symdl sweep --resume {out} continues (finished trials are kept)", file=sys.stderr)
        return 130
    return 0


def _new_plan(args) -> tuple[Plan, Path]:
    if args.file is None:
        fail("E743", None, hint="symdl sweep FILE.sdl --grid lr=0.01,0.1, or symdl sweep --resume DIR")
    axes = [parse_option(t, "--grid") for t in args.grid] + [parse_option(t, "--sample") for t in args.sample]
    axes += parse_file(args.space) if args.space else []
    if not axes:
        fail("E751", None, hint='give --grid lr=0.01,0.1, --sample "lr=loguniform(1e-4,1e-1)" or --space FILE')
    model, measure = check_space(args.file, axes, args.overrides)
    sampled = args.search or any(a.dist != "grid" for a in axes)
    samples = args.trials or (DEFAULT_SAMPLES if sampled else 1)
    out = args.out or RunDir.fresh(Path("runs"), f"sweep-{model}").path
    if (out / PLAN_FILE).exists():
        fail("E752", None, hint=f"choose another --out, or continue it with symdl sweep --resume {out}", path=out)
    plan = Plan(
        str(args.file),
        str(args.file.resolve()),
        model,
        [{"name": a.name, "dist": a.dist, "texts": list(a.texts)} for a in axes],
        measure,
        args.mode,
        samples,
        trial_count(axes, samples, args.search),
        sets=list(args.overrides),
        exclude=list(args.exclude),
        max_epochs=args.max_epochs,
        train_limit=args.train_limit,
        backend=args.backend,
        data=str(Path(args.data).resolve()) if args.data else None,
        scheduler=args.scheduler,
        search=args.search,
    )
    out.mkdir(parents=True, exist_ok=True)
    plan.save(out)
    return plan, out.resolve()


def _resume(args) -> tuple[Plan, Path]:
    settings = ("file", "grid", "sample", "space", "overrides", "exclude", "trials", "max_epochs", "train_limit", "backend", "data")
    given = [name for name in (*settings, "out", "scheduler", "search") if getattr(args, name)]
    if given:
        flags = ", ".join("FILE" if n == "file" else "--set" if n == "overrides" else "--" + n.replace("_", "-") for n in given)
        fail("E753", None, hint="start a new sweep to change its space or its runs; --workers and --address may change", flags=flags)
    return Plan.load(args.resume), args.resume.resolve()
