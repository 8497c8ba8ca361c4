"""Recipes: schedules of compiled functions over data, and when to stop.

A recipe never holds a model's mathematics: it calls the model's compiled
functions, logs what they return, keeps the best parameters and decides when to stop.
"""

from __future__ import annotations

import functools
import inspect
import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.elaborate.binding import REQUIRED, bind, fill_defaults
from symdl.elaborate.values import Collection, DataField, FnRef, kind_of
from symdl.ir.nodes import DataSpec, Node, Program, RecipeCall
from symdl.runtime.pictures import filters_picture, save_picture, square_side, tile
from symdl.runtime.progress import epoch_bar, format_metrics
from symdl.runtime.session import BoundFunction, Session

RECIPES: dict[str, Callable] = {}
FUNCTION_ARGS = ("train", "validate", "valid", "test", "sample", "draw", "predict", "likelihood", "generate")
TENSOR_ARGS = ("filters", "chain")  # a parameter or state, passed to the recipe by name
FUNCTION_LIST_ARGS = ("pretrain",)  # functions made in a loop, `fn pretrain[i](x) -> ...`


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
    inputs = {i.name for i in program.inputs}
    spans = call.kwarg_spans or (call.span,) * len(call.kwargs)
    kwargs = {k: (v, sp) for (k, v), sp in zip(call.kwargs, spans)}
    binds = {k: v.field for k, (v, _) in kwargs.items() if isinstance(v, DataField) and k in inputs and k not in names}
    usage = f"parameters: {', '.join(names)}"
    values = bind(call.name, names, call.args, kwargs, call.span, usage, extra=tuple(binds))
    fill_defaults(
        call.name, values, {p.name: REQUIRED if p.default is inspect.Parameter.empty else p.default for p in params}, call.span, usage
    )
    _check_kinds(call, values, program)
    return Bound(values, binds)


def _check_kinds(call: RecipeCall, values: dict[str, object], program: Program) -> None:
    functions = [f.name for f in program.functions]
    for name, value in values.items():
        if name in FUNCTION_LIST_ARGS:
            if not (isinstance(value, Collection) and all(isinstance(v, FnRef) for v in value.items.values())):
                fail(
                    "E303",
                    call.span,
                    what=f"'{name}' of {call.name}",
                    expected="functions declared in a loop, fn NAME[i](...)",
                    got=kind_of(value),
                )
            continue
        if name == "epochs" and isinstance(value, tuple):
            layers = values.get("pretrain")
            if not all(isinstance(v, int) for v in value) or (isinstance(layers, Collection) and len(value) != len(layers.items)):
                count = f"{len(layers.items)} numbers, one per layer" if isinstance(layers, Collection) else "a number or a list of numbers"
                fail("E303", call.span, what=f"'epochs' of {call.name}", expected=count, got=repr(value))
            continue
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
        if isinstance(value, (int, float)) and value < 0:  # counts, rates and thresholds: none is negative
            fail("E303", call.span, what=f"'{name}' of {call.name}", expected="zero or more", got=repr(value))


def run_recipe(s: Session, call: RecipeCall) -> dict[str, object]:
    bound = check_recipe(call, s.model.program)
    args = {k: _recipe_value(v) for k, v in bound.values.items()}
    return RECIPES[call.name](s, **args, binds=bound.binds)


def check_fields(call: RecipeCall, bound: Bound, program: Program) -> None:
    """Each input of the functions a `run` statement trains or measures has a field in its data set
    (for the built-in kinds, whose fields are known before anything loads: `symdl check`)."""
    from symdl.runtime.data import FIELDS

    spec = bound.values.get("data")
    fields = FIELDS.get(spec.kind) if isinstance(spec, DataSpec) else None
    if fields is None:
        return
    for name in recipe_functions(call):
        for node in program.function(name).inputs:
            field = bound.binds.get(node.name, node.name)
            if field not in fields:
                fail(
                    "E208",
                    call.span,
                    name=field,
                    notes=(f"input {node.name} of fn {name} is fed from it",),
                    hint=did_you_mean(field, list(fields))
                    or f"'{spec.kind}' has fields {', '.join(fields)}; bind one: {node.name} = {spec.name or 'DATA'}.FIELD",
                )


