"""Max over the ph x pw windows that tile the last two axes, and its gradient: PyTensor graphs every backend
can run, and for the gradient a C loop the C backend takes in place of the graph (`host.HostGraph`).

The gradient is the max's: the upstream gradient where an element equals its window's max (ties all get it),
`(x == max) * g`. As a graph it is one elementwise loop over [..., h/ph, ph, w/pw, pw], whose innermost axis is
pw long (2 in LeNet): 6.6 ms for LeNet's first layer against 4.0 ms for the loop, which computes the same
numbers (fwd + grad, /tmp microbenchmark, loaded). A C loop for the max itself was slower than the graph's
two elementwise passes (3.5 against 1.9 ms).
"""

from __future__ import annotations

import functools

import pytensor.tensor as pt
from pytensor.compile.builders import OpFromGraph
from pytensor.graph.basic import Apply
from pytensor.link.c.op import COp
from pytensor.tensor.type import TensorType

from symdl.lowering.host import HostGraph


def window_max(x, ph: int, pw: int):
    """max over the ph x pw windows that tile x's last two axes (static, multiples of ph and pw)."""
    return _window_max_graph(ph, pw, x.type)(x)


@functools.cache
def _window_max_graph(ph: int, pw: int, type_: TensorType) -> OpFromGraph:
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
    return OpFromGraph([x], [out], inline=True, pullback=pullback, name="window_max")


def _release(names: list[str]) -> str:
    return " ".join(f"Py_XDECREF({n}_c);" for n in names)


class WindowMaxGrad(COp):
    """(x, its window maxima, g) -> (x == its window's max) * g, g spread over each window."""

    __props__ = ("ph", "pw")

    def __init__(self, ph: int, pw: int):
        self.ph, self.pw = ph, pw

    def c_code_cache_version(self):
        return (3,)

    @staticmethod
    def _contiguous(names: list[str], fail: str) -> str:
        """C: a contiguous reference `<name>_c` to each input (released by `_release`)."""
        lines = [f"PyArrayObject* {n}_c = PyArray_GETCONTIGUOUS({n});" for n in names]
        check = " || ".join(f"!{n}_c" for n in names)
        return "\n".join(lines) + f"\nif ({check}) {{ {_release(names)} {fail} }}"

    @staticmethod
    def _output(z: str, like: str, shape: str, nd: str, release: str, fail: str) -> str:
        """C: (re)allocate z, C-contiguous, of dims `shape` [nd] and like's dtype, unless the last call's fits."""
        return f"""
            if (!{z} || !PyArray_IS_C_CONTIGUOUS({z}) || !PyArray_CompareLists(PyArray_DIMS({z}), {shape}, {nd})) {{
                Py_XDECREF({z});
                {z} = (PyArrayObject*) PyArray_EMPTY({nd}, {shape}, PyArray_TYPE({like}), 0);
                if (!{z}) {{ {release} {fail} }}
            }}"""

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
        nd, ph, pw = node.inputs[0].ndim, self.ph, self.pw
        return f"""{{
            {self._contiguous([x, m, g], fail)}
            const npy_intp H = PyArray_DIMS({x})[{nd - 2}], W = PyArray_DIMS({x})[{nd - 1}];
            const npy_intp N = PyArray_SIZE({x}) / (H * W ? H * W : 1), OW = W / {pw};
            if (PyArray_SIZE({m}) != N * (H / {ph}) * OW || PyArray_SIZE({g}) != PyArray_SIZE({m})) {{
                {_release([x, m, g])}
                PyErr_SetString(PyExc_ValueError, "window max gradient: the maxima or the gradient do not match the windows");
                {fail}
            }}
            {self._output(z, x, f"PyArray_DIMS({x})", nd, _release([x, m, g]), fail)}
            const dtype_{x}* xs = (const dtype_{x}*) PyArray_DATA({x}_c);
            const dtype_{m}* ms = (const dtype_{m}*) PyArray_DATA({m}_c);
            const dtype_{g}* gs = (const dtype_{g}*) PyArray_DATA({g}_c);
            dtype_{z}* dst = (dtype_{z}*) PyArray_DATA({z});
            const npy_intp rows = N * (H / {ph});
            dtype_{m}* wide = (dtype_{m}*) malloc(sizeof(dtype_{m}) * (W ? W : 1));
            dtype_{g}* spread = (dtype_{g}*) malloc(sizeof(dtype_{g}) * (W ? W : 1));
            if (!wide || !spread) {{ free(wide); free(spread); {_release([x, m, g])} PyErr_NoMemory(); {fail} }}
            /* per row of windows: its maxima and gradients spread over the row's width once, then one
               elementwise loop per image row (the compiler vectorises it) */
            for (npy_intp r = 0; r < rows; ++r) {{
                for (npy_intp c = 0; c < W; ++c) {{
                    wide[c] = ms[r * OW + c / {pw}];
                    spread[c] = gs[r * OW + c / {pw}];
                }}
                for (int i = 0; i < {ph}; ++i) {{
                    const dtype_{x}* __restrict xr = xs + (r * {ph} + i) * W;
                    dtype_{z}* __restrict zr = dst + (r * {ph} + i) * W;
                    for (npy_intp c = 0; c < W; ++c) zr[c] = (dtype_{z}) ((xr[c] == wide[c]) * spread[c]);
                }}
            }}
            free(wide);
            free(spread);
            {_release([x, m, g])}
        }}"""
