"""Type rules and NumPy references of the windowed operators (Theano's conv2d and pool_2d, NCHW); `ops.py` registers them."""

from __future__ import annotations

import numpy as np

from symdl.ir.types import TensorType, TypeRuleError, promote, to_float


def conv2d_rule(types, attrs):
    x, w = types
    if x.ndim != 4 or w.ndim != 4:
        raise TypeRuleError("conv2d", "needs an image batch [batch, channels, h, w] and filters [out, channels, kh, kw]", "E402")
    if None not in (x.shape[1], w.shape[1]) and x.shape[1] != w.shape[1]:
        raise TypeRuleError("conv2d", f"the image has {x.shape[1]} channel(s), the filters expect {w.shape[1]}")
    if None in w.shape[2:]:
        raise TypeRuleError("conv2d", "the filters' height and width must be known at compile time")
    sides = [None if d is None else d - k + 1 for d, k in zip(x.shape[2:], w.shape[2:])]
    if any(s is not None and s < 1 for s in sides):
        raise TypeRuleError("conv2d", f"a {w.shape[2]}x{w.shape[3]} filter is larger than the {x.shape[2]}x{x.shape[3]} image")
    return TensorType(to_float(promote(x.dtype, w.dtype)), (x.shape[0], w.shape[0], *sides))


def _windows(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(-2, -1))


def conv2d_ref(x, w):
    """Valid true convolution (the kernel flipped, as Theano's conv2d): out[b, o] = sum_c x[b, c] * w[o, c]."""
    return np.einsum("bcijkl,ockl->boij", _windows(x, *w.shape[2:]), w[:, :, ::-1, ::-1])


def pooled_side(side: int | None, size: int, ignore_border: bool) -> int | None:
    """Non-overlapping windows along one side; a partial last window counts unless ignore_border."""
    if side is None:
        return None
    return side // size if ignore_border else -(-side // size)


def pool_rule(types, attrs):
    (x,) = types
    size = tuple(attrs["size"])
    if len(size) != 2 or any(s < 1 for s in size):
        raise TypeRuleError("max_pool2d", f"the pool size must be two positive integers, got {list(size)} for {x}", "E402")
    if x.ndim < 2:
        raise TypeRuleError("max_pool2d", "pools the last two dimensions: needs at least 2", "E402")
    sides = [pooled_side(d, s, attrs["ignore_border"]) for d, s in zip(x.shape[-2:], size)]
    if 0 in sides:
        raise TypeRuleError("max_pool2d", f"a {size[0]}x{size[1]} pool is larger than the {x.shape[-2]}x{x.shape[-1]} image")
    return TensorType(x.dtype, (*x.shape[:-2], *sides))


def pool_ref(x, size, ignore_border):
    (ph, pw), (h, w) = size, x.shape[-2:]
    oh, ow = pooled_side(h, ph, ignore_border), pooled_side(w, pw, ignore_border)
    padded = np.full((*x.shape[:-2], oh * ph, ow * pw), -np.inf, dtype=x.dtype)
    padded[..., : min(h, oh * ph), : min(w, ow * pw)] = x[..., : oh * ph, : ow * pw]
    return padded.reshape(*x.shape[:-2], oh, ph, ow, pw).max(axis=(-3, -1))