def recipe_functions(call: RecipeCall) -> list[str]:
    """The names of the functions a `run` statement passes its recipe (what `symdl compile` lists per stage)."""
    names = []
    for value in [*call.args, *(v for _, v in call.kwargs)]:
        if isinstance(value, (FnRef, Collection)):
            named = _recipe_value(value)
            names += named if isinstance(named, list) else [named]
    return names


def _recipe_value(value: object) -> object:
    """Functions and tensors go to a recipe by name; a loop's functions as a list in index order."""
    if isinstance(value, (FnRef, Node)):
        return value.name
    if isinstance(value, Collection):
        return [value.items[k].name for k in sorted(value.items)]
    return value


def _capped(s: Session, epochs: int) -> int:
    return min(epochs, s.options.max_epochs) if s.options.max_epochs is not None else epochs


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
    row: dict[str, object] = dict(s.resume.get("row", {}))
    for epoch in range(s.resume.get("epoch", 1), total + 1):
        started = time.perf_counter()
        costs = _train_epoch(s, step, epoch, total, {"row": row}, s.resume)
        row = {"epoch": epoch, **{f"train_{k}": v for k, v in costs.items()}}
        if check:
            row.update({f"valid_{k}": v for k, v in check.mean_over_batches().items()})
        row["seconds"] = round(time.perf_counter() - started, 3)
        _log(s, row, total)
        s.progress.update(epochs=epoch, final_cost=row.get(f"train_{step.outputs[0]}"))
        s.position = {"epoch": epoch + 1, "row": row}
        s.checkpoint()
        _draw_filters(s, filters)
    cost_name = f"train_{step.outputs[0]}"
    return {"epochs": total, "final_cost": row.get(cost_name), **{k: v for k, v in row.items() if k.startswith("valid_")}}


