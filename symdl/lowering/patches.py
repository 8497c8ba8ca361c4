"""A convolution's product with its patches, a few images at a time (the C backend's form of im2col + GEMM).

As a graph, `filters.T @ patches` and its gradients are three matrix products over the patches [k, b*oh*ow],
which every backend runs (`host.HostGraph`). In LeNet's second layer the patches are 64 MB: written by im2col,
read by the product and kept for the filters' gradient; the image's gradient likewise wrote 64 MB of columns for
col2im to read back. The C loops here (patches.h) gather (or scatter) the patches of a chunk of the batch into a
buffer that stays in cache between the loop and its BLAS product, and gather them again for the filters' gradient
rather than keep them; the batch is shared between threads (cthreads.py). The image's gradient adds each
element's taps in (i, j) order from zero, as the graph's chain of IncSubtensors does; the products' sums run in the
BLAS's order, chunk by chunk. LeNet's C step: 58.95 against 83.42 ms with loops for im2col and col2im alone and
a Dot22 for each product (A/B in one process, the pooling of maxpool.py in both).
"""

from __future__ import annotations

import functools

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
from pytensor.scalar import upcast
from pytensor.tensor.type import TensorType

from symdl.lowering.cthreads import Threaded, c_alloc, header, version
from symdl.lowering.host import HOST_TAG, HostGraph

Window = tuple[int, int, int, int, int, int]  # kh, kw, dilation h, w, stride h, w

CHUNK_BYTES = 1 << 18  # a chunk's patches, a thread's: within its core's L2 (1 MB on the EPYC measured)
# the batch's share a thread claims at a time, fixed so the filters' gradient sums in one order whatever the threads
SEGMENTS = 16
FLOATS = ("float32", "float64")  # the BLAS's gemm: sgemm_, dgemm_


def patch_product(image, filters, window: Window):
    """filters.T @ the patches of image [c*b, h, w] (rows (i, j, channel), columns (batch, oh, ow)): [o, b*oh*ow].
    Floats are multiplied in their common dtype, as `pt.dot` would; other dtypes (which no BLAS multiplies) by the graph."""
    dtype = upcast(image.dtype, filters.dtype)
    if dtype not in FLOATS:
        return _product(image, filters, window)
    image, filters = pt.cast(image, dtype), pt.cast(filters, dtype)
    return _patch_product_graph(window, image.type, filters.type)(image, filters)


@functools.cache
def _patch_product_graph(window: Window, image_type: TensorType, filters_type: TensorType) -> HostGraph:
    image, filters = image_type(), filters_type()
    out = _product(image, filters, window)
    g_image, g_filters, g_out, g = image_type(), filters_type(), out.type(), out.type()
    grads = pytensor.grad(None, [g_image, g_filters], known_grads={_product(g_image, g_filters, window): g})
    pullback = HostGraph([g_image, g_filters, g_out, g], grads, host=PatchProductGrad(*window, True), name="patch_product_grad")
    return HostGraph([image, filters], [out], host=PatchProduct(*window), pullback=pullback, name="patch_product")


def _product(image, filters, window: Window):
    return pt.dot(filters.T, _stack(image, window).reshape((filters.shape[0], -1)))


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


def _numpy_patches(image, window: Window):
    return np.stack([image[:, rows, cols] for rows, cols in _taps(window, *_sides(image.shape, window))])


class _ChunkOp(Threaded):
    """Geometry and loops shared by the two ops (patches.h), which call the BLAS's gemm."""

    __props__ = ("kh", "kw", "dh", "dw", "sh", "sw")

    def __init__(self, kh: int, kw: int, dh: int, dw: int, sh: int, sw: int):
        self.kh, self.kw, self.dh, self.dw, self.sh, self.sw = kh, kw, dh, dw, sh, sw

    @property
    def window(self) -> Window:
        return self.kh, self.kw, self.dh, self.dw, self.sh, self.sw

    def c_code_cache_version(self):
        return (4, CHUNK_BYTES, SEGMENTS, *version(self.c_support_code()))

    def c_support_code(self, **kwargs) -> str:
        return super().c_support_code(**kwargs) + _LOOPS

    def _geometry(self, x: str, f: str, fail: str) -> str:
        """C: the image's and filters' sides (K rows of patches, O filters, N = B*OH*OW columns) as `win`; fails on
        filters that do not fit the image."""
        kh, kw, dh, dw, sh, sw = self.window
        return f"""
            const npy_intp CB = PyArray_DIMS({x})[0], H = PyArray_DIMS({x})[1], W = PyArray_DIMS({x})[2];
            const npy_intp K = PyArray_DIMS({f})[0], O = PyArray_DIMS({f})[1], C = K / {kh * kw};
            const npy_intp OH = (H - {(kh - 1) * dh + 1}) / {sh} + 1, OW = (W - {(kw - 1) * dw + 1}) / {sw} + 1;
            if (K % {kh * kw} || !C || CB % C || OH < 1 || OW < 1) {{
                PyErr_SetString(PyExc_ValueError, "patch product: the filters do not fit the image's channels and window");
                {fail}
            }}
            const npy_intp B = CB / C, N = B * OH * OW;
            const symdl_window win = {{{kh}, {kw}, {dh}, {dw}, {sh}, {sw}, C, B, H, W, OH, OW}};
        """


_LOOPS = header("patches.h")


def _data(name: str, var: str) -> str:
    """C: the data of array `name`, typed as var's elements (a typed NULL for "NULL", for the template to deduce)."""
    return f"(dtype_{var}*) " + ("NULL" if name == "NULL" else f"PyArray_DATA({name})")


