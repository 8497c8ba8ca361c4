"""Recipes as typed declarations: each recipe's parameters, their kinds and defaults, in one table.

The elaborator checks a `run` line against this table (through the one binder) and hands the runtime
IR-level values: the classes below, `DataSpec`s, numbers. The runtime's loop configurations
(`symdl/runtime/recipes.py`) are keyed by the same names; a test checks that both tables agree.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from symdl.ir.nodes import Node, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE

REQUIRED = "required"  # a parameter's default when it has none


@dataclass(frozen=True, slots=True)
class FunctionArg:
    """A compiled function, by name."""

    name: str


@dataclass(frozen=True, slots=True)
class FunctionsArg:
    """Several functions in order: a loop's `fn NAME[i](...)` by index, or a list `[d_step, g_step]`."""

    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class FieldArg:
    """A field of a data set (`digits.x`)."""

    data: str
    field: str


@dataclass(frozen=True, slots=True)
class TensorArg:
    """A parameter or state value, by name (`filters = da.W`)."""

    name: str


@dataclass(frozen=True, slots=True)
class WriteArg:
    """One artifact a run writes (`write = [tiles(samples, "samples.png")]`): `writer` applied to `source`
    (a function without inputs: its first output; or a parameter or state: its value) into `file` (a stem in
    the run directory), after every epoch or once at the end of the stage (`every`)."""

    writer: str
    source: FunctionArg | TensorArg
    file: str
    every: str = "epoch"
    options: tuple[tuple[str, object], ...] = ()


@dataclass(frozen=True, slots=True)
class Writer:
    """A writer's declaration: its file suffix, the ranks of array it takes (None: any) and, in words, what;
    its options (numbers). `symdl/runtime/writers.py` holds the implementation of each, by the same name."""

    name: str
    suffix: str
    ranks: tuple[int, ...] | None
    takes: str
    options: tuple[str, ...] = ()


WRITERS: dict[str, Writer] = {
    w.name: w
    for w in (
        Writer("filters", ".png", (2, 4), "a weight matrix [pixels, units] or conv filters [out, channels, h, w]"),
        Writer("tiles", ".png", (2, 3), "square images [n, pixels] or [rows, columns, pixels]"),
        Writer("npz", ".npz", None, "an array of any shape"),
        Writer("piano_roll", ".png", (2,), "a piano-roll [frames, notes]", ("step",)),
        Writer("midi", ".mid", (2,), "a piano-roll [frames, notes]", ("step",)),
    )
}
WHEN = ("epoch", "end")  # a writer's `every`: after each epoch (before its checkpoint), or once when the stage ends

# The kinds of a recipe parameter, each with the catalog error a value of another kind gets (its sentence says
# what the kind accepts).
KINDS = {
    "function": "E317",
    "functions": "E318",
    "data": "E322",
    "field": "E321",
    "number": "E328",
    "integer": "E303",
    "integers": "E329",
    "tensor": "E336",
    "writers": "E332",
}


@dataclass(frozen=True, slots=True)
class Param:
    name: str
    kind: str
    default: object = REQUIRED
    optional: bool = False  # may be left out (None); a function the recipe calls only when given


@dataclass(frozen=True, slots=True)
class Signature:
    """A recipe's declared parameters, in positional order."""

    name: str
    params: tuple[Param, ...]

    def param(self, name: str) -> Param:
        return next(p for p in self.params if p.name == name)

    def usage(self) -> str:
        return f"{self.name}({', '.join(p.name for p in self.params)})"


def _sig(name: str, *params: Param) -> Signature:
    return Signature(name, params)


def _fn(name: str, required: bool = False) -> Param:
    return Param(name, "function") if required else Param(name, "function", None, True)


# Options of the one loop that every minibatch recipe accepts (docs/LANGUAGE.md, Recipes).
LOOP_OPTIONS = (
    Param("shuffle", "integer", 0),  # 1: a permutation of the minibatches per epoch, drawn from `seed`
    Param("seed", "integer", 0),
    Param("tiles", "function", None, True),  # a function without inputs whose first output, images, goes to NAME.png
    Param("write", "writers", ()),
)

SIGNATURES: dict[str, Signature] = {
    s.name: s
    for s in (
        _sig(
            "epochs",
            Param("train", "functions"),
            Param("data", "data"),
            Param("epochs", "integer", 1),
            _fn("valid"),
            Param("validation_frequency", "integer", None, True),
            Param("filters", "tensor", None, True),
            *LOOP_OPTIONS,
        ),
        _sig(
            "early_stopping",
            _fn("train", True),
            _fn("validate", True),
            Param("data", "data"),
            Param("epochs", "integer", 1000),
            Param("patience", "integer", 5000),
            Param("patience_increase", "number", 2),
            Param("improvement_threshold", "number", 0.995),
            Param("validation_frequency", "integer", None, True),
            _fn("test"),
            Param("filters", "tensor", None, True),
            *LOOP_OPTIONS,
        ),
        _sig(
            "layerwise",
            Param("pretrain", "functions"),
            Param("data", "data"),
            Param("epochs", "integers", 15),
            Param("filters", "tensor", None, True),
            *LOOP_OPTIONS[:2],
            LOOP_OPTIONS[-1],
        ),
        _sig(
            "sample_chains",
            _fn("sample", True),
            Param("data", "data"),
            Param("chain", "tensor"),
            Param("start", "field", None, True),
            Param("samples", "integer", 10),
            Param("seed", "integer", 123),
            LOOP_OPTIONS[-1],
        ),
        _sig(
            "mcmc",
            _fn("draw", True),
            Param("data", "data", None, True),
            Param("burn_in", "integer", 1000),
            Param("samples", "integer", 1000),
            LOOP_OPTIONS[-1],
        ),
        _sig(
            "sequences",
            _fn("train", True),
            Param("data", "data"),
            Param("epochs", "integer", 1),
            Param("batch", "integer", 100),
            _fn("valid"),
            _fn("predict"),
            _fn("likelihood"),
            _fn("generate"),
            Param("samples", "integer", 2),
            Param("step", "number", 1.0),
            Param("seed", "integer", 0),
            Param("patience", "integer", None, True),  # early stopping on `valid`, the tutorial's rule in pieces visited
            Param("patience_increase", "number", 2),
            Param("improvement_threshold", "number", 0.995),
            LOOP_OPTIONS[-1],
        ),
    )
}

# Built-in scalar states the loop sets before each call: `step`, the updates made so far in this stage
# (0 during the first), and `epoch`, the epochs completed (0 during the first). A model's own names shadow them.
CLOCK = ("step", "epoch")


def feed_value(expr: Node, clock: dict[str, int], dtype: str) -> np.ndarray:
    """A scalar input's value at a loop position (`run epochs(train, data = d, rate = lr * 0.95 ** epoch)`):
    `expr`, checked to hold constants and the placeholders `step` and `epoch` only, through the ops' NumPy
    references, at each node's dtype as the compiled graph would, then as the input's `dtype`."""
    values: dict[int, np.ndarray] = {}
    with np.errstate(all="ignore"):  # a schedule that overflows feeds inf, as the graph would compute it
        for node in toposort([expr]):
            if node.op == "const":
                value = node.attr("value")
            elif node.is_leaf:
                value = clock[node.name]
            else:
                value = OPS[node.op].reference(*(values[id(i)] for i in node.inputs), **dict(node.attrs))
            values[id(node)] = np.asarray(value, NUMPY_DTYPE[node.type.dtype])
    return values[id(expr)].astype(NUMPY_DTYPE[dtype])


EVALUATORS = ("test", "validate", "valid")  # parameters naming a function that measures, never one that trains