@recipe
def early_stopping(
    s: Session,
    train: str,
    validate: str,
    data: DataSpec,
    epochs: int = 1000,
    patience: int = 5000,
    patience_increase: float = 2,
    improvement_threshold: float = 0.995,
    validation_frequency: int | None = None,
    test: str | None = None,
    filters: str | None = None,
    binds: dict | None = None,
) -> dict[str, object]:
    """The tutorial's early stopping: validate every `validation_frequency` steps, extend patience
    on a significant improvement, keep the best parameters and report their test error;
    `filters` (a weight matrix over square images, or conv filters) is drawn to filters.png after each epoch.
    Its whole state is the checkpoint's position (the best parameters go to best.npz)."""
    binds = binds or {}
    step = s.bind(train, data, "train", binds)
    check = s.bind(validate, data, "valid", binds)
    tester = s.bind(test or validate, data, "test", binds) if "test" in s.dataset(data).splits else None
    frequency = validation_frequency or min(step.n_batches, patience // 2)
    total = _capped(s, epochs)
    state = {
        "epoch": 1,
        "batch": 0,
        "cost_sum": 0.0,
        "valid": None,
        "patience": patience,
        "best": math.inf,
        "best_epoch": 0,
        "test_score": None,
        "done": False,
    } | s.resume
    s.position = state
    while state["epoch"] <= total and not state["done"]:
        epoch, started = state["epoch"], time.perf_counter()
        for index in epoch_bar(step.n_batches, epoch, total, s.options.quiet, state["batch"]):
            state["cost_sum"] += float(step.call(index)[0])
            state["batch"] = index + 1
            iteration = (epoch - 1) * step.n_batches + index
            if (iteration + 1) % frequency == 0:
                state["valid"] = valid = check.mean_over_batches()[check.outputs[0]]
                if valid < state["best"]:
                    if valid < state["best"] * improvement_threshold:
                        state["patience"] = max(state["patience"], int(iteration * patience_increase))
                    state["best"], state["best_epoch"] = valid, epoch
                    state["test_score"] = tester.mean_over_batches()[tester.outputs[0]] if tester else None
                    if s.rundir:
                        s.rundir.save_best(s.model.values())
                    s.progress.update(best_valid_error=valid, test_error=state["test_score"], best_epoch=epoch)
            if state["patience"] <= iteration:
                state["done"] = True
                break
            s.poll()
        row = {"epoch": epoch, f"train_{step.outputs[0]}": state["cost_sum"] / max(state["batch"], 1)}
        if state["valid"] is not None:
            row[f"valid_{check.outputs[0]}"] = state["valid"]
        best = state["best"] if state["best"] < math.inf else None
        row.update({"best_valid": best, "test_of_best": state["test_score"], "seconds": round(time.perf_counter() - started, 3)})
        s.progress["epochs"] = epoch
        _log(s, row, total)
        state.update(epoch=epoch + 1, batch=0, cost_sum=0.0, valid=None)
        s.checkpoint()
        _draw_filters(s, filters)
    if state["best_epoch"] and s.rundir:
        s.model.set_values(s.rundir.load_best())  # the best model is what the run leaves behind
        s.checkpoint()
    best = state["best"] if state["best"] < math.inf else None
    return {"best_valid_error": best, "test_error": state["test_score"], "best_epoch": state["best_epoch"], "epochs": state["epoch"] - 1}


@recipe
def layerwise(
    s: Session, pretrain: list, data: DataSpec, epochs: int | tuple = 15, filters: str | None = None, binds: dict | None = None
) -> dict[str, object]:
    """Greedy layer-wise pretraining: each function of `pretrain` (one per layer, in index order)
    trains for `epochs` epochs (a number, or one per layer) over the train split, as a stage of its own."""
    binds = binds or {}
    finals = list(s.resume.get("finals", []))
    for k in range(s.resume.get("layer", 0), len(pretrain)):
        name = pretrain[k]
        step = s.bind(name, data, "train", binds)
        total = _capped(s, epochs[k] if isinstance(epochs, tuple) else epochs)
        costs: dict[str, float] = dict(s.resume.get("costs", {})) if k == s.resume.get("layer") else {}
        first = s.resume.get("epoch", 1) if k == s.resume.get("layer") else 1
        for epoch in range(first, total + 1):
            started = time.perf_counter()
            costs = _train_epoch(s, step, epoch, total, {"layer": k, "finals": finals}, s.resume if k == s.resume.get("layer") else None)
            row = {
                "epoch": epoch,
                "stage": name,
                **{f"train_{o}": v for o, v in costs.items()},
                "seconds": round(time.perf_counter() - started, 3),
            }
            _log(s, row, total)
            s.position = {"layer": k, "epoch": epoch + 1, "costs": costs, "finals": finals}
            s.checkpoint()
            if k == 0:
                _draw_filters(s, filters)
        finals.append(costs.get(step.outputs[0]))
        s.position = {"layer": k + 1, "finals": finals}
        s.progress.update(pretrained_layers=k + 1)
    return {"pretrain_final_costs": finals}


def _draw_filters(s: Session, name: str | None) -> None:
    if name and s.rundir:
        canvas = filters_picture(s.model.values()[name])
        if canvas is not None:
            save_picture(s.rundir.path / "filters.png", canvas)


@recipe
def sample_chains(
    s: Session,
    sample: str,
    data: DataSpec,
    chain: str,
    start: DataField | None = None,
    samples: int = 10,
    seed: int = 123,
    binds: dict | None = None,
) -> dict[str, object]:
    """The tutorial's sampling: persistent chains started from test examples (`start`, e.g. digits.x),
    `sample` called `samples` times; the starts and each call's first output are the rows of samples.png."""
    state = s.model.values()[chain]
    split = "test" if "test" in s.dataset(data).splits else "train"
    fields, name = s.dataset(data).splits[split], start.field if start else "x"
    if name not in fields:
        fail(
            "E208",
            data.span,
            name=name,
            hint=did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}; pass start = {data.name}.FIELD",
        )
    field = fields[name]
    if len(field) < len(state) or field[0].size != state[0].size:
        fail(
            "E601",
            data.span,
            name=chain,
            detail=f"the chains are {state.shape}, the {split} field '{name}' is {field.shape}",
            hint="one example per chain, with as many values as a chain's row",
        )
    fn = s.model.compile(sample)
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


