"""conv2d and pooling as plain PyTensor graphs (PyTensor 3 has neither), so every backend and
`pytensor.grad` handle them: an im2col gather and one matrix product; a reshape or a stack of
strided views and a max or a mean.

Layout (measured on LeNet's step, tools/bench.py): the image is copied once channel-major, [c*b, h, w],
so the kh*kw shifted views stack into C-ordered patches [kh*kw*c, b*oh*ow] (stacked from a transposed
view, NumPy's concatenate keeps the input's order and the reshape copies the patches again); the product
leaves the output channel-major [o, b, oh, ow], returned as an NCHW view that pooling looks through.
"""

from __future__ import annotations

import numpy as np
import pytensor.tensor as pt
from pytensor.tensor.elemwise import DimShuffle

from symdl.diagnostics.errors import InternalError
from symdl.ir.windows import conv_pads, dilated, pooled_side
from symdl.lowering.maxpool import window_max
from symdl.lowering.patches import patch_product


def conv2d(x, w, padding=(0, 0), stride=(1, 1), dilation=(1, 1), groups=1):
    """True convolution of x [b, c, h, w] by w [o, c / groups, kh, kw] (the kernel flipped, as Theano),
    zero-padded, every stride-th position, the kernel's taps `dilation` apart; the channels in `groups`
    independent blocks (each a convolution of its share of the image by its share of the filters)."""
    o, cg, kh, kw = w.type.shape
    if None in (cg, kh, kw) or (o is None and groups > 1):
        raise InternalError("conv2d needs filters of a static shape")
    og = o // groups if groups > 1 else o
    parts = [_conv(x[:, g * cg : (g + 1) * cg], w[g * og : (g + 1) * og], padding, stride, dilation) for g in range(groups)]
    return (parts[0] if groups == 1 else pt.concatenate(parts, axis=0)).dimshuffle(1, 0, 2, 3)


def _conv(x, w, padding, stride, dilation):
    """One group, channel-major [o, b, oh, ow]: the patches of the channel-major image, one product with the flipped filters."""
    o, c, kh, kw = w.type.shape
    eh, ew = dilated((kh, kw), dilation)
    image = _channel_major(x, conv_pads(padding, eh, ew))  # [c*b, h, w]
    # [kh*kw*c, o], used transposed: its gradient, patches @ g.T, is the faster way round (K = b*oh*ow is long)
    filters = w[:, :, ::-1, ::-1].dimshuffle(2, 3, 1, 0).reshape((kh * kw * c, -1))
    oh, ow = (image.shape[1] - eh) // stride[0] + 1, (image.shape[2] - ew) // stride[1] + 1
    out = patch_product(image, filters, (kh, kw, *dilation, *stride))  # [o, b*oh*ow]
    return out.reshape((-1, x.shape[0], oh, ow))


def _channel_major(x, pads):
    """x [b, c, h, w] as [c*b, h + pads, w + pads], contiguous: one copy (the padding's, if any)."""
    (top, bottom), (left, right) = pads
    image = x.dimshuffle(1, 0, 2, 3)
    c, b, h, w = (image.shape[i] for i in range(4))
    if top or bottom or left or right:
        zeros = pt.zeros((c, b, h + top + bottom, w + left + right), dtype=x.dtype)
        image = pt.set_subtensor(zeros[:, :, top : top + h, left : left + w], image)
    return image.reshape((c * b, image.shape[2], image.shape[3]))


def max_pool2d(x, size, ignore_border, stride=None):
    """Max over windows of the last two axes; a partial last window is padded with -inf so it keeps
    its own maximum. Pooling commutes with a transposition of the leading axes, so a channel-major
    conv output is pooled where it lies (pooling its NCHW view would copy it first). Windows that do
    not overlap: `window_max`; others a stack of strided views and a max."""
    inner = _under_leading_transpose(x)
    if inner is not None:
        return max_pool2d(inner, size, ignore_border, stride).dimshuffle(x.owner.op.new_order)
    if stride is not None and tuple(stride) != tuple(size):
        return _strided_pool(x, size, ignore_border, stride, -np.inf).max(axis=0)
    (ph, pw), (h, w) = size, _static_sides(x)
    oh, ow = pooled_side(h, ph, ignore_border), pooled_side(w, pw, ignore_border)
    lead = [x.shape[i] for i in range(x.ndim - 2)]
    if oh * ph > h or ow * pw > w:
        full = pt.full((*lead, oh * ph, ow * pw), -np.inf, dtype=x.dtype)
        x = pt.set_subtensor(full[..., :h, :w], x)
    elif (oh * ph, ow * pw) != (h, w):
        x = x[..., : oh * ph, : ow * pw]
    return window_max(x, ph, pw)


def _under_leading_transpose(x):
    """The tensor x transposes, when x only permutes its leading axes (the last two stay in place)."""
    node = x.owner
    if node is None or not isinstance(node.op, DimShuffle):
        return None
    order = tuple(node.op.new_order)
    if "x" in order or sorted(order) != list(range(x.ndim)) or order[-2:] != (x.ndim - 2, x.ndim - 1) or order == tuple(range(x.ndim)):
        return None
    return node.inputs[0]


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
