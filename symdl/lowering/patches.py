"""A convolution's patches (im2col) and their gradient (col2im): a PyTensor graph every backend can run, and
one C loop each for the C backend, which takes them in place of the graph (`host.HostGraph`).

As graphs, the kh*kw shifted views of a channel-major image [c*b, h, w] are stacked to [kh*kw, c*b, oh, ow],
and the gradient adds each view's share back, one `IncSubtensor` per view. PyTensor runs both through NumPy
on views whose rows are only `ow` long (8 in LeNet's second layer). In LeNet's C step (PyTensor's profiler,
both variants in one process, load 2): Join 9.4 ms against 4.9 for the copying loop, the IncSubtensors 19 ms
against 7.4 for the adding loop. The loops add each element's taps in (i, j) order from zero, as the chain of
IncSubtensors does.
"""

from __future__ import annotations

import functools

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.tensor.type import TensorType

from symdl.lowering.host import HostGraph

Window = tuple[int, int, int, int, int, int]  # kh, kw, dilation h, w, stride h, w


def patches(image, kernel: tuple[int, int], dilation: tuple[int, int], stride: tuple[int, int]):
    """The kh*kw shifted views of image [c*b, h, w], each a tap of the kernel: [kh*kw, c*b, oh, ow]."""
    return _patches_graph((*kernel, *dilation, *stride), image.type)(image)


@functools.cache
def _patches_graph(window: Window, type_: TensorType) -> HostGraph:
    image = type_()
    stack = _stack(image, window)
    grad_image, stacked, g = type_(), stack.type(), stack.type()
    (grad,) = pytensor.grad(None, [grad_image], known_grads={_stack(grad_image, window): g})
    pullback = HostGraph([grad_image, stacked, g], [grad], host=Col2Im(*window), name="col2im")
    return HostGraph([image], [stack], host=Im2Col(*window), pullback=pullback, name="im2col")


def _stack(image, window: Window):
    return pt.stack([image[:, rows, cols] for rows, cols in _taps(window, *_sides(image.shape, window))])


def _sides(shape, window: Window):
    """(oh, ow) of an image of `shape` [c*b, h, w]: symbolic or numbers, as the shape."""
    kh, kw, dh, dw, sh, sw = window
    return (shape[1] - (kh - 1) * dh - 1) // sh + 1, (shape[2] - (kw - 1) * dw - 1) // sw + 1


def _taps(window: Window, oh, ow) -> list[tuple[slice, slice]]:
    """Where each tap (i, j) of the kernel reads the image, in (i, j) order: rows and columns."""
    kh, kw, dh, dw, sh, sw = window
    return [
        (slice(i * dh, i * dh + (oh - 1) * sh + 1, sh), slice(j * dw, j * dw + (ow - 1) * sw + 1, sw)) for i in range(kh) for j in range(kw)
    ]


def _stacked_type(window: Window, type_: TensorType) -> TensorType:
    """[kh*kw, c*b, oh, ow], with the sides known where the image's are."""
    oh, ow = _sides([0 if d is None else d for d in type_.shape], window)
    known = [d is not None for d in type_.shape]
    return TensorType(type_.dtype, shape=(window[0] * window[1], type_.shape[0], oh if known[1] else None, ow if known[2] else None))


class _WindowOp(COp):
    """Geometry shared by the two loops: the kernel's taps, their spacing (dilation) and the stride."""

    __props__ = ("kh", "kw", "dh", "dw", "sh", "sw")

    def __init__(self, kh: int, kw: int, dh: int, dw: int, sh: int, sw: int):
        self.kh, self.kw, self.dh, self.dw, self.sh, self.sw = kh, kw, dh, dw, sh, sw

    @property
    def window(self) -> Window:
        return self.kh, self.kw, self.dh, self.dw, self.sh, self.sw

    def _geometry(self, x: str) -> str:
        """C declarations of CB, H, W, OH, OW for image x, and the stacked shape `dims`."""
        kh, kw, dh, dw, sh, sw = self.window
        return f"""
            const npy_intp CB = PyArray_DIMS({x})[0], H = PyArray_DIMS({x})[1], W = PyArray_DIMS({x})[2];
            const npy_intp OH = (H - {(kh - 1) * dh + 1}) / {sh} + 1, OW = (W - {(kw - 1) * dw + 1}) / {sw} + 1;
            npy_intp dims[4] = {{{kh * kw}, CB, OH, OW}};
            const npy_intp KH = {kh}, KW = {kw}, DH = {dh}, DW = {dw}, SH = {sh}, SW = {sw};
        """

    def c_code_cache_version(self):
        return (1,)


