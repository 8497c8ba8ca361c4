"""Initial values of parameters and state, drawn in declaration order from the model's seed."""

from __future__ import annotations

import numpy as np

from symdl.ir.nodes import Init, Node
from symdl.ir.types import NUMPY_DTYPE, TensorType


def initial_values(leaves: tuple[Node, ...], rng: np.random.RandomState) -> dict[str, np.ndarray]:
    """Every parameter's and state's initial value: drawn in order, then each copy of another's value
    (a copy draws nothing, so it leaves the others' draws as they were)."""
    values = {n.name: initial_value(n.attr("init"), n.type, rng) for n in leaves if not _is_copy(n)}
    copies = {n.name: n for n in leaves if _is_copy(n)}

    def resolve(name: str) -> np.ndarray:
        if name not in values:
            node = copies[name]
            values[name] = resolve(node.attr("init").args[0]).astype(NUMPY_DTYPE[node.type.dtype])
        return values[name]

    return {n.name: resolve(n.name) for n in leaves}


def _is_copy(node: Node) -> bool:
    init = node.attr("init")
    return init is not None and init.kind == "copy"


def initial_value(init: Init | None, type_: TensorType, rng: np.random.RandomState) -> np.ndarray:
    """A NumPy array of `type_` as `init` describes (zeros when there is none)."""
    dtype = NUMPY_DTYPE[type_.dtype]
    shape = tuple(type_.shape)
    if init is None or init.kind == "constant":
        return np.full(shape, init.args[0] if init else 0, dtype=dtype)
    if init.kind == "uniform":
        low, high = init.args
        return rng.uniform(low, high, size=shape).astype(dtype)
    if init.kind == "normal":
        mean, std = init.args
        return rng.normal(mean, std, size=shape).astype(dtype)
    raise ValueError(f"unknown initialiser {init.kind}")
