"""The sweep on Ray Tune: a local Ray started in-process (or a cluster joined), a Tuner over the trials.

Tune keeps its experiment state in DIR/tune, so `Tuner.restore` continues an interrupted sweep:
finished trials stay finished, unfinished ones continue from their run's checkpoint.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import time
from pathlib import Path

import ray
from ray import tune

import symdl
from symdl.sweep.plan import Plan
from symdl.sweep.space import set_text
from symdl.sweep.trial import error_line, run_dir_name, run_trial, trial_dirname

EXPERIMENT = "tune"  # DIR/tune: Tune's experiment state


def start_ray(workers: int | None, address: str | None) -> float:
    """A local Ray with `workers` CPUs (default: all), or the cluster at `address`; seconds it took (0 if one was running)."""
    if ray.is_initialized():
        return 0.0
    # a stopped trial's run answers SIGTERM with a checkpoint and its summary: give its worker time to see it out
    os.environ.setdefault("TUNE_FUNCTION_THREAD_TIMEOUT_S", "30")
    started = time.perf_counter()
    quiet = {"log_to_driver": False, "logging_level": logging.ERROR}  # each trial's output is in its run directory's log.txt
    if address:
        ray.init(address=address, **quiet)
    else:
        ray.init(num_cpus=workers or os.cpu_count(), include_dashboard=False, **quiet)
    return time.perf_counter() - started


def param_space(axes: list[dict], search: str | None) -> dict:
    """Tune's search space: a grid as grid_search (a categorical choice for Optuna), a distribution as Tune's own."""
    space = {}
    for axis in axes:
        dist, texts = axis["dist"], axis["texts"]
        if dist == "grid" and search != "optuna":
            space[axis["name"]] = tune.grid_search(list(texts))
        elif dist in ("grid", "choice"):
            space[axis["name"]] = tune.choice(list(texts))
        elif dist in ("uniform", "loguniform"):
            space[axis["name"]] = getattr(tune, dist)(float(texts[0]), float(texts[1]))
        else:  # Tune's integer ranges exclude their upper bound; ours include it, as Python's randint does
            space[axis["name"]] = getattr(tune, dist)(int(texts[0]), int(texts[1]) + 1)
    return space


def diverged(trial_id: str, result: dict) -> bool:
    """Tune's stopper: a trial whose measures went NaN or infinite stops (its result says so)."""
    return bool(result.get("diverged"))


class Progress(tune.Callback):
    """One line per trial as it ends, instead of Tune's tables and tracebacks."""

    def __init__(self, plan: Plan, out: Path) -> None:
        self.plan, self.out = plan, out

    def on_trial_complete(self, iteration: int, trials: list, trial, **info) -> None:
        result = trial.last_result or {}
        measure = result.get("measure")
        shown = f"{self.plan.measure} {measure:.4g}" if isinstance(measure, float) else "no measure"
        diverged = " (diverged: stopped)" if result.get("diverged") else ""
        self._say(trial, f"{shown} after {result.get('training_iteration', 0)} validation(s){diverged}")

    def on_trial_error(self, iteration: int, trials: list, trial, **info) -> None:
        self._say(trial, f"failed: {error_line(self.out / run_dir_name(trial.trial_id))}")

    def _say(self, trial, text: str) -> None:
        values = " ".join(set_text(k, v) for k, v in trial.config.items())
        print(f"  {run_dir_name(trial.trial_id)}  {values}: {text}", file=sys.stderr, flush=True)


def fit(plan: Plan, out: Path, resume: bool, workers: int | None) -> tuple[tune.ResultGrid, bool]:
    """Run (or continue) the sweep's trials; Tune's results and whether the sweep was interrupted."""
    trainable = tune.with_resources(
        tune.with_parameters(run_trial, plan=plan, out=str(out), symdl_root=str(Path(symdl.__file__).resolve().parents[1])), {"cpu": 1}
    )
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")  # the classic reporter honours verbose=0: Progress prints instead
    path = str(out / EXPERIMENT)
    if resume and tune.Tuner.can_restore(path):
        tuner = tune.Tuner.restore(path, trainable=trainable, resume_unfinished=True, resume_errored=False)
    else:
        tuner = tune.Tuner(
            trainable,
            param_space=param_space(plan.axes, plan.search),
            tune_config=_tune_config(plan, workers),
            run_config=_run_config(plan, out),
        )
    # SIGTERM (what `kill` and schedulers send) stops the sweep as Ctrl-C does: Tune saves its state, no worker is orphaned
    signal.signal(signal.SIGTERM, lambda signum, frame: os.kill(os.getpid(), signal.SIGINT))
    logging.getLogger("ray.tune").setLevel(logging.CRITICAL)  # a failed trial's traceback: Progress says it in one line
    results = tuner.fit()
    return results, results.num_terminated + results.num_errors < plan.total


def _tune_config(plan: Plan, workers: int | None) -> tune.TuneConfig:
    scheduler = search = None
    if plan.scheduler == "asha":
        from ray.tune.schedulers import ASHAScheduler

        scheduler = ASHAScheduler(max_t=plan.max_epochs or 100, grace_period=1, reduction_factor=2)
    if plan.search == "optuna":
        import optuna
        from ray.tune.search.optuna import OptunaSearch

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        search = OptunaSearch()
    return tune.TuneConfig(
        metric="measure",
        mode=plan.mode,
        scheduler=scheduler,
        search_alg=search,
        num_samples=plan.samples,
        max_concurrent_trials=workers,
        reuse_actors=True,  # a worker process runs trial after trial: no new Python per trial
        trial_dirname_creator=trial_dirname,
    )


def _run_config(plan: Plan, out: Path) -> tune.RunConfig:
    return tune.RunConfig(
        name=EXPERIMENT,
        storage_path=str(out.resolve()),
        stop=diverged,
        failure_config=tune.FailureConfig(max_failures=0),  # a failed run fails again: record it, go on
        verbose=0,
        callbacks=[Progress(plan, out)],
    )
