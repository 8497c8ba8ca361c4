"""The PyTensor lowering table: one line per IR operator (a test checks it names every one)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytensor.tensor as pt
from pytensor.gradient import disconnected_grad
from pytensor.tensor import special

from symdl.ir.types import NUMPY_DTYPE
from symdl.lowering.conv import avg_pool2d, conv2d, max_pool2d


def _axis(attrs: dict):
    axis = attrs.get("axis")
    return list(axis) if isinstance(axis, tuple) else axis


def _index(x, *indices, spec):
    key = []
    for entry in spec:
        key.append(entry[1] if entry[0] == "int" else slice(*entry[1:]) if entry[0] == "slice" else indices[entry[1]])
    return x[tuple(key)]


def _reduce(f):
    return lambda x, axis=None, keepdims=False: f(x, axis=_axis({"axis": axis}), keepdims=keepdims)


def _logsumexp(x, axis=None, keepdims=False):
    """Max-shifted; the shift is a constant for the gradient, so the gradient is exactly softmax."""
    axis = _axis({"axis": axis})
    m = disconnected_grad(pt.max(x, axis=axis, keepdims=True))
    m = pt.switch(pt.isinf(m), pt.zeros_like(m), m)
    out = pt.log(pt.sum(pt.exp(x - m), axis=axis, keepdims=True)) + m
    if keepdims:
        return out
    return pt.squeeze(out, axis=tuple(range(x.ndim)) if axis is None else axis)


def _var(x, axis=None, keepdims=False):
    axis = _axis({"axis": axis})
    d = x - pt.mean(x, axis=axis, keepdims=True)
    return pt.mean(pt.sqr(d), axis=axis, keepdims=keepdims)


LOWER: dict[str, Callable] = {
    # elementwise
    "tanh": pt.tanh,
    "sigmoid": pt.sigmoid,
    "softplus": pt.softplus,
    "exp": pt.exp,
    "log": pt.log,
    "log1p": pt.log1p,
    "expm1": pt.expm1,
    "sqrt": pt.sqrt,
    "neg": pt.neg,
    "abs": pt.abs,
    "relu": lambda x: pt.maximum(x, 0),
    "sign": pt.sign,
    "sqr": pt.sqr,
    "round": lambda x: pt.round(x, mode="half_to_even"),
    "floor": pt.floor,
    "ceil": pt.ceil,
    "add": pt.add,
    "sub": pt.sub,
    "mul": pt.mul,
    "div": pt.true_div,
    "floordiv": pt.floor_div,
    "mod": pt.mod,
    "maximum": pt.maximum,
    "minimum": pt.minimum,
    "pow": pt.pow,
    "eq": pt.eq,
    "ne": pt.neq,
    "lt": pt.lt,
    "le": pt.le,
    "gt": pt.gt,
    "ge": pt.ge,
    "and_": pt.and_,
    "or_": pt.or_,
    "not_": pt.invert,
    "switch": pt.switch,
    "clip": pt.clip,
    # log(1) where x = 0: finite value and finite gradient at 0, on every backend
    "xlogx": lambda x: x * pt.log(pt.switch(pt.eq(x, 0), pt.ones_like(x), x)),
    "cast": lambda x, dtype: pt.cast(x, NUMPY_DTYPE[dtype]),
    # reductions
    "sum": _reduce(pt.sum),
    "prod": _reduce(pt.prod),
    "mean": _reduce(pt.mean),
    "max": _reduce(pt.max),
    "min": _reduce(pt.min),
    "logsumexp": _logsumexp,
    "var": _var,
    "std": lambda x, axis=None, keepdims=False: pt.sqrt(_var(x, axis, keepdims)),
    "argmax": lambda x, axis=None: pt.argmax(x, axis=axis),
    "softmax": lambda x, axis=-1: special.softmax(x, axis=axis),
    "log_softmax": lambda x, axis=-1: special.log_softmax(x, axis=axis),
    # tensor
    # pt.dot for vectors and matrices (as before: the GEMM rewrites know it), pt.matmul to broadcast batch axes
    "matmul": lambda a, b: pt.dot(a, b) if a.ndim <= 2 and b.ndim <= 2 else pt.matmul(a, b),
    "inv": pt.linalg.inv,
    # a label outside 0 .. n-1 compares equal to no class: a row of zeros, as the reference
    "one_hot": lambda y, n: pt.cast(pt.eq(pt.shape_padright(y), pt.constant(np.arange(n, dtype=np.int64))), "float32"),
    "transpose": lambda x, perm=None: pt.transpose(x, perm),
    "reshape": lambda x, shape: pt.reshape(x, shape),
    "flatten": lambda x, ndim=1: pt.flatten(x, ndim),
    "concatenate": lambda *xs, axis=0: pt.concatenate(xs, axis=axis),
    "zeros": lambda shape, dtype: pt.zeros(shape, dtype=NUMPY_DTYPE[dtype]),
    "ones": lambda shape, dtype: pt.ones(shape, dtype=NUMPY_DTYPE[dtype]),
    # int64 explicitly: PyTensor would pick int8 for a small constant and overflow later (JAX)
    "arange": lambda n: pt.constant(np.arange(n, dtype=np.int64)),
    "index": _index,
    "conv2d": conv2d,
    "max_pool2d": max_pool2d,
    "avg_pool2d": avg_pool2d,
    "dim": lambda x, axis: pt.cast(x.shape[axis], "int64"),
    "einsum": lambda *xs, spec: pt.einsum(spec, *xs),
    # consider_constant as a mark in the graph: identity forward, no gradient path (pytensor.grad does not
    # even enter what it marks, e.g. a sampling scan), removed when compiled
    "stop_gradient": disconnected_grad,
}


# ---- random draws: (generator, static size or None, parameters, dtype, attrs) -> (next generator, value) ----


def _uniform(rng, size, args, dtype, **attrs):
    return pt.random.uniform(*args, size=size, rng=rng, dtype=dtype, return_next_rng=True)


def _normal(rng, size, args, dtype, **attrs):
    return pt.random.normal(*args, size=size, rng=rng, dtype=dtype, return_next_rng=True)


def _bernoulli(rng, size, args, dtype, **attrs):
    """uniform < p: ~20x faster than numpy's binomial on the C backend."""
    (p,) = args
    rng, u = pt.random.uniform(0.0, 1.0, size=size if size is not None else p.shape, rng=rng, dtype=dtype, return_next_rng=True)
    return rng, pt.cast(pt.lt(u, p), dtype)


