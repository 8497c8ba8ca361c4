"""A training session: data loaded and checked against the declarations, functions bound to it.

Data lives in PyTensor shared variables; a bound function takes a minibatch index,
as the tutorial's functions do, so a training step copies no data.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import InternalError, did_you_mean
from symdl.ir.nodes import DataSpec, Node, toposort
from symdl.ir.types import NUMPY_DTYPE
from symdl.lowering.device import device_array, hold
from symdl.runtime.config import RunConfig
from symdl.runtime.data import DataError, Dataset, load_dataset
from symdl.runtime.model import Clock, Model
from symdl.runtime.rundir import RunDir

KEPT = "__kept__."  # prefix of a sampler's draws so far in params.npz (run records, never parameters)


@dataclass
class BoundFunction:
    """A compiled function over one split of a dataset: call it with a minibatch index."""

    name: str
    call: object
    n_batches: int
    outputs: list[str]

    def mean_over_batches(self) -> dict[str, float]:
        """Each output averaged over every minibatch of the split (the tutorial's validation)."""
        totals = np.zeros(len(self.outputs))
        for index in range(self.n_batches):
            totals += [float(v) for v in self.call(index)]
        return dict(zip(self.outputs, (totals / max(self.n_batches, 1)).tolist()))


class Rebound:
    """A function compiled once over shared slots, fed one split's arrays: switching splits swaps the
    slots' values (no copy, no second compile), so `validate` serves the valid and the test split.
    The compile may still be under way in the background (`Model.compile_soon`): the first call waits."""

    def __init__(self, model: Model, pending, slots: dict[str, object], arrays: dict[str, np.ndarray]) -> None:
        self.model, self.pending, self.slots, self.arrays = model, pending, slots, arrays
        self.compiled = None

    def __call__(self, index: int):
        if self.compiled is None:
            self.compiled = self.model.ready(self.pending)
        if self.slots["__active__"] is not self:
            for name, array in self.arrays.items():
                hold(self.slots[name], array)
            self.slots["__active__"] = self
        return self.compiled(index)


@dataclass
class Session:
    model: Model
    rundir: RunDir | None = None
    progress: dict[str, object] = field(default_factory=dict)  # what an interrupted run reports
    stop_requested: bool = False  # set by Ctrl-C or SIGTERM; honoured between steps, never inside a compiled call
    stop_signal: int = 2  # the signal that asked to stop (SIGINT unless SIGTERM): the exit status is 128 + it
    stage: int = 0  # which `run` statement is running
    position: dict = field(default_factory=dict)  # where its recipe is; saved with every checkpoint
    resume: dict = field(default_factory=dict)  # the position to continue from (`--resume`), for this stage
    kept: dict[str, list] = field(default_factory=dict)  # what a sampler has drawn so far; saved with every checkpoint
    watchers: list = field(default_factory=list)  # called with each metrics row (a sweep's per-epoch report)
    epoch_writers: list = field(default_factory=list)  # the stage's writers run after every epoch (`run_recipe`)
    feeds: tuple = ()  # this stage's scalar inputs fed per call: (input, expression), `RecipeCall.feeds`
    _datasets: dict[str, Dataset] = field(default_factory=dict)
    _compiled: dict[tuple, tuple] = field(default_factory=dict)  # (fn, batch) -> its compile (`Pending`) and its slots
    _bound: dict[tuple, BoundFunction] = field(default_factory=dict)

    @property
    def options(self) -> RunConfig:
        """The run's settings (epochs cap, data, quiet), the model's own."""
        return self.model.config

    def checkpoint(self) -> None:
        """Values, the draws' generator and the recipe's position, in one atomic file: `--resume` continues exactly."""
        if self.rundir:
            record = {"stage": self.stage, "position": self.position, "random_state": self.model.random_state(), "progress": self.progress}
            kept = {f"{KEPT}{name}": np.stack(rows) for name, rows in self.kept.items() if rows}
            self.rundir.checkpoint({**self.model.values(), **kept}, record)

    def restore(self, arrays: dict[str, np.ndarray]) -> None:
        """Values and a sampler's draws so far from a checkpoint (`--resume`)."""
        self.model.set_values(arrays)
        self.kept = {name[len(KEPT) :]: list(rows) for name, rows in arrays.items() if name.startswith(KEPT)}

    def start_stage(self, stage: int, resume: dict | None = None) -> None:
        self.stage, self.position, self.resume = stage, {}, dict(resume or {})
        recipes = self.model.program.recipes
        self.feeds = recipes[stage].feeds if stage < len(recipes) else ()

    @property
    def fed(self) -> tuple[str, ...]:
        """The scalar inputs this stage's `run` line feeds per call (read from shared scalars, not data)."""
        return tuple(name for name, _ in self.feeds)

    def clock(self) -> Clock:
        """What the loop sets at each position: `step`, `epoch` and the scalar inputs fed from them."""
        return self.model.clock(self.feeds)

    def compile(self, name: str):
        """`name` compiled to take its data inputs as arguments, the fed scalars read from their slots."""
        return self.model.compile(name, fed=self.fed)

    @property
    def stage_name(self) -> str | None:
        """The running recipe's name when the model has several stages (metrics.csv's `stage` column)."""
        recipes = self.model.program.recipes
        return recipes[self.stage].name if len(recipes) > 1 and self.stage < len(recipes) else None

    def poll(self) -> None:
        """Stop here (between two compiled calls) if Ctrl-C was pressed."""
        if self.stop_requested:
            raise KeyboardInterrupt

    def say(self, text: str) -> None:
        if not self.options.quiet:
            print(text, file=sys.stderr, flush=True)

    # ---- data ---------------------------------------------------------------------------------
    def dataset(self, spec: DataSpec) -> Dataset:
        if spec.name not in self._datasets:
            self._datasets[spec.name] = self._load(spec)
        return self._datasets[spec.name]

    def _load(self, spec: DataSpec) -> Dataset:
        try:
            kind, path = ("file", spec.kind[5:]) if spec.kind.startswith("path:") else (spec.kind, None)
            data = load_dataset(kind, dict(spec.options), path=self.options.data or path)  # --data keeps the options
            if self.options.train_limit:
                data = data.limit_train(self.options.train_limit)
        except DataError as err:
            raise err.located(spec.span) from None
        return data

    def bind(self, fn_name: str, spec: DataSpec, split: str, binds: dict[str, str]) -> BoundFunction:
        """`fn_name` compiled over `split` of `spec`, its inputs fed by field (same name, or `binds`)."""
        key = (fn_name, spec.name, split)
        if key not in self._bound:
            self._bound[key] = self._make_bound(fn_name, spec, split, binds)
        return self._bound[key]

    def field_for(self, node: Node, spec: DataSpec, split: str, binds: dict[str, str]) -> np.ndarray:
        """The array feeding input `node` from `split` of `spec` (the field of its name, or its binding), checked."""
        fields = self.dataset(spec).splits[split]
        name = binds.get(node.name, node.name)
        if name not in fields:
            fail(
                "E208",
                spec.span,
                name=name,
                hint=did_you_mean(name, list(fields)) or bind_hint(node, spec, fields),
            )
        return check_field(self.model, node, fields[name], split)

    def _make_bound(self, fn_name: str, spec: DataSpec, split: str, binds: dict[str, str]) -> BoundFunction:
        from symdl.lowering.lower import Binding

        fn = self.model.function(fn_name)
        data = self.dataset(spec)
        if split not in data.splits:
            fail("E739", spec.span, name=spec.name, split=split, splits=", ".join(data.splits))
        arrays, sizes = {}, []
        for node in (i for i in fn.inputs if i.name not in self.fed):
            arrays[node.name] = np.ascontiguousarray(self.field_for(node, spec, split, binds))
            sizes.append(len(arrays[node.name]))
        batch = _batch_size(fn.inputs, min(sizes) if sizes else 1)
        if batch <= 0:  # dimensions are at least 1 and splits hold examples: checked before this
            raise InternalError(f"the minibatch size of fn {fn_name} is {batch}")
        n_batches = (min(sizes) if sizes else 1) // batch
        if n_batches == 0:
            fail(
                "E741",
                fn.span,
                split=split,
                size=min(sizes),
                batch=batch,
                hint="lower the batch hyper or use more data",
            )
        if (fn_name, batch) not in self._compiled:
            import pytensor

            slots = {n: pytensor.shared(a, name=f"{fn_name}.{n}", borrow=True) for n, a in arrays.items()}
            pending = self.model.compile_soon(fn_name, Binding(slots, batch), self.fed)  # beside the other functions bound
            self._compiled[fn_name, batch] = pending, slots | {"__active__": None}
        pending, slots = self._compiled[fn_name, batch]
        backend = self.model.backend_of(fn_name)
        resident = {n: device_array(a, backend) for n, a in arrays.items()}  # JAX: sent once, not per step
        return BoundFunction(fn_name, Rebound(self.model, pending, slots, resident), n_batches, [n for n, _ in fn.outputs])


def bind_hint(node: Node, spec: DataSpec, fields) -> str:
    """How to feed an input no field feeds: a field for a tensor, an expression on the `run` line for a scalar."""
    if node.type.ndim == 0:
        return f"feed the scalar from the run line: {node.name} = EXPRESSION of hypers, step and epoch (lr * 0.95 ** epoch)"
    return f"'{spec.kind}' has fields {', '.join(fields)}; bind one: {node.name} = {spec.name or 'DATA'}.FIELD"


def check_data_kinds(program) -> None:
    """Every `data` declaration names a known dataset (checked before anything loads)."""
    from symdl.runtime.data import KINDS

    for spec in program.data:
        if not spec.kind.startswith("path:") and spec.kind not in KINDS:
            fail(
                "E206",
                spec.span,
                name=spec.kind,
                hint=did_you_mean(spec.kind, list(KINDS)) or f"known: {', '.join(KINDS)}, or dataset(path = ...)",
            )


def _batch_size(inputs: tuple[Node, ...], n: int) -> int:
    """The minibatch size: the inputs' static first dimension, or the whole split when it is `?`."""
    sizes = {i.type.shape[0] for i in inputs if i.type.ndim and i.type.shape[0] is not None}
    return sizes.pop() if len(sizes) == 1 else n


def check_field(model: Model, node: Node, array: np.ndarray, split: str) -> np.ndarray:
    """The data array for input `node`, checked against its declaration and cast to its dtype."""
    declared = node.type
    if array.ndim != declared.ndim or any(d is not None and d != a for d, a in zip(declared.shape[1:], array.shape[1:])):
        shape = "[N, " + ", ".join(str(d) for d in array.shape[1:]) + "]" if array.ndim > 1 else "[N]"
        fail(
            "E601",
            node.span,
            name=node.name,
            split=split,
            data=f"{array.dtype}{shape}",
            type=declared,
            hint="the feature count of the data must match the input's shape",
        )
    if declared.is_float != np.issubdtype(array.dtype, np.floating) and not np.issubdtype(array.dtype, np.bool_):
        if not declared.is_float and np.issubdtype(array.dtype, np.floating) and not np.all(np.mod(array, 1) == 0):
            fail(
                "E609",
                node.span,
                name=node.name,
                split=split,
                type=declared,
                hint="declare the input as a float tensor",
            )
    limit = label_limit(model, node)
    if limit is not None and array.size and (array.min() < 0 or array.max() >= limit):
        fail(
            "E602",
            node.span,
            name=node.name,
            split=split,
            low=array.min(),
            high=array.max(),
            size=limit,
            hint=f"labels must lie in 0..{limit - 1}: check the output size against the number of classes",
        )
    return array.astype(NUMPY_DTYPE[declared.dtype], copy=False)


def label_limit(model: Model, node: Node) -> int | None:
    """The size of the axis an integer input indexes (the number of classes), if it indexes one."""
    for n in toposort(model.program.roots()):
        if n.op != "index":
            continue
        for entry in n.attr("spec"):
            if entry[0] == "tensor" and n.inputs[1 + entry[1]] is node:
                return n.inputs[0].type.shape[list(n.attr("spec")).index(entry)]
    return None


__all__ = ["Session", "BoundFunction", "Path"]