class Im2Col(_WindowOp):
    """image [c*b, h, w] -> its taps [kh*kw, c*b, oh, ow]: tap (i, j) of output (y, x) is image[:, y*sh + i*dh, x*sw + j*dw]."""

    def make_node(self, image) -> Apply:
        image = pt.as_tensor_variable(image)
        return Apply(self, [image], [_stacked_type(self.window, image.type)()])

    def perform(self, node, inputs, outputs) -> None:
        (image,), (out,) = inputs, outputs
        out[0] = np.stack([image[:, rows, cols] for rows, cols in _taps(self.window, *_sides(image.shape, self.window))])

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x,), (z,), fail = inames, onames, sub["fail"]
        return f"""{{
            PyArrayObject* src_array = PyArray_GETCONTIGUOUS({x});
            if (!src_array) {{ {fail} }}
            {self._geometry(x)}
            if (!{z} || !PyArray_IS_C_CONTIGUOUS({z}) || !PyArray_CompareLists(PyArray_DIMS({z}), dims, 4)) {{
                Py_XDECREF({z});
                {z} = (PyArrayObject*) PyArray_EMPTY(4, dims, PyArray_TYPE({x}), 0);
                if (!{z}) {{ Py_DECREF(src_array); {fail} }}
            }}
            const dtype_{x}* src = (const dtype_{x}*) PyArray_DATA(src_array);
            dtype_{z}* dst = (dtype_{z}*) PyArray_DATA({z});
            for (npy_intp i = 0; i < KH; ++i)
                for (npy_intp j = 0; j < KW; ++j)
                    for (npy_intp c = 0; c < CB; ++c) {{
                        const dtype_{x}* plane = src + c * H * W + i * DH * W + j * DW;
                        for (npy_intp y = 0; y < OH; ++y) {{
                            const dtype_{x}* row = plane + y * SH * W;
                            for (npy_intp x = 0; x < OW; ++x) *dst++ = row[x * SW];
                        }}
                    }}
            Py_DECREF(src_array);
        }}"""


class Col2Im(_WindowOp):
    """(image, its taps, g [kh*kw, c*b, oh, ow]) -> the gradient of the image: each tap's g added back where the
    tap read (the image gives only the shape; the taps are the pullback's argument, unused)."""

    def make_node(self, image, stacked, g) -> Apply:
        image, stacked, g = (pt.as_tensor_variable(v) for v in (image, stacked, g))
        return Apply(self, [image, stacked, g], [image.type()])

    def perform(self, node, inputs, outputs) -> None:
        (image, _, g), (out,) = inputs, outputs
        grad = np.zeros_like(image, dtype=g.dtype)
        for tap, (rows, cols) in zip(g, _taps(self.window, *g.shape[2:]), strict=True):
            grad[:, rows, cols] += tap
        out[0] = grad

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x, _, g), (z,), fail = inames, onames, sub["fail"]
        return f"""{{
            PyArrayObject* g_array = PyArray_GETCONTIGUOUS({g});
            if (!g_array) {{ {fail} }}
            {self._geometry(x)}
            if (!{z} || !PyArray_IS_C_CONTIGUOUS({z}) || !PyArray_CompareLists(PyArray_DIMS({z}), PyArray_DIMS({x}), 3)) {{
                Py_XDECREF({z});
                {z} = (PyArrayObject*) PyArray_EMPTY(3, PyArray_DIMS({x}), PyArray_TYPE({g}), 0);
                if (!{z}) {{ Py_DECREF(g_array); {fail} }}
            }}
            if (!PyArray_CompareLists(PyArray_DIMS(g_array), dims, 4)) {{
                Py_DECREF(g_array);
                PyErr_SetString(PyExc_ValueError, "col2im: the gradient's shape does not match the image's taps");
                {fail}
            }}
            const dtype_{g}* src = (const dtype_{g}*) PyArray_DATA(g_array);
            dtype_{z}* dst = (dtype_{z}*) PyArray_DATA({z});
            for (npy_intp c = 0; c < CB; ++c) {{
                dtype_{z}* plane = dst + c * H * W;
                for (npy_intp p = 0; p < H * W; ++p) plane[p] = 0;
                for (npy_intp i = 0; i < KH; ++i)
                    for (npy_intp j = 0; j < KW; ++j) {{
                        const dtype_{g}* tap = src + ((i * KW + j) * CB + c) * OH * OW;
                        for (npy_intp y = 0; y < OH; ++y) {{
                            dtype_{z}* row = plane + (y * SH + i * DH) * W + j * DW;
                            for (npy_intp x = 0; x < OW; ++x) row[x * SW] += *tap++;
                        }}
                    }}
            }}
            Py_DECREF(g_array);
        }}"""
