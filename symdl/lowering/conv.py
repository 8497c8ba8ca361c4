"""conv2d and pooling as plain PyTensor graphs (PyTensor 3 has neither), so every backend and
`pytensor.grad` handle them: an im2col gather and one matrix product; a reshape or a stack of
strided views and a max or a mean."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from symdl.diagnostics.errors import InternalError
from symdl.ir.windows import conv_pads, pooled_side


def conv2d(x, w, padding=(0, 0), stride=(1, 1)):
    """True convolution of x [b, c, h, w] by w [o, c, kh, kw] (the kernel flipped, as Theano), zero-padded.

    The kh*kw shifted (strided) views of the channel-major image are stacked into patches
    [c*kh*kw, b*oh*ow] laid out as the product reads them (no copy before the GEMM), then one
    product with the flipped filters [o, c*kh*kw]. The gradient is PyTensor's: slices become increments.
    """
    o, c, kh, kw = w.type.shape
    if None in (c, kh, kw):
        raise InternalError("conv2d needs filters of a static shape")
    (top, bottom), (left, right) = conv_pads(padding, kh, kw)
    if top or bottom or left or right:
        h, wd = x.shape[2], x.shape[3]
        zeros = pt.zeros((x.shape[0], x.shape[1], h + top + bottom, wd + left + right), dtype=x.dtype)
        x = pt.set_subtensor(zeros[:, :, top : top + h, left : left + wd], x)
    sh, sw = stride
    oh, ow = (x.shape[2] - kh) // sh + 1, (x.shape[3] - kw) // sw + 1
    image = x.dimshuffle(1, 0, 2, 3)  # [c, b, h, w]
    views = [image[:, :, i : i + (oh - 1) * sh + 1 : sh, j : j + (ow - 1) * sw + 1 : sw] for i in range(kh) for j in range(kw)]
    patches = pt.stack(views, axis=1)
    flipped = w[:, :, ::-1, ::-1].reshape((o if o is not None else w.shape[0], c * kh * kw))
    out = pt.dot(flipped, patches.reshape((c * kh * kw, -1)))  # [o, b*oh*ow]
    return out.reshape((out.shape[0], x.shape[0], oh, ow)).dimshuffle(1, 0, 2, 3)


def max_pool2d(x, size, ignore_border, stride=None):
    """Max over windows of the last two axes; a partial last window is padded with -inf so it keeps
    its own maximum. Windows that do not overlap are a reshape; others a stack of strided views."""
    if stride is not None and tuple(stride) != tuple(size):
        return _strided_pool(x, size, ignore_border, stride, -np.inf).max(axis=0)
    (ph, pw), (h, w) = size, _static_sides(x)
    oh, ow = pooled_side(h, ph, ignore_border), pooled_side(w, pw, ignore_border)
    lead = [x.shape[i] for i in range(x.ndim - 2)]
    if oh * ph > h or ow * pw > w:
        full = pt.full((*lead, oh * ph, ow * pw), -np.inf, dtype=x.dtype)
        x = pt.set_subtensor(full[..., :h, :w], x)
    else:
        x = x[..., : oh * ph, : ow * pw]
    return x.reshape((*lead, oh, ph, ow, pw)).max(axis=(-3, -1))


def avg_pool2d(x, size, ignore_border, stride=None):
    """Mean over windows of the last two axes: the sum of each window's elements inside the image
    divided by how many there are (a constant, as the sides are static)."""
    x = pt.cast(x, "float64") if x.dtype not in ("float32", "float64") else x
    total = _strided_pool(x, size, ignore_border, stride, 0.0).sum(axis=0)
    h, w = _static_sides(x)
    ones = np.ones((h, w))
    count = sum(_window_views(ones, size, ignore_border, stride, 0.0, np))
    return total / pt.constant(count.astype(x.dtype))


def _static_sides(x) -> tuple[int, int]:
    h, w = x.type.shape[-2:]
    if None in (h, w):
        raise InternalError("pooling needs a static height and width")
    return h, w


def _strided_pool(x, size, ignore_border, stride, fill):
    """The ph*pw strided views of x, one per offset in a window, stacked on a new first axis."""
    return pt.stack(_window_views(x, size, ignore_border, stride, fill, pt))


def _window_views(x, size, ignore_border, stride, fill, lib):
    """View (i, j) holds element (i, j) of every window: x padded with `fill`, sliced from (i, j) every stride."""
    (ph, pw), (sh, sw), (h, w) = size, stride or size, x.shape[-2:] if lib is np else _static_sides(x)
    oh, ow = pooled_side(h, ph, ignore_border, sh), pooled_side(w, pw, ignore_border, sw)
    need_h, need_w = (oh - 1) * sh + ph, (ow - 1) * sw + pw
    if need_h > h or need_w > w:
        lead = x.shape[:-2] if lib is np else [x.shape[i] for i in range(x.ndim - 2)]
        if lib is np:
            full = np.full((*lead, max(need_h, h), max(need_w, w)), fill)
            full[..., :h, :w] = x
            x = full
        else:
            full = pt.full((*lead, max(need_h, h), max(need_w, w)), fill, dtype=x.dtype)
            x = pt.set_subtensor(full[..., :h, :w], x)
    return [x[..., i : i + (oh - 1) * sh + 1 : sh, j : j + (ow - 1) * sw + 1 : sw] for i in range(ph) for j in range(pw)]
