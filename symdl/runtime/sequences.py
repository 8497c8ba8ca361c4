"""The RNN-RBM chapter's recipe as a configuration of the one loop: a minibatch is a piece of music,
visited in a seeded random order each epoch, and one step trains on its consecutive subsequences."""

from __future__ import annotations

import functools
import time
from collections.abc import Callable

import numpy as np

from symdl.ir.nodes import DataSpec, RecipeCall
from symdl.ir.recipes import FunctionArg
from symdl.runtime.loop import Loop, Patience, Step, Validation, capped
from symdl.runtime.session import Session
from symdl.runtime.writers import write_midi, write_piano_roll

Args = dict[str, object]


def sequences(s: Session, call: RecipeCall, a: Args) -> Args:
    """Each epoch visits the training pieces in a random order drawn from `seed` and the epoch, calling
    `train` on consecutive subsequences of at most `batch` frames. Per epoch: `valid`'s mean over the valid
    pieces and the frame accuracy of `predict`. After training: the test frame accuracy, the mean per-frame
    output of `likelihood` on the test set, and `samples` calls of `generate` saved as sampleK.mid and sampleK.png."""
    feed, compiled = _piece_feeder(s, a["data"], dict(call.binds)), functools.cache(s.compile)
    pieces = feed(a["train"].name, "train")  # data problems first, before anything compiles
    train, batch = compiled(a["train"].name), a["batch"]

    def piece_step(index: int) -> tuple[list[float], int]:
        piece = pieces[index]
        costs = [float(train(piece[start : start + batch])[0]) for start in range(0, len(piece), batch)]
        return [sum(costs)], len(costs)

    loop = Loop([Step(a["train"].name, ["cost"], piece_step)], len(pieces), capped(s, a["epochs"]), shuffle=True, seed=a["seed"])
    if a["valid"]:
        valid = compiled(a["valid"].name)

        def measure() -> dict[str, float]:
            return {"cost": float(np.mean([float(valid(p)[0]) for p in feed(a["valid"].name, "valid")]))}

        if a["patience"] is None:
            loop.per_epoch.append(lambda: {f"valid_{k}": v for k, v in measure().items()})
        else:  # validated at each epoch's end; the best parameters are what the run leaves
            rule = Patience(a["patience"], a["patience_increase"], a["improvement_threshold"])
            loop.validation = Validation(measure, len(pieces), rule)
    if a["predict"]:
        predict = compiled(a["predict"].name)
        loop.per_epoch.append(lambda: {"valid_frame_accuracy": _frame_accuracy(predict, feed(a["predict"].name, "valid"))[0]})
    state = loop.run(s, resume=s.resume)
    return _after_training(s, a, compiled, feed, state["row"].get("train_cost"), state["epoch"] - 1)


def _after_training(s: Session, a: Args, compiled: Callable, feed: Callable, final: float | None, epochs: int) -> Args:
    result: Args = {"epochs": epochs, "final_cost": final, **piece_scores(compiled, feed, a["predict"], a["likelihood"])}
    if a["generate"] and s.rundir:
        _save_generated(s, compiled(a["generate"].name), a["samples"], a["step"])
    return result


def piece_scores(compiled: Callable, feed: Callable, predict: FunctionArg | None, likelihood: FunctionArg | None) -> dict[str, float]:
    """The test split's figures, piece by piece: frame accuracy of `predict`, mean per-frame `likelihood`."""
    result: dict[str, float] = {}
    if predict:
        test = feed(predict.name, "test")
        result["test_frame_accuracy"], result["test_frame_accuracy_of_means"] = _frame_accuracy(compiled(predict.name), test)
    if likelihood:
        started, fn, test = time.perf_counter(), compiled(likelihood.name), feed(likelihood.name, "test")
        result["test_log_likelihood"] = float(sum(np.sum(fn(p)[0]) for p in test) / sum(len(p) for p in test))
        result["likelihood_seconds"] = round(time.perf_counter() - started, 3)
    return result


def evaluate_pieces(s: Session, call: RecipeCall, fn: FunctionArg, split: str) -> dict[str, float]:
    """`symdl eval` of a `sequences` run: each piece scored on its own, as the run scores them."""
    feed, compiled = _piece_feeder(s, call.value("data"), dict(call.binds)), functools.cache(s.compile)
    cost = float(np.mean([float(compiled(fn.name)(p)[0]) for p in feed(fn.name, split)]))
    return {f"{split}_cost": cost, **piece_scores(compiled, feed, call.value("predict"), call.value("likelihood"))}


def _piece_feeder(s: Session, data: DataSpec, binds: dict) -> Callable[[str, str], list[np.ndarray]]:
    """`feed(fn, split)`: the pieces of `split` for the one input of `fn` (its field by name or binding), checked."""
    from symdl.runtime.music import pieces

    def feed(fn_name: str, split: str) -> list[np.ndarray]:
        first = next(i for i in s.model.function(fn_name).inputs if i.name not in s.fed)
        x = s.field_for(first, data, split, binds)
        return pieces({"x": x, "piece": s.dataset(data).splits[split]["piece"]})

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
    for k in range(1, samples + 1):
        roll = np.asarray(fn()[0])
        write_midi(s.rundir.path, f"sample{k}", roll, step)
        write_piano_roll(s.rundir.path, f"sample{k}", roll, step, title=f"generated piano-roll {k}")
        s.say(f"sample {k}/{samples}: {len(roll)} frames, {roll.sum(axis=1).mean():.2f} notes a frame")
