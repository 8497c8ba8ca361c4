"""Recipes: configurations of the one loop (`symdl/runtime/loop.py`) over a model's compiled functions.

Each recipe's parameters and their kinds are declared in `symdl/ir/recipes.py` (checked when the model is
elaborated); here each name maps to the function that configures the loop from a checked `RecipeCall`.
A recipe never holds a model's mathematics: it schedules functions over data and decides when to stop.
"""

from __future__ import annotations

import math
from collections.abc import Callable

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.nodes import DataSpec, Program, RecipeCall
from symdl.ir.recipes import EVALUATORS, FunctionArg, FunctionsArg
from symdl.runtime.loop import Loop, Patience, Step, Validation, capped
from symdl.runtime.samplers import mcmc, sample_chains
from symdl.runtime.sequences import evaluate_pieces, sequences
from symdl.runtime.session import Session, bind_hint
from symdl.runtime.writers import write_hooks

Args = dict[str, object]


def _steps(s: Session, call: RecipeCall, names: tuple[str, ...]) -> tuple[list[Step], int]:
    """Each training function bound to the train split; the loop visits as many minibatches as the fewest
    (a function without inputs, such as a GAN's generator step, is called once a minibatch)."""
    data, binds = call.value("data"), dict(call.binds)
    bound = [s.bind(name, data, "train", binds) for name in names]
    fed = [fn.n_batches for fn in bound if s.model.function(fn.name).inputs]
    return [Step.of(fn) for fn in bound], min(fed or [fn.n_batches for fn in bound])


def _measure(s: Session, call: RecipeCall, fn: FunctionArg, split: str) -> Callable[[], dict[str, float]]:
    bound = s.bind(fn.name, call.value("data"), split, dict(call.binds))
    return bound.mean_over_batches


def _epochs(s: Session, call: RecipeCall, a: Args) -> Args:
    """Fixed epochs of minibatch SGD, each function of `train` called in turn per minibatch; `valid`
    averaged over the valid split each epoch (or every `validation_frequency` steps)."""
    steps, batches = _steps(s, call, a["train"].names)
    loop = Loop(steps, batches, capped(s, a["epochs"]), bool(a["shuffle"]), a["seed"])
    if a["valid"]:
        loop.validation = Validation(_measure(s, call, a["valid"], "valid"), a["validation_frequency"] or batches)
    state = loop.run(s, resume=s.resume)
    row = state["row"]
    return {"epochs": loop.epochs, "final_cost": row.get(loop.cost_column), **{k: v for k, v in row.items() if k.startswith("valid_")}}