@recipe
def sequences(
    s: Session,
    train: str,
    data: DataSpec,
    epochs: int = 1,
    batch: int = 100,
    valid: str | None = None,
    predict: str | None = None,
    likelihood: str | None = None,
    generate: str | None = None,
    samples: int = 2,
    step: float = 1.0,
    seed: int = 0,
    binds: dict | None = None,
) -> dict[str, object]:
    """The RNN-RBM chapter's training over pieces of music: each epoch visits the training pieces in a seeded
    random order and calls `train` on consecutive subsequences of at most `batch` frames. Per epoch: `valid`'s
    mean over the valid pieces and the frame accuracy of `predict`. After training: the test frame accuracy,
    the mean per-frame output of `likelihood` on the test set, and `samples` calls of `generate` saved as
    sampleK.mid and sampleK.png."""
    feed, compiled = _piece_feeder(s, data, binds or {}), functools.cache(s.model.compile)
    pieces = feed(train, "train")  # data problems first, before anything compiles
    step_fn, total, row = compiled(train), _capped(s, epochs), dict(s.resume.get("row", {}))
    for epoch in range(s.resume.get("epoch", 1), total + 1):
        started, costs, order = time.perf_counter(), [], np.random.RandomState(seed + epoch).permutation(len(pieces))
        for index in epoch_bar(len(pieces), epoch, total, s.options.quiet):
            piece = pieces[order[index]]
            for start in range(0, len(piece), batch):
                costs.append(float(step_fn(piece[start : start + batch])[0]))
            s.poll()
        row = {"epoch": epoch, "train_cost": float(np.mean(costs)), "seconds": round(time.perf_counter() - started, 3)}
        if valid:
            row["valid_cost"] = float(np.mean([float(compiled(valid)(p)[0]) for p in feed(valid, "valid")]))
        if predict:
            row["valid_frame_accuracy"] = _frame_accuracy(compiled(predict), feed(predict, "valid"))[0]
        _log(s, row, total)
        s.progress.update(epochs=epoch, final_cost=row["train_cost"])
        s.position = {"epoch": epoch + 1, "row": row}
        s.checkpoint()
    result: dict[str, object] = {"epochs": total, "final_cost": row.get("train_cost"), **_piece_scores(compiled, feed, predict, likelihood)}
    if generate and s.rundir:
        _save_generated(s, compiled(generate), samples, step)
    return result


def _piece_scores(compiled: Callable, feed: Callable, predict: str | None, likelihood: str | None) -> dict[str, float]:
    """The test split's figures, piece by piece: frame accuracy of `predict`, mean per-frame `likelihood`."""
    result: dict[str, float] = {}
    if predict:
        result["test_frame_accuracy"], result["test_frame_accuracy_of_means"] = _frame_accuracy(compiled(predict), feed(predict, "test"))
    if likelihood:
        started, fn, test = time.perf_counter(), compiled(likelihood), feed(likelihood, "test")
        result["test_log_likelihood"] = float(sum(np.sum(fn(p)[0]) for p in test) / sum(len(p) for p in test))
        result["likelihood_seconds"] = round(time.perf_counter() - started, 3)
    return result


def _piece_feeder(s: Session, data: DataSpec, binds: dict) -> Callable[[str, str], list[np.ndarray]]:
    """`feed(fn, split)`: the pieces of `split` for the one input of `fn` (its field by name or binding), checked."""
    from symdl.runtime.music import pieces
    from symdl.runtime.session import check_field

    def feed(fn_name: str, split: str) -> list[np.ndarray]:
        node = s.model.function(fn_name).inputs[0]
        fields = s.dataset(data).splits[split]
        name = binds.get(node.name, node.name)
        if name not in fields:
            fail(
                "E208",
                data.span,
                name=name,
                hint=did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}; bind one: {node.name} = {data.name}.x",
            )
        x = check_field(s.model, node, fields[name], split)
        return pieces({"x": x, "piece": fields["piece"]})

    return feed


def _frame_accuracy(fn: Callable, pieces: list[np.ndarray]) -> tuple[float, float]:
    """Bay et al.'s frame accuracy TP / (TP + FP + FN), summed over every frame of every piece, of `predict`'s
    first output (a prediction) and of its second (probabilities, thresholded at 0.5)."""
    from symdl.runtime.music import accuracy, frame_accuracy

    counts = np.zeros((2, 3), dtype=np.int64)
    for piece in pieces:
        outputs = fn(piece)
        for k, predicted in enumerate(outputs[:2]):
            counts[k] += frame_accuracy(predicted, piece)
    return accuracy(*counts[0]), accuracy(*counts[min(1, len(outputs) - 1)])


