"""`symdl run`: train a model with its recipes into a run directory; `--resume` continues one."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.runtime.config import RunConfig


def cmd_run(config: RunConfig) -> int:
    """Check, compile and train; the run directory gets config.json, metrics, checkpoints, summary and curves."""
    from symdl.api import open_model
    from symdl.runtime.session import Session

    config = resumed(config) if config.resume else config
    if config.file is None:
        fail("E743", None, hint="symdl run FILE.sdl, or symdl run --resume RUNDIR")
    c, model = open_model(config, verbose=not config.quiet, warn=True)
    _check_runnable(config, c.optimized)
    rundir = _rundir(config, c.optimized.name)
    unguarded = replace(config, nan_guard=False).backend_for(c.optimized)
    if config.nan_guard and unguarded != "c":  # the guard checks values in PyTensor's Python/C VM
        print(f"--nan-guard runs on the C backend (not {unguarded}): it checks each node's values as they are made", file=sys.stderr)
    s = Session(model, rundir)
    first, record = 0, None
    if config.resume:
        first, record = _restore(s, rundir)
        if first >= len(c.optimized.recipes):
            print(f"nothing to resume: the run in {rundir.path} finished (see its summary.json)", file=sys.stderr)
            return 0
    else:
        rundir.write_config(c.optimized.name, model.hypers, model.backend, model.backends(), config)
    print(headline(c), file=sys.stderr)
    try:
        return _train(s, rundir, first, record)
    finally:
        model.close()


def _check_runnable(config: RunConfig, program) -> None:
    """A run statement and data of kinds that exist, before anything compiles (the elaborator checked each
    recipe call against its declaration)."""
    from symdl.runtime.session import check_data_kinds

    if not program.recipes:
        fail("E731", None, hint="add e.g. `run epochs(train, data = digits, epochs = 10)`", file=config.file)
    check_data_kinds(program)


def _rundir(config: RunConfig, model: str):
    """The directory this run writes: the resumed one, `--out` (which must not hold a run), or runs/MODEL-TIMESTAMP."""
    from symdl.runtime.rundir import RunDir

    if config.resume:
        return RunDir(config.resume)
    if config.out is None:
        return RunDir.fresh(Path("runs"), model)
    if (config.out / "config.json").exists():
        fail("E732", None, hint=f"choose another --out, or continue that run with symdl run --resume {config.out}", path=config.out)
    return RunDir(config.out)


def _train(s, rundir, first: int, record: dict | None) -> int:
    """Each stage's recipe from `first` (at the checkpoint's position when resuming); exit status of the run."""
    from symdl.runtime.nanguard import NonFiniteStop
    from symdl.runtime.recipes import run_recipe

    recipes = s.model.program.recipes
    _stop_on_ctrl_c(s)
    try:
        for k in range(first, len(recipes)):
            s.start_stage(k, record.get("position") if record is not None and k == first else None)
            s.progress.update(run_recipe(s, recipes[k]))
    except KeyboardInterrupt:
        return _interrupted(s, rundir)
    except NonFiniteStop as stop:  # only raised under --nan-guard; the faulting step's updates were not applied
        s.checkpoint()
        rundir.summary({**s.progress, "status": "nan", "fault": stop.summary()})
        print(stop.render(), file=sys.stderr)
        print(f"stopped: checkpoint (the parameters before that step) saved to {rundir.path}/params.npz", file=sys.stderr)
        return 1
    s.start_stage(len(recipes))
    s.checkpoint()
    summary = dict(s.progress)
    scalars = {k: float(v) for k, v in s.model.values().items() if v.ndim == 0 and k in s.model.params}
    rundir.summary({**summary, **({"params": scalars} if scalars else {})})
    rundir.plot()
    _print_saved(rundir, summary)
    return 0


def _print_saved(rundir, summary: dict) -> None:
    """The files a finished run wrote and its scalar results."""
    written = sorted(p.name for p in rundir.path.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"run saved to {rundir.path}/ ({', '.join(written)})")
    print(
        "  "
        + "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items() if not isinstance(v, (list, dict)))
    )


def resumed(config: RunConfig) -> RunConfig:
    """`--resume DIR`: the run's model file, overrides and options from its config.json, unless given again."""
    from symdl.runtime.rundir import read_config

    saved = read_config(config.resume)
    if not saved or not (config.resume / "params.npz").is_file():
        fail("E733", None, hint="give the directory a `symdl run` wrote (config.json, params.npz)", path=config.resume)
    source = Path(saved["source"])
    if config.file is not None and config.file.resolve() != source.resolve():
        fail(
            "E735",
            None,
            hint=f"symdl run --resume {config.resume} (the model file comes from its config.json)",
            file=config.file,
            path=config.resume,
            source=source,
        )
    if config.overrides or config.out:
        fail("E736", None, hint="start a new run to change hyperparameters; --max-epochs may extend the resumed one")
    return config.resumed(source, saved)


def _restore(s, rundir) -> tuple[int, dict]:
    """Values, the draws' generator and the recipe's position from the last checkpoint; the stage to continue."""
    from symdl.runtime.rundir import DAMAGED_HINT

    arrays, record = rundir.reopen()
    s.restore(s.model.checked_params(arrays, rundir.path / "params.npz"))
    if record.get("random_state"):
        try:
            s.model.set_random_state(record["random_state"])
        except (TypeError, ValueError, KeyError) as err:
            fail("E719", None, hint=DAMAGED_HINT, path=rundir.path / "params.npz", reason=str(err))
    s.progress.update(record.get("progress", {}))
    stage = int(record.get("stage", 0))
    print(f"resuming {rundir.path} at stage {stage + 1}, position {_position_brief(record.get('position', {}))}", file=sys.stderr)
    return stage, record


def _position_brief(position: dict) -> str:
    return ", ".join(f"{k} {position[k]}" for k in ("layer", "epoch", "batch") if k in position) or "its start"


def _stop_on_ctrl_c(session) -> None:
    """The first Ctrl-C or SIGTERM (what `kill` and schedulers send) stops training at the next step
    boundary (a signal inside a Numba call would surface as a SystemError); a second one interrupts at once."""
    import signal

    def handler(signum, frame):
        session.stop_signal = signum
        if session.stop_requested or session.model.compiling:  # a compile holds no training step: stop now
            raise KeyboardInterrupt
        session.stop_requested = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _interrupted(s, rundir) -> int:
    """Checkpoint, summary (status interrupted) and curves; exit 130 for Ctrl-C, 143 for SIGTERM, as shells report them."""
    s.checkpoint()
    rundir.summary({**s.progress, "status": "interrupted", "interrupted": True})
    rundir.plot()
    print(f"interrupted: checkpoint saved to {rundir.path}/params.npz (symdl run --resume {rundir.path} continues)", file=sys.stderr)
    return 128 + int(s.stop_signal)


def headline(c) -> str:
    """One line about a compiled model: its stages, functions, parameter count and state."""
    p = c.optimized
    count = sum(_size(n.type.shape) for n in p.params)
    return (
        f"{c.source.name}: model {p.name}, {len(p.recipes)} stage(s), {len(p.functions)} function(s), "
        f"{_human(count)} parameters, {len(p.states)} state value(s)"
    )


def _size(shape: tuple) -> int:
    total = 1
    for d in shape:
        total *= d or 1
    return total


def _human(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)
