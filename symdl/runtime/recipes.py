"""Recipes: schedules of compiled functions over data, and when to stop.

A recipe never holds a model's mathematics: it calls the model's compiled
functions, logs what they return, keeps the best parameters and decides when to stop.
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.elaborate.values import DataField, FnRef, kind_of
from symdl.ir.nodes import DataSpec, Node, Program, RecipeCall
from symdl.runtime.pictures import filters_picture, save_picture, square_side, tile
from symdl.runtime.progress import epoch_bar, format_metrics
from symdl.runtime.session import BoundFunction, Session

RECIPES: dict[str, Callable] = {}
FUNCTION_ARGS = ("train", "validate", "valid", "test", "sample", "draw")
TENSOR_ARGS = ("filters", "chain")  # a parameter or state, passed to the recipe by name


def recipe(fn: Callable) -> Callable:
    RECIPES[fn.__name__] = fn
    return fn


@dataclass
class Bound:
    """A recipe call's arguments, checked: function names, the dataset, numbers, input bindings."""

    values: dict[str, object]
    binds: dict[str, str]


def check_recipe(call: RecipeCall, program: Program) -> Bound:
    """Check a `run` statement against its recipe's signature, before anything is compiled."""
    if call.name not in RECIPES:
        fail("E207", call.span, name=call.name, hint=did_you_mean(call.name, list(RECIPES)) or f"recipes: {', '.join(RECIPES)}")
    params = [p for p in inspect.signature(RECIPES[call.name]).parameters.values() if p.name not in ("s", "binds")]
    names = [p.name for p in params]
    if len(call.args) > len(names):
        fail("E300", call.span, callee=call.name, expected=len(names), got=len(call.args))
    values = dict(zip(names, call.args))
    binds: dict[str, str] = {}
    inputs = {i.name for i in program.inputs}
    for key, value in call.kwargs:
        if isinstance(value, DataField) and key in inputs:
            binds[key] = value.field
        elif key in names:
            values[key] = value
        else:
            fail("E205", call.span, name=key, callee=call.name, hint=did_you_mean(key, names) or f"parameters: {', '.join(names)}")
    for p in params:
        if p.name not in values:
            if p.default is inspect.Parameter.empty:
                fail("E301", call.span, name=p.name, callee=call.name)
            values[p.name] = p.default
    _check_kinds(call, values, program)
    return Bound(values, binds)


def _check_kinds(call: RecipeCall, values: dict[str, object], program: Program) -> None:
    functions = [f.name for f in program.functions]
    for name, value in values.items():
        if name in FUNCTION_ARGS and value is not None and not isinstance(value, FnRef):
            fail("E303", call.span, what=f"'{name}' of {call.name}", expected=f"a function ({', '.join(functions)})", got=repr(value))
        if name == "data" and not isinstance(value, DataSpec):
            fail("E303", call.span, what=f"'data' of {call.name}", expected="a dataset declared with data", got=repr(value))
        if name in TENSOR_ARGS:
            if value is not None and not (isinstance(value, Node) and value.op in ("param", "state")):
                fail("E303", call.span, what=f"'{name}' of {call.name}", expected="a parameter or a state", got=kind_of(value))
        elif name == "start":
            if value is not None and not isinstance(value, DataField):
                fail("E303", call.span, what=f"'start' of {call.name}", expected="a data field such as digits.x", got=kind_of(value))
        elif name not in FUNCTION_ARGS and name != "data" and value is not None and not isinstance(value, (int, float)):
            fail("E303", call.span, what=f"'{name}' of {call.name}", expected="a number", got=repr(value))


def run_recipe(s: Session, call: RecipeCall) -> dict[str, object]:
    bound = check_recipe(call, s.model.program)
    args = {k: (v.name if isinstance(v, (FnRef, Node)) else v) for k, v in bound.values.items()}
    return RECIPES[call.name](s, **args, binds=bound.binds)


def _capped(s: Session, epochs: int) -> int:
    return min(epochs, s.options.max_epochs) if s.options.max_epochs is not None else epochs


def _checkpoint(s: Session) -> None:
    if s.rundir:
        s.rundir.checkpoint(s.model.values())