def _save_generated(s: Session, fn: Callable, samples: int, step: float) -> None:
    """`samples` sequences of `generate` as sampleK.mid and sampleK.png in the run directory."""
    from symdl.runtime.music import save_roll_picture, write_midi

    for k in range(1, samples + 1):
        roll = np.asarray(fn()[0])
        write_midi(roll, s.rundir.path / f"sample{k}.mid", step)
        save_roll_picture(roll, s.rundir.path / f"sample{k}.png", step, title=f"generated piano-roll {k}")
        s.say(f"sample {k}/{samples}: {len(roll)} frames, {roll.sum(axis=1).mean():.2f} notes a frame")


def _whole_field(fn, node: Node, fields: dict, name: str) -> np.ndarray:
    """A data field fed whole (not in minibatches): its shape must be the input's."""
    if name not in fields:
        fail("E208", node.span, name=name, hint=did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}")
    array = fields[name]
    if tuple(array.shape) != tuple(d if d is not None else array.shape[i] for i, d in enumerate(node.type.shape)):
        fail("E601", node.span, name=node.name, detail=f"the field '{name}' has shape {array.shape}, the input is {node.type}")
    return array


def _train_epoch(
    s: Session, step: BoundFunction, epoch: int, total: int, base: dict | None = None, resume: dict | None = None
) -> dict[str, float]:
    """One epoch; the position (`base` plus the epoch, the next batch and the sums so far) is kept
    current, so a checkpoint written on Ctrl-C continues mid-epoch; `resume` is such a position."""
    mid = resume if resume and resume.get("epoch") == epoch and "batch" in resume else {}
    sums = list(mid.get("sums", [0.0] * len(step.outputs)))
    for index in epoch_bar(step.n_batches, epoch, total, s.options.quiet, mid.get("batch", 0)):
        for k, value in enumerate(step.call(index)):
            sums[k] += float(value)
        s.position = {**(base or {}), "epoch": epoch, "batch": index + 1, "sums": sums}
        s.poll()
    return {name: total_ / step.n_batches for name, total_ in zip(step.outputs, sums)}


def _log(s: Session, row: dict[str, object], total: int) -> None:
    if "stage" not in row and s.stage_name:  # several stages: each row says which, after its counter
        first, *rest = row
        row = {first: row[first], "stage": s.stage_name, **{k: row[k] for k in rest}}
    if s.rundir:
        s.rundir.log(row)
    s.say(format_metrics(row, total))


EVALUATORS = ("test", "validate", "valid", "evaluate")  # functions a recipe names for measuring, never for training


def evaluator(bound: Bound, program: Program) -> FnRef | None:
    """The function a checked `run` statement measures with, if it has one (training functions update: never these)."""
    fn = next((bound.values.get(k) for k in EVALUATORS if isinstance(bound.values.get(k), FnRef)), None)
    return fn if fn is not None and not program.function(fn.name).updates else None


def evaluate(s: Session, call: RecipeCall) -> dict[str, float]:
    """The measures of a recipe's validation function on the test split (`symdl eval`)."""
    bound = check_recipe(call, s.model.program)
    fn = evaluator(bound, s.model.program)
    data = bound.values["data"]
    split = "test" if "test" in s.dataset(data).splits else "valid"
    if call.name == "sequences":  # pieces of music: each scored on its own, as the run scores them
        feed, compiled = _piece_feeder(s, data, bound.binds), functools.cache(s.model.compile)
        cost = float(np.mean([float(compiled(fn.name)(p)[0]) for p in feed(fn.name, split)]))
        return {
            f"{split}_cost": cost,
            **_piece_scores(compiled, feed, *(_recipe_value(bound.values.get(k)) for k in ("predict", "likelihood"))),
        }
    measures = s.bind(fn.name, data, split, bound.binds).mean_over_batches()
    return {f"{split}_{k}": v for k, v in measures.items()}