def _binomial(rng, size, args, dtype, n, **attrs):
    rng, u = pt.random.binomial(n, args[0], size=size, rng=rng, return_next_rng=True)
    return rng, pt.cast(u, dtype)


def _categorical(rng, size, args, dtype, **attrs):
    """Inverse CDF: the first class whose cumulative probability passes u * total."""
    (p,) = args
    batch = size if size is not None else p.shape[:-1]
    rng, u = pt.random.uniform(0.0, 1.0, size=batch, rng=rng, dtype=p.dtype, return_next_rng=True)
    cdf = pt.cumsum(p, axis=-1)
    below = pt.lt(cdf, pt.shape_padright(u * cdf[..., -1]))
    return rng, pt.cast(pt.minimum(pt.sum(below, axis=-1), p.shape[-1] - 1), dtype)


DRAWS: dict[str, Callable] = {
    "uniform": _uniform,
    "normal": _normal,
    "bernoulli": _bernoulli,
    "binomial": _binomial,
    "categorical": _categorical,
}

# A draw made ahead of a loop from its standard noise (the registry's `ahead`: uniform [0, 1) or standard normal).
FROM_NOISE: dict[str, Callable] = {
    "uniform": lambda noise, low, high: low + (high - low) * noise,
    "normal": lambda noise, mean, std: mean + std * noise,
    "bernoulli": lambda noise, p: pt.lt(noise, p),
}