class PatchProduct(_ChunkOp):
    """(image [c*b, h, w], filters [kh*kw*c, o]) -> filters.T @ the image's patches, [o, b*oh*ow]."""

    def make_node(self, image, filters) -> Apply:
        image, filters = pt.as_tensor_variable(image), pt.as_tensor_variable(filters)
        (cb, h, w), (k, o) = image.type.shape, filters.type.shape
        n = None
        if None not in (cb, h, w, k):  # b*oh*ow where the sides are known, as the graph's product has it
            oh, ow = _sides((cb, h, w), self.window)
            n = cb // (k // (self.kh * self.kw)) * oh * ow
        return Apply(self, [image, filters], [TensorType(image.dtype, shape=(o, n))()])

    def perform(self, node, inputs, outputs) -> None:
        (image, filters), (out,) = inputs, outputs
        out[0] = filters.T @ _numpy_patches(image, self.window).reshape((filters.shape[0], -1))

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x, f), (z,), fail = inames, onames, sub["fail"]
        release = "Py_DECREF(xc); Py_DECREF(fc);"
        return f"""{{
            {self._geometry(x, f, fail)}
            PyArrayObject *xc = PyArray_GETCONTIGUOUS({x}), *fc = PyArray_GETCONTIGUOUS({f});
            if (!xc || !fc) {{ Py_XDECREF(xc); Py_XDECREF(fc); {fail} }}
            npy_intp dims[2] = {{O, N}};
            {c_alloc(z, 2, "dims", x, release, fail)}
            if (symdl_patch_product(win, {_data("xc", x)}, {_data("fc", f)}, (const dtype_{x}*) NULL, {_data(z, z)},
                                    (dtype_{z}*) NULL, (dtype_{z}*) NULL, K, O, {CHUNK_BYTES}, {SEGMENTS})) {{
                {release} PyErr_NoMemory(); {fail}
            }}
            {release}
        }}"""


class PatchProductGrad(_ChunkOp):
    """(image, filters, the product, g [o, b*oh*ow]) -> (the image's gradient, if `image`, and the filters'):
    the filters' the patches @ g.T, chunk by chunk; the image's col2im of filters @ g (the product is unused)."""

    __props__ = (*_ChunkOp.__props__, "image")

    def __init__(self, kh: int, kw: int, dh: int, dw: int, sh: int, sw: int, image: bool):
        super().__init__(kh, kw, dh, dw, sh, sw)
        self.image = image

    def make_node(self, image, filters, out, g) -> Apply:
        image, filters, out, g = (pt.as_tensor_variable(v) for v in (image, filters, out, g))
        grads = [image.type(), filters.type()] if self.image else [filters.type()]
        return Apply(self, [image, filters, out, g], grads)

    def perform(self, node, inputs, outputs) -> None:
        (image, filters, _, g) = inputs
        taps = _numpy_patches(image, self.window)
        grads = [taps.reshape((filters.shape[0], -1)) @ g.T]
        if self.image:
            cols = (filters @ g).reshape(taps.shape)
            grad = np.zeros_like(image)
            for tap, (rows, cols_) in zip(cols, _taps(self.window, *taps.shape[2:]), strict=True):
                grad[:, rows, cols_] += tap
            grads.insert(0, grad)
        for out, grad in zip(outputs, grads, strict=True):
            out[0] = grad

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x, f, _, g), fail = inames, sub["fail"]
        (zx, zf) = onames if self.image else ("NULL", onames[0])
        release = "Py_DECREF(xc); Py_DECREF(fc); Py_DECREF(gc);"
        return f"""{{
            {self._geometry(x, f, fail)}
            PyArrayObject *xc = PyArray_GETCONTIGUOUS({x}), *fc = PyArray_GETCONTIGUOUS({f}), *gc = PyArray_GETCONTIGUOUS({g});
            if (!xc || !fc || !gc) {{ Py_XDECREF(xc); Py_XDECREF(fc); Py_XDECREF(gc); {fail} }}
            if (PyArray_DIMS(gc)[0] != O || PyArray_DIMS(gc)[1] != N) {{
                {release}
                PyErr_SetString(PyExc_ValueError, "patch product gradient: g does not match the product");
                {fail}
            }}
            {c_alloc(zx, 3, f"PyArray_DIMS({x})", x, release, fail) if self.image else ""}
            {c_alloc(zf, 2, f"PyArray_DIMS({f})", x, release, fail)}
            if (symdl_patch_product(win, {_data("xc", x)}, {_data("fc", f)}, {_data("gc", g)}, (dtype_{x}*) NULL,
                                    {_data(zx, x)}, {_data(zf, zf)}, K, O, {CHUNK_BYTES}, {SEGMENTS})) {{
                {release} PyErr_NoMemory(); {fail}
            }}
            {release}
        }}"""


@node_rewriter([PatchProductGrad])
def _unused_image_grad(fgraph, node):
    """The filters' gradient alone where the image's is unused (a first layer's image is data)."""
    if not node.op.image or fgraph.clients[node.outputs[0]]:
        return None
    op = node.op
    alone = PatchProductGrad(op.kh, op.kw, op.dh, op.dw, op.sh, op.sw, False).make_node(*node.inputs).outputs[0]
    return {node.outputs[1]: alone}


def _register() -> None:
    from pytensor.compile import optdb

    # after the host graphs are swapped in (-0.02), before any other rewrite
    optdb.register("symdl_unused_image_grad", dfs_rewriter(_unused_image_grad), HOST_TAG, position=-0.015)


_register()
