"""conv2d and max_pool2d as plain PyTensor graphs (PyTensor 3 has neither), so every backend and
`pytensor.grad` handle them: an im2col gather and one matrix product; a reshape and a max."""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt

from symdl.diagnostics.errors import InternalError
from symdl.ir.windows import pooled_side


def conv2d(x, w):
    """Valid true convolution of x [b, c, h, w] by w [o, c, kh, kw] (the kernel flipped, as Theano).

    The kh*kw shifted views of the channel-major image are stacked into patches [c*kh*kw, b*oh*ow]
    laid out as the product reads them (no copy before the GEMM), then one product with the
    flipped filters [o, c*kh*kw]. The gradient is PyTensor's: slices become increments.
    """
    o, c, kh, kw = w.type.shape
    if None in (c, kh, kw):
        raise InternalError("conv2d needs filters of a static shape")
    oh, ow = x.shape[2] - kh + 1, x.shape[3] - kw + 1
    image = x.dimshuffle(1, 0, 2, 3)  # [c, b, h, w]
    patches = pt.stack([image[:, :, i : i + oh, j : j + ow] for i in range(kh) for j in range(kw)], axis=1)
    flipped = w[:, :, ::-1, ::-1].reshape((o if o is not None else w.shape[0], c * kh * kw))
    out = pt.dot(flipped, patches.reshape((c * kh * kw, -1)))  # [o, b*oh*ow]
    return out.reshape((out.shape[0], x.shape[0], oh, ow)).dimshuffle(1, 0, 2, 3)


def max_pool2d(x, size, ignore_border):
    """Max over non-overlapping windows of the last two axes; without ignore_border a partial last
    window is padded with -inf so it keeps its own maximum."""
    (ph, pw), (h, w) = size, x.type.shape[-2:]
    if None in (h, w):
        raise InternalError("max_pool2d needs a static height and width")
    oh, ow = pooled_side(h, ph, ignore_border), pooled_side(w, pw, ignore_border)
    lead = [x.shape[i] for i in range(x.ndim - 2)]
    if oh * ph > h or ow * pw > w:
        full = pt.full((*lead, oh * ph, ow * pw), -np.inf, dtype=x.dtype)
        x = pt.set_subtensor(full[..., :h, :w], x)
    else:
        x = x[..., : oh * ph, : ow * pw]
    return x.reshape((*lead, oh, ph, ow, pw)).max(axis=(-3, -1))
