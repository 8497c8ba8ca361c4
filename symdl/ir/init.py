"""Initial values of parameters and state, drawn in declaration order from the model's seed."""

from __future__ import annotations

import numpy as np

from symdl.ir.nodes import Init
from symdl.ir.types import NUMPY_DTYPE, TensorType


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