def _early_stopping(s: Session, call: RecipeCall, a: Args) -> Args:
    """The tutorial's early stopping: validate every `validation_frequency` steps, extend patience on a
    significant improvement, keep the best parameters and report their test error."""
    steps, batches = _steps(s, call, (a["train"].name,))
    data: DataSpec = call.value("data")
    tester = _measure(s, call, a["test"] or a["validate"], "test") if "test" in s.dataset(data).splits else None
    patience = Patience(a["patience"], a["patience_increase"], a["improvement_threshold"])
    every = a["validation_frequency"] or min(batches, a["patience"] // 2)
    loop = Loop(steps, batches, capped(s, a["epochs"]), bool(a["shuffle"]), a["seed"])
    loop.validation = Validation(_first(_measure(s, call, a["validate"], "valid")), every, patience, tester)
    state = loop.run(s, resume=s.resume)
    best = state["best"] if state["best"] < math.inf else None
    return {"best_valid_error": best, "test_error": state["test_score"], "best_epoch": state["best_epoch"], "epochs": state["epoch"] - 1}


def _first(measure: Callable[[], dict[str, float]]) -> Callable[[], dict[str, float]]:
    """Early stopping watches the validation function's first output."""

    def first() -> dict[str, float]:
        return dict([next(iter(measure().items()))])

    return first


def _layerwise(s: Session, call: RecipeCall, a: Args) -> Args:
    """Greedy layer-wise pretraining: each function of `pretrain` (in index order) trains for `epochs`
    epochs (a number, or one per layer) over the train split, as a stage of its own."""
    names: FunctionsArg = a["pretrain"]
    finals = list(s.resume.get("finals", []))
    for k in range(s.resume.get("layer", 0), len(names.names)):
        steps, batches = _steps(s, call, (names.names[k],))
        epochs = a["epochs"][k] if isinstance(a["epochs"], tuple) else a["epochs"]
        loop = Loop(steps, batches, capped(s, epochs), bool(a["shuffle"]), a["seed"], stage=names.names[k], progress=False)
        state = loop.run(s, {"layer": k, "finals": finals}, s.resume if k == s.resume.get("layer") else None)
        finals.append(state["row"].get(loop.cost_column))
        s.position = {"layer": k + 1, "finals": finals}
        s.progress.update(pretrained_layers=k + 1)
    return {"pretrain_final_costs": finals}


RECIPES: dict[str, Callable[[Session, RecipeCall, Args], Args]] = {
    "epochs": _epochs,
    "early_stopping": _early_stopping,
    "layerwise": _layerwise,
    "sample_chains": sample_chains,
    "mcmc": mcmc,
    "sequences": sequences,
}


def run_recipe(s: Session, call: RecipeCall) -> dict[str, object]:
    """Run one checked `run` statement, with the artifacts its `write` declares (`filters =`, `tiles =` among them)."""
    hooks = write_hooks(s, call.value("write") or ())
    s.epoch_writers = hooks["epoch"]
    result = RECIPES[call.name](s, call, dict(call.values))
    for hook in hooks["end"]:
        hook(0)
    s.epoch_writers = []
    return result


def check_fields(call: RecipeCall, program: Program) -> None:
    """Each input of the functions a `run` statement trains or measures has a field in its data set
    (for the built-in kinds, whose fields are known before anything loads: `symdl check`)."""
    from symdl.runtime.data import KINDS

    spec = call.value("data")
    fields = KINDS[spec.kind].fields if isinstance(spec, DataSpec) and spec.kind in KINDS else None
    if fields is None:
        return
    binds, fed = dict(call.binds), dict(call.feeds)
    for name in recipe_functions(call):
        for node in (i for i in program.function(name).inputs if i.name not in fed):
            field = binds.get(node.name, node.name)
            if field not in fields:
                fail(
                    "E208",
                    call.span_of("data"),
                    name=field,
                    notes=(f"input {node.name} of fn {name} is fed from it",),
                    hint=did_you_mean(field, list(fields)) or bind_hint(node, spec, fields),
                )


def recipe_functions(call: RecipeCall) -> list[str]:
    """The names of the functions a `run` statement passes its recipe (what `symdl compile` lists per stage)."""
    names: list[str] = []
    for _, value in call.values:
        if isinstance(value, FunctionArg):
            names.append(value.name)
        elif isinstance(value, FunctionsArg):
            names += value.names
    return names


def evaluator(call: RecipeCall, program: Program) -> FunctionArg | None:
    """The function a `run` statement measures with, if it has one (training functions update: never these)."""
    fn = next((call.value(k) for k in EVALUATORS if isinstance(call.value(k), FunctionArg)), None)
    return fn if fn is not None and not program.function(fn.name).updates else None


def evaluate(s: Session, call: RecipeCall) -> dict[str, float]:
    """The measures of a recipe's validation function on the test split (`symdl eval`); a scalar input the
    `run` line feeds gets its value at the `step` and `epoch` saved with the parameters (0 if the model has none)."""
    s.feeds, saved = call.feeds, s.model.values()
    s.clock().at(step=int(saved.get("step", 0)), epoch=int(saved.get("epoch", 0)))
    fn, data = evaluator(call, s.model.program), call.value("data")
    split = "test" if "test" in s.dataset(data).splits else "valid"
    if call.name == "sequences":  # pieces of music: each scored on its own, as the run scores them
        return evaluate_pieces(s, call, fn, split)
    measures = s.bind(fn.name, data, split, dict(call.binds)).mean_over_batches()
    return {f"{split}_{k}": v for k, v in measures.items()}