@recipe
def epochs(
    s: Session, train: str, data: DataSpec, epochs: int = 1, valid: str | None = None, filters: str | None = None, binds: dict | None = None
) -> dict[str, object]:
    """Fixed epochs of minibatch SGD; `valid` (optional) is averaged over the valid split each epoch;
    `filters` (a weight matrix over square images) is drawn to filters.png after each epoch."""
    binds = binds or {}
    step = s.bind(train, data, "train", binds)
    check = s.bind(valid, data, "valid", binds) if valid else None
    total = _capped(s, epochs)
    row: dict[str, object] = {}
    for epoch in range(1, total + 1):
        started = time.perf_counter()
        costs = _train_epoch(s, step, epoch, total)
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in costs.items()}}
        if check:
            row.update({f"valid_{k}": v for k, v in check.mean_over_batches().items()})
        row["seconds"] = round(time.perf_counter() - started, 3)
        _log(s, row, total)
        _checkpoint(s)
        _draw_filters(s, filters)
        s.progress.update(epochs=epoch, final_cost=row.get(f"train_{step.outputs[0]}"))
    cost_name = f"train_{step.outputs[0]}"
    return {"epochs": total, "final_cost": row.get(cost_name), **{k: v for k, v in row.items() if k.startswith("valid_")}}


