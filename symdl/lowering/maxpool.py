"""Max over the ph x pw windows that tile the last two axes, and its gradient: PyTensor graphs every backend
can run, and C loops (maxpool.h) the C backend takes in place of both (`host.HostGraph`), on the BLAS's threads.

The gradient is the max's: the upstream gradient where an element equals its window's max (ties all get it),
`(x == max) * g`. As a graph it is one elementwise loop over [..., h/ph, ph, w/pw, pw], whose innermost axis is
pw long (2 in LeNet): 6.6 ms for LeNet's first layer against 4.0 ms for the loop, which computes the same
numbers (fwd + grad, /tmp microbenchmark, loaded). The max's loop computes PyTensor's maximum as selects (a
branch on random data was slower than the graph's two elementwise passes); with the gradient's, on two threads,
LeNet's C step took 55.92 against 57.80 ms with the graph's passes and the single-threaded gradient (A/B in one
process).
"""

from __future__ import annotations

import functools

import pytensor.tensor as pt
from pytensor.graph.basic import Apply
from pytensor.tensor.type import TensorType

from symdl.lowering.cthreads import Threaded, c_alloc, header, version
from symdl.lowering.host import HostGraph


def window_max(x, ph: int, pw: int):
    """max over the ph x pw windows that tile x's last two axes (static, multiples of ph and pw)."""
    return _window_max_graph(ph, pw, x.type)(x)


@functools.cache
def _window_max_graph(ph: int, pw: int, type_: TensorType) -> HostGraph:
    """In two elementwise passes over rows [..., ph * w]: the maximum of the ph row blocks (unit stride), then
    of the pw strided columns (about 7x faster than one maximum of ph*pw strided views, itself faster than
    Max over a reshape)."""
    x = type_()
    (h, w), lead = type_.shape[-2:], [x.shape[i] for i in range(x.ndim - 2)]
    rows = x.reshape((-1, ph * w))
    tall = functools.reduce(pt.maximum, [rows[:, k * w : (k + 1) * w] for k in range(ph)])
    out = functools.reduce(pt.maximum, [tall[:, j::pw] for j in range(pw)]).reshape((*lead, h // ph, w // pw))
    grad_x, pooled, g = type_(), out.type(), out.type()
    windows = grad_x.reshape((*(grad_x.shape[i] for i in range(x.ndim - 2)), h // ph, ph, w // pw, pw))
    spread = (..., slice(None), None, slice(None), None)
    grad = (pt.eq(windows, pooled[spread]) * g[spread]).reshape(grad_x.shape)
    pullback = HostGraph([grad_x, pooled, g], [grad], host=WindowMaxGrad(ph, pw), name="window_max_grad")
    return HostGraph([x], [out], host=WindowMax(ph, pw), pullback=pullback, name="window_max")


class _WindowOp(Threaded):
    """The windows' sides, and the loops (maxpool.h), which run on the BLAS's threads (cthreads.py)."""

    __props__ = ("ph", "pw")

    def __init__(self, ph: int, pw: int):
        self.ph, self.pw = ph, pw

    def c_code_cache_version(self):
        return (5, *version(self.c_support_code()))

    def c_support_code(self, **kwargs) -> str:
        return super().c_support_code(**kwargs) + header("maxpool.h")

    def _sides(self, x: str, fail: str) -> str:
        """C: H, W of x (nd >= 2) and its ROWS of windows, and a contiguous reference `xc` (released by the caller)."""
        return f"""
            const int nd = PyArray_NDIM({x});
            const npy_intp H = PyArray_DIMS({x})[nd - 2], W = PyArray_DIMS({x})[nd - 1];
            const npy_intp ROWS = PyArray_SIZE({x}) / (H * W ? H * W : 1) * (H / {self.ph});
            PyArrayObject* xc = PyArray_GETCONTIGUOUS({x});
            if (!xc) {{ {fail} }}"""


class WindowMax(_WindowOp):
    """x -> the max of each ph x pw window that tiles its last two axes (multiples of ph and pw)."""

    def make_node(self, x) -> Apply:
        x = pt.as_tensor_variable(x)
        h, w = x.type.shape[-2:]
        sides = (None if h is None else h // self.ph, None if w is None else w // self.pw)
        return Apply(self, [x], [TensorType(x.dtype, shape=(*x.type.shape[:-2], *sides))()])

    def perform(self, node, inputs, outputs) -> None:
        (x,), (out,) = inputs, outputs
        h, w = x.shape[-2:]
        out[0] = x.reshape((*x.shape[:-2], h // self.ph, self.ph, w // self.pw, self.pw)).max(axis=(-3, -1))

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x,), (z,), fail = inames, onames, sub["fail"]
        return f"""{{
            {self._sides(x, fail)}
            npy_intp dims[NPY_MAXDIMS];
            memcpy(dims, PyArray_DIMS({x}), nd * sizeof(npy_intp));
            dims[nd - 2] = H / {self.ph};
            dims[nd - 1] = W / {self.pw};
            {c_alloc(z, "nd", "dims", x, "Py_DECREF(xc);", fail)}
            symdl_window_max<{self.ph}, {self.pw}>((const dtype_{x}*) PyArray_DATA(xc), (dtype_{z}*) PyArray_DATA({z}), ROWS, W);
            Py_DECREF(xc);
        }}"""


class WindowMaxGrad(_WindowOp):
    """(x, its window maxima, g) -> (x == its window's max) * g, g spread over each window."""

    def make_node(self, x, pooled, g) -> Apply:
        x, pooled, g = (pt.as_tensor_variable(v) for v in (x, pooled, g))
        return Apply(self, [x, pooled, g], [x.type()])

    def perform(self, node, inputs, outputs) -> None:
        (x, pooled, g), (out,) = inputs, outputs
        h, w = x.shape[-2:]
        windows = x.reshape((*x.shape[:-2], h // self.ph, self.ph, w // self.pw, self.pw))
        spread = (..., slice(None), None, slice(None), None)
        out[0] = ((windows == pooled[spread]) * g[spread]).astype(x.dtype).reshape(x.shape)

    def c_code(self, node, name, inames, onames, sub) -> str:
        (x, m, g), (z,), fail = inames, onames, sub["fail"]
        release = "Py_DECREF(xc); Py_XDECREF(mc); Py_XDECREF(gc);"
        return f"""{{
            {self._sides(x, fail)}
            PyArrayObject *mc = PyArray_GETCONTIGUOUS({m}), *gc = PyArray_GETCONTIGUOUS({g});
            if (!mc || !gc) {{ {release} {fail} }}
            if (PyArray_SIZE(mc) != ROWS * (W / {self.pw}) || PyArray_SIZE(gc) != PyArray_SIZE(mc)) {{
                {release}
                PyErr_SetString(PyExc_ValueError, "window max gradient: the maxima or the gradient do not match the windows");
                {fail}
            }}
            {c_alloc(z, "nd", f"PyArray_DIMS({x})", x, release, fail)}
            symdl_window_max_grad<{self.ph}, {self.pw}>((const dtype_{x}*) PyArray_DATA(xc), (const dtype_{m}*) PyArray_DATA(mc),
                                  (const dtype_{g}*) PyArray_DATA(gc), (dtype_{z}*) PyArray_DATA({z}), ROWS, W);
            {release}
        }}"""
