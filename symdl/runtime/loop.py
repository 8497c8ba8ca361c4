"""The one training loop: epochs over minibatches, which every recipe configures.

Per epoch it visits the minibatches (in order, or in a permutation drawn from the seed and the epoch), calls
each step function on each in turn, validates every N steps (keeping the best parameters and, with a
patience rule, stopping early), and logs one row. Its whole position is a small JSON record kept current
at every step boundary, so a checkpoint written on Ctrl-C continues exactly where it stopped.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from symdl.runtime.progress import epoch_bar, format_metrics
from symdl.runtime.session import BoundFunction, Session

Outputs = Sequence[float]


@dataclass
class Step:
    """A function the loop calls on each minibatch: `call(index)` returns its outputs' sums and how many calls made them."""

    name: str
    outputs: list[str]
    call: Callable[[int], tuple[Outputs, int]]

    @staticmethod
    def of(fn: BoundFunction) -> Step:
        return Step(fn.name, fn.outputs, lambda index: ([float(v) for v in fn.call(index)], 1))


@dataclass
class Patience:
    """The tutorial's rule: stop once `patience` steps pass; a validation score below `threshold` times
    the best so far extends it to `increase` times the current step."""

    patience: int
    increase: float = 2
    threshold: float = 0.995


@dataclass
class Validation:
    """`measure()` (outputs by name; the first is minimised) every `every` steps; `test()` is reported for the best."""

    measure: Callable[[], dict[str, float]]
    every: int
    patience: Patience | None = None
    test: Callable[[], dict[str, float]] | None = None