@recipe
def early_stopping(
    s: Session, train: str, validate: str, data: DataSpec, epochs: int = 1000, patience: int = 5000,
    patience_increase: float = 2, improvement_threshold: float = 0.995, validation_frequency: int | None = None,
    test: str | None = None, filters: str | None = None, binds: dict | None = None,
) -> dict[str, object]:
    """The tutorial's early stopping: validate every `validation_frequency` steps, extend patience
    on a significant improvement, keep the best parameters and report their test error;
    `filters` (a weight matrix over square images, or conv filters) is drawn to filters.png after each epoch."""
    binds = binds or {}
    step = s.bind(train, data, "train", binds)
    check = s.bind(validate, data, "valid", binds)
    tester = s.bind(test or validate, data, "test", binds) if "test" in s.dataset(data).splits else None
    frequency = validation_frequency or min(step.n_batches, patience // 2)
    best, best_epoch, best_values, test_score = math.inf, 0, None, None
    total = _capped(s, epochs)
    epoch, done = 0, False
    while epoch < total and not done:
        epoch += 1
        started = time.perf_counter()
        costs: list[float] = []
        valid = None
        for index in epoch_bar(step.n_batches, epoch, total, s.options.quiet):
            costs.append(float(step.call(index)[0]))
            s.poll()
            iteration = (epoch - 1) * step.n_batches + index
            if (iteration + 1) % frequency == 0:
                valid = check.mean_over_batches()[check.outputs[0]]
                if valid < best:
                    if valid < best * improvement_threshold:
                        patience = max(patience, int(iteration * patience_increase))
                    best, best_epoch, best_values = valid, epoch, s.model.values()
                    test_score = tester.mean_over_batches()[tester.outputs[0]] if tester else None
                    s.progress.update(best_valid_error=best, test_error=test_score, best_epoch=epoch)
            if patience <= iteration:
                done = True
                break
        row = {"epoch": epoch, f"train_{step.outputs[0]}": sum(costs) / max(len(costs), 1)}
        if valid is not None:
            row[f"valid_{check.outputs[0]}"] = valid
        row.update({"best_valid": best if best < math.inf else None, "test_of_best": test_score, "seconds": round(time.perf_counter() - started, 3)})
        s.progress["epochs"] = epoch
        _log(s, row, total)
        _checkpoint(s)
        _draw_filters(s, filters)
    if best_values is not None:
        s.model.set_values(best_values)  # the best model is what the run leaves behind
        _checkpoint(s)
    return {"best_valid_error": best if best < math.inf else None, "test_error": test_score, "best_epoch": best_epoch, "epochs": epoch}


def _draw_filters(s: Session, name: str | None) -> None:
    if name and s.rundir:
        canvas = filters_picture(s.model.values()[name])
        if canvas is not None:
            save_picture(s.rundir.path / "filters.png", canvas)


@recipe
def sample_chains(
    s: Session, sample: str, data: DataSpec, chain: str, start: DataField | None = None, samples: int = 10, seed: int = 123, binds: dict | None = None
) -> dict[str, object]:
    """The tutorial's sampling: persistent chains started from test examples (`start`, e.g. digits.x),
    `sample` called `samples` times; the starts and each call's first output are the rows of samples.png."""
    fn = s.model.compile(sample)
    state = s.model.values()[chain]
    split = "test" if "test" in s.dataset(data).splits else "train"
    field = s.dataset(data).splits[split][start.field if start else "x"]
    first = np.random.RandomState(seed).randint(len(field) - len(state) + 1)
    begin = field[first : first + len(state)].reshape(state.shape).astype(state.dtype)
    s.model.state[chain] = begin
    rows = [begin]
    for k in range(samples):
        rows.append(np.asarray(fn()[0]).reshape(state.shape))
        s.say(f"sample {k + 1}/{samples}")
        s.poll()
    side = square_side(state.shape[1])
    if s.rundir and side:
        images = np.stack(rows).reshape(-1, side, side)
        save_picture(s.rundir.path / "samples.png", tile(images, len(rows), len(state), scale=False))
    return {"samples": samples}


@recipe
def mcmc(s: Session, draw: str, data: DataSpec, burn_in: int = 1000, samples: int = 1000, binds: dict | None = None) -> dict[str, object]:
    """Markov chain Monte Carlo: `burn_in` calls of `draw`, then `samples` calls whose first output
    (positions, one row per chain) is kept. Its other outputs are reported as they end; when the data
    holds the target's `mu` and `cov`, the errors of the samples' mean and covariance too."""
    fn_ir = s.model.function(draw)
    target = s.dataset(data).splits["train"]
    feeds = [_whole_field(fn_ir, node, target, (binds or {}).get(node.name, node.name)) for node in fn_ir.inputs]
    fn = s.model.compile(draw)
    names = [n for n, _ in fn_ir.outputs]
    kept, last = [], []
    for k in range(burn_in + samples):
        last = fn(*feeds)
        if k >= burn_in:
            kept.append(np.asarray(last[0]))
        if (k + 1) % 100 == 0:
            row = {"draw": k + 1, **{n: float(v) for n, v in zip(names[1:], last[1:]) if np.ndim(v) == 0}}
            _log(s, row, burn_in + samples)
        s.poll()
    flat = np.concatenate(kept).reshape(-1, kept[0].shape[-1]).astype(np.float64)
    result = {n: float(v) for n, v in zip(names[1:], last[1:]) if np.ndim(v) == 0}
    result["samples"] = len(flat)
    if "mu" in target and "cov" in target:
        result["mean_abs_error"] = float(np.abs(flat.mean(axis=0) - target["mu"]).mean())
        result["cov_abs_error"] = float(np.abs(np.cov(flat, rowvar=False) - target["cov"]).mean())
    return result


def _whole_field(fn, node: Node, fields: dict, name: str) -> np.ndarray:
    """A data field fed whole (not in minibatches): its shape must be the input's."""
    if name not in fields:
        fail("E208", node.span, name=name, hint=did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}")
    array = fields[name]
    if tuple(array.shape) != tuple(d if d is not None else array.shape[i] for i, d in enumerate(node.type.shape)):
        fail("E601", node.span, name=node.name, detail=f"the field '{name}' has shape {array.shape}, the input is {node.type}")
    return array


def _train_epoch(s: Session, step: BoundFunction, epoch: int, total: int) -> dict[str, float]:
    sums = [0.0] * len(step.outputs)
    for index in epoch_bar(step.n_batches, epoch, total, s.options.quiet):
        for k, value in enumerate(step.call(index)):
            sums[k] += float(value)
        s.poll()
    return {name: total_ / step.n_batches for name, total_ in zip(step.outputs, sums)}


def _log(s: Session, row: dict[str, object], total: int) -> None:
    if s.rundir:
        s.rundir.log(row)
    s.say(format_metrics(row, total))


def evaluate(s: Session, call: RecipeCall) -> dict[str, float]:
    """The measures of a recipe's validation function on the test split (`symdl eval`)."""
    bound = check_recipe(call, s.model.program)
    fn = bound.values.get("test") or bound.values.get("validate") or bound.values.get("valid") or bound.values.get("train")
    data = bound.values["data"]
    split = "test" if "test" in s.dataset(data).splits else "valid"
    measures = s.bind(fn.name, data, split, bound.binds).mean_over_batches()
    return {f"{split}_{k}": v for k, v in measures.items()}
