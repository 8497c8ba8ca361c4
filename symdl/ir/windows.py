"""Type rules and NumPy references of the windowed operators (Theano's conv2d and pool_2d, NCHW); `ops_tensor.py` registers them."""

from __future__ import annotations

import numpy as np

from symdl.ir.types import TensorType, TypeRuleError, promote, to_float

Pads = tuple[tuple[int, int], tuple[int, int]]


def conv_pads(padding: tuple[int, int] | str, kh: int, kw: int) -> Pads:
    """Zeros added (before, after) each side: `padding` on both, or "same" (k - 1 in all, the odd one after)."""
    if padding == "same":
        return ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2)
    ph, pw = padding
    return (ph, ph), (pw, pw)


def conv_side(side: int | None, k: int, pads: tuple[int, int], stride: int) -> int | None:
    return None if side is None else (side + sum(pads) - k) // stride + 1


def conv2d_rule(types, attrs):
    x, w = types
    if x.ndim != 4 or w.ndim != 4:
        raise TypeRuleError("conv2d", "needs an image batch [batch, channels, h, w] and filters [out, channels, kh, kw]", "E402")
    groups = attrs.get("groups", 1)
    _check_groups(x.shape[1], w.shape[:2], groups)
    if None in w.shape[2:]:
        raise TypeRuleError("conv2d", "the filters' height and width must be known at compile time")
    padding, stride, dilation = attrs.get("padding", (0, 0)), attrs.get("stride", (1, 1)), attrs.get("dilation", (1, 1))
    if padding != "same" and min(padding) < 0 or min(stride) < 1:
        raise TypeRuleError("conv2d", f"padding must be 0 or more and stride 1 or more, got {padding} and {stride}", "E402")
    if padding == "same" and stride != (1, 1):
        raise TypeRuleError("conv2d", 'padding = "same" keeps the size only with stride 1: give the padding as numbers', "E402")
    spans = dilated(w.shape[2:], dilation)
    pads = conv_pads(padding, *spans)
    sides = [conv_side(d, k, p, s) for d, k, p, s in zip(x.shape[2:], spans, pads, stride)]
    if any(s is not None and s < 1 for s in sides):
        raise TypeRuleError(
            "conv2d", f"a {spans[0]}x{spans[1]} filter (dilated) is larger than the {x.shape[2]}x{x.shape[3]} image (padded)"
        )
    return TensorType(to_float(promote(x.dtype, w.dtype)), (x.shape[0], w.shape[0], *sides))


def dilated(kernel: tuple[int, int], dilation: tuple[int, int]) -> tuple[int, int]:
    """The extent of a kernel whose taps are `dilation` apart: (k - 1) * d + 1 along each side."""
    return tuple((k - 1) * d + 1 for k, d in zip(kernel, dilation))


def _check_groups(channels: int | None, filters: tuple, groups: int) -> None:
    """Each of `groups` blocks convolves channels / groups of the image by out / groups of the filters."""
    out, per_group = filters
    if channels is not None and channels % groups:
        raise TypeRuleError("conv2d", f"the image's {channels} channel(s) do not split into {groups} groups", arg="groups")
    if out is not None and out % groups:
        raise TypeRuleError("conv2d", f"the {out} filters do not split into {groups} groups", arg="groups")
    if None not in (channels, per_group) and channels != per_group * groups:
        given = f"{channels} channel(s)" if groups == 1 else f"{channels} channel(s) in {groups} groups, {channels // groups} each"
        raise TypeRuleError("conv2d", f"the image has {given}, the filters expect {per_group}")


def _windows(x: np.ndarray, kh: int, kw: int) -> np.ndarray:
    return np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(-2, -1))


def conv2d_ref(x, w, padding=(0, 0), stride=(1, 1), dilation=(1, 1), groups=1):
    """True convolution (the kernel flipped, as Theano's conv2d) of the zero-padded image, every stride-th
    position, the taps `dilation` apart: out[b, o] = sum_c x[b, c] * w[o, c], c over o's group of channels."""
    (dh, dw), (og, cg) = dilation, (w.shape[0] // groups, w.shape[1])
    pads = conv_pads(padding, *dilated(w.shape[2:], dilation))
    x = np.pad(x, ((0, 0), (0, 0), *pads))
    windows = _windows(x, *dilated(w.shape[2:], dilation))[..., ::dh, ::dw]
    flipped = w[:, :, ::-1, ::-1]
    out = [np.einsum("bcijkl,ockl->boij", windows[:, g * cg : (g + 1) * cg], flipped[g * og : (g + 1) * og]) for g in range(groups)]
    return np.concatenate(out, axis=1)[:, :, :: stride[0], :: stride[1]]


def pooled_side(side: int | None, size: int, ignore_border: bool, stride: int | None = None) -> int | None:
    """Windows along one side, every `stride` (default: the size, windows that do not overlap); a partial
    last window counts unless ignore_border (Theano's pool_2d)."""
    if side is None:
        return None
    stride = stride or size
    if ignore_border:
        return max(side - size, -stride) // stride + 1
    if stride >= size:
        return (side - 1) // stride + 1
    return max(0, (side - 1 - size + stride) // stride) + 1


def pool_rule(types, attrs):
    (x,) = types
    size = tuple(attrs["size"])
    if len(size) != 2 or any(s < 1 for s in size):
        raise TypeRuleError("pooling", f"the pool size must be two positive integers, got {list(size)} for {x}", "E402")
    stride = attrs.get("stride") or size
    if any(s < 1 for s in stride):
        raise TypeRuleError("pooling", f"the pool stride must be positive integers, got {list(stride)}", "E402")
    if x.ndim < 2:
        raise TypeRuleError("pooling", "pools the last two dimensions: needs at least 2", "E402")
    sides = [pooled_side(d, z, attrs["ignore_border"], s) for d, z, s in zip(x.shape[-2:], size, stride)]
    if any(s is not None and s < 1 for s in sides):
        raise TypeRuleError("pooling", f"a {size[0]}x{size[1]} pool is larger than the {x.shape[-2]}x{x.shape[-1]} image")
    return TensorType(x.dtype, (*x.shape[:-2], *sides))


def avg_pool_rule(types, attrs):
    out = pool_rule(types, attrs)
    return out.with_dtype(to_float(out.dtype))


def _pool_windows(x, size, ignore_border, stride, fill):
    """Every window as x[..., i, j, :, :] with a partial window's missing elements `fill`."""
    (ph, pw), (sh, sw) = size, stride or size
    oh, ow = (pooled_side(d, z, ignore_border, s) for d, z, s in zip(x.shape[-2:], size, (sh, sw)))
    h, w = (oh - 1) * sh + ph, (ow - 1) * sw + pw
    padded = np.full((*x.shape[:-2], max(h, x.shape[-2]), max(w, x.shape[-1])), fill, dtype="float64")
    padded[..., : x.shape[-2], : x.shape[-1]] = x
    return _windows(padded[..., :h, :w], ph, pw)[..., ::sh, ::sw, :, :]


def pool_ref(x, size, ignore_border, stride=None):
    return _pool_windows(x, size, ignore_border, stride, -np.inf).max(axis=(-2, -1)).astype(x.dtype)


def avg_pool_ref(x, size, ignore_border, stride=None):
    """The mean of each window's elements inside the image (a partial window averages what it has)."""
    total = _pool_windows(x, size, ignore_border, stride, 0.0).sum(axis=(-2, -1))
    count = _pool_windows(np.ones(x.shape[-2:]), size, ignore_border, stride, 0.0).sum(axis=(-2, -1))
    return total / count