@dataclass
class Loop:
    """One stage of training: `steps` called in turn on each of `batches` minibatches, for `epochs` epochs."""

    steps: list[Step]
    batches: int
    epochs: int
    shuffle: bool = False
    seed: int = 0
    validation: Validation | None = None
    per_epoch: list[Callable[[], dict[str, float]]] = field(default_factory=list)  # more metrics for an epoch's row
    after_epoch: list[Callable[[int], None]] = field(default_factory=list)  # pictures, samples
    after_step: list[Callable[[int], None]] = field(default_factory=list)  # with the step's number from 0 (samplers)
    epoch_rows: bool = True  # a metrics row per epoch (samplers log their own rows)
    stage: str | None = None  # the row's `stage` column (layer-wise training)
    progress: bool = True  # report `epochs` and `final_cost` in an interrupted run's summary

    def order(self, epoch: int) -> np.ndarray:
        """The minibatches of `epoch` in the order visited: a permutation seeded by (seed, epoch), so a resumed run draws the same."""
        if self.shuffle:
            return np.random.RandomState(self.seed + epoch).permutation(self.batches)
        return np.arange(self.batches)

    def run(self, s: Session, base: dict | None = None, resume: dict | None = None) -> dict:
        """Train to the end (or until patience runs out); `base` goes into every position saved, `resume` is one."""
        s.model.settle()  # every function bound for this loop compiled (side by side) before its first step
        state = self._start(self.validation.patience if self.validation else None) | (resume or {})
        while state["epoch"] <= self.epochs and not state["done"]:
            self._epoch(s, state, base or {})
        if state["best_epoch"] and self.validation and self.validation.patience and s.rundir:
            s.model.set_values(s.rundir.load_best())  # the best model is what the run leaves behind
            s.checkpoint()
        return state

    def _start(self, patience: Patience | None) -> dict:
        return {
            "epoch": 1,
            "batch": 0,
            "sums": {step.name: [0.0] * len(step.outputs) for step in self.steps},
            "counts": {step.name: 0 for step in self.steps},
            "valid": None,
            "patience": patience.patience if patience else None,
            "best": math.inf,
            "best_epoch": 0,
            "test_score": None,
            "done": False,
            "row": {},
        }

    def _epoch(self, s: Session, state: dict, base: dict) -> None:
        epoch, started, order = state["epoch"], time.perf_counter(), self.order(state["epoch"])
        clock = s.clock()
        for index in epoch_bar(self.batches, epoch, self.epochs, s.options.quiet, state["batch"]):
            clock.at(step=(epoch - 1) * self.batches + index, epoch=epoch - 1)
            for step in self.steps:
                sums, count = step.call(int(order[index]))
                state["sums"][step.name] = [a + float(b) for a, b in zip(state["sums"][step.name], sums)]
                state["counts"][step.name] += count
            state["batch"] = index + 1
            iteration = (epoch - 1) * self.batches + index
            for hook in self.after_step:
                hook(iteration)
            if self.validation and (iteration + 1) % self.validation.every == 0:
                self._validate(s, state, epoch, iteration)
            if state["patience"] is not None and state["patience"] <= iteration:
                state["done"] = True
                break
            s.position = {**base, **state}
            s.poll()
        row = self._row(state, epoch, started)
        if self.epoch_rows:
            log_row(s, row, self.epochs)
        if self.progress:
            s.progress.update(epochs=epoch, final_cost=row.get(self.cost_column))
        state.update(epoch=epoch + 1, batch=0, valid=None, row=row)
        state["sums"] = {step.name: [0.0] * len(step.outputs) for step in self.steps}
        state["counts"] = {step.name: 0 for step in self.steps}
        for hook in [*self.after_epoch, *s.epoch_writers]:  # before the checkpoint: a hook that draws advances the saved generator
            hook(epoch)
        s.position = {**base, **state}
        s.checkpoint()

    def _validate(self, s: Session, state: dict, epoch: int, iteration: int) -> None:
        check = self.validation
        state["valid"] = measures = check.measure()
        score = next(iter(measures.values()))
        if check.patience is None:
            return
        if score < state["best"]:
            if score < state["best"] * check.patience.threshold:
                state["patience"] = max(state["patience"], int(iteration * check.patience.increase))
            state["best"], state["best_epoch"] = score, epoch
            state["test_score"] = next(iter(check.test().values())) if check.test else None
            if s.rundir:
                s.rundir.save_best(s.model.values())
            s.progress.update(best_valid_error=score, test_error=state["test_score"], best_epoch=epoch)

    @property
    def cost_column(self) -> str:
        """The metrics column of the first step's first output (`train_cost`): the run's `final_cost`."""
        return self._labels()[0][0]

    def _labels(self) -> list[tuple[str, str, int]]:
        """(column, step, output index) of each step output: `train_cost` for one step, `d_step_cost` for several."""
        one = len(self.steps) == 1
        return [(f"train_{o}" if one else f"{st.name}_{o}", st.name, k) for st in self.steps for k, o in enumerate(st.outputs)]

    def _row(self, state: dict, epoch: int, started: float) -> dict[str, object]:
        row: dict[str, object] = {"epoch": epoch}
        if self.stage:
            row["stage"] = self.stage
        for column, name, k in self._labels():
            row[column] = state["sums"][name][k] / max(state["counts"][name], 1)
        row.update({f"valid_{k}": v for k, v in (state["valid"] or {}).items()})
        if self.validation and self.validation.patience:
            best = state["best"] if state["best"] < math.inf else None
            row.update(best_valid=best, test_of_best=state["test_score"])
        for extra in self.per_epoch:
            row.update(extra())
        row["seconds"] = round(time.perf_counter() - started, 3)
        return row


def capped(s: Session, epochs: int) -> int:
    """A recipe's epochs, at most `--max-epochs`."""
    return min(epochs, s.options.max_epochs) if s.options.max_epochs is not None else epochs


def log_row(s: Session, row: dict[str, object], total: int) -> None:
    """One metrics row: to metrics.csv, to the terminal, and to whoever watches the run (a sweep)."""
    if "stage" not in row and s.stage_name:  # several stages: each row says which, after its counter
        first, *rest = row
        row = {first: row[first], "stage": s.stage_name, **{k: row[k] for k in rest}}
    if s.rundir:
        s.rundir.log(row)
    s.say(format_metrics(row, total))
    for watcher in s.watchers:
        watcher(dict(row))
