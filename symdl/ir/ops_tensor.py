"""Registry entries of the linear-algebra, shape, window and indexing operators (see `opdef.py`)."""

from __future__ import annotations

import numpy as np

from symdl.ir.einsum import einsum_rule
from symdl.ir.opdef import Attr, register
from symdl.ir.types import NUMPY_DTYPE, TensorType, TypeRuleError, broadcast_shapes, normalize_axis, promote, to_float
from symdl.ir.windows import avg_pool_ref, avg_pool_rule, conv2d_ref, conv2d_rule, pool_ref, pool_rule


def _np(dtype: str):
    return np.dtype(NUMPY_DTYPE[dtype])


# ---- linear algebra -------------------------------------------------------------------


def _matmul_rule(types, attrs):
    """NumPy's matmul: a vector is a row (left) or a column (right); leading batch axes broadcast."""
    a, b = types
    if a.ndim == 0 or b.ndim == 0:
        raise TypeRuleError("matrix product", "both sides need at least one dimension", "E402")
    left = (1, *a.shape) if a.ndim == 1 else a.shape
    right = (*b.shape, 1) if b.ndim == 1 else b.shape
    k_a, k_b = left[-1], right[-2]
    if k_a is not None and k_b is not None and k_a != k_b:
        raise TypeRuleError("matrix product", f"inner dimensions differ: {k_a} vs {k_b}")
    batch = broadcast_shapes(left[:-2], right[:-2])
    shape = batch + left[-2:-1] * (a.ndim > 1) + right[-1:] * (b.ndim > 1)
    return TensorType(promote(a.dtype, b.dtype), shape)


register(
    "matmul",
    2,
    _matmul_rule,
    np.matmul,
    doc="a @ b: the matrix product; 3-d and more multiply the last two axes, the batch axes broadcast",
    surface="dot",
    inputs=("a", "b"),
    symbol="{0} @ {1}",
)
register(
    "einsum",
    (1, None),
    einsum_rule,
    lambda *xs, spec: np.einsum(spec, *xs),
    doc='einsum("ij,jk->ik", a, b): sums of products named by a compile-time spec',
    surface="einsum",
    inputs=("xs",),
    attrs=(Attr("spec", "str", leading=True),),
)


def _inv_rule(types, attrs):
    (t,) = types
    if t.ndim != 2 or (None not in t.shape and t.shape[0] != t.shape[1]):
        raise TypeRuleError("matrix inverse", f"needs a square matrix, got {t}", "E402")
    return t.with_dtype(to_float(t.dtype))


register("inv", 1, _inv_rule, np.linalg.inv, doc="the inverse of a square matrix", surface="inv", inputs=("x",))


def _one_hot_rule(types, attrs):
    (t,) = types
    if t.dtype not in ("u8", "i32", "i64"):
        raise TypeRuleError("one_hot", f"needs integer labels, got {t}", "E401")
    n = attrs["n"]
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TypeRuleError("one_hot", f"the number of classes must be a positive integer, got {n!r}", "E402")
    return TensorType("f32", (*t.shape, n))


def _one_hot_ref(y, n):
    """A label outside 0 .. n-1 (negative, or too large) gives a row of zeros."""
    return (np.asarray(y)[..., None] == np.arange(n)).astype(np.float32)


register(
    "one_hot",
    1,
    _one_hot_rule,
    _one_hot_ref,
    doc="integer labels to f32[..., n]",
    surface="one_hot",
    inputs=("y",),
    attrs=(Attr("n", "int"),),
)


# ---- shape --------------------------------------------------------------------------------


def _transpose_rule(types, attrs):
    (t,) = types
    perm = attrs.get("perm") or tuple(reversed(range(t.ndim)))
    if sorted(perm) != list(range(t.ndim)):
        raise TypeRuleError("transpose", f"permutation {perm} does not fit a {t.ndim}-d tensor", "E402")
    return TensorType(t.dtype, tuple(t.shape[p] for p in perm))


register(
    "transpose",
    1,
    _transpose_rule,
    lambda x, perm=None: np.transpose(x, perm),
    doc="reverse the axes, or permute them",
    surface="transpose",
    inputs=("x",),
    attrs=(Attr("perm", "axes", None),),
)


def _reshape_rule(types, attrs):
    (t,) = types
    shape = tuple(attrs["shape"])
    if shape.count(-1) > 1:
        raise TypeRuleError("reshape", "at most one dimension may be -1", "E402")
    known = [d for d in t.shape]
    if None in known:
        return TensorType(t.dtype, tuple(None if d == -1 else d for d in shape))
    total = int(np.prod(known)) if known else 1
    rest = int(np.prod([d for d in shape if d != -1])) if shape else 1
    if -1 in shape:
        if rest == 0 or total % rest:
            raise TypeRuleError("reshape", f"cannot reshape {t} into {shape}")
        shape = tuple(total // rest if d == -1 else d for d in shape)
    elif rest != total:
        raise TypeRuleError("reshape", f"cannot reshape {t} ({total} elements) into {shape} ({rest} elements)")
    return TensorType(t.dtype, shape)


register(
    "reshape",
    1,
    _reshape_rule,
    lambda x, shape: np.reshape(x, shape),
    doc="at most one -1",
    surface="reshape",
    inputs=("x",),
    attrs=(Attr("shape", "ints"),),
)


def _flatten_rule(types, attrs):
    (t,) = types
    ndim = attrs.get("ndim", 1)
    if not 1 <= ndim <= max(t.ndim, 1):
        raise TypeRuleError("flatten", f"ndim {ndim} does not fit a {t.ndim}-d tensor", "E402")
    rest = t.shape[ndim - 1 :]
    flat = None if None in rest else int(np.prod(rest)) if rest else 1
    return TensorType(t.dtype, t.shape[: ndim - 1] + (flat,))


def _flatten_ref(x, ndim=1):
    return np.reshape(x, x.shape[: ndim - 1] + (-1,))


register(
    "flatten",
    1,
    _flatten_rule,
    _flatten_ref,
    doc="keep ndim - 1 leading axes, merge the rest",
    surface="flatten",
    inputs=("x",),
    attrs=(Attr("ndim", "int", 1),),
)


def _concatenate_rule(types, attrs):
    first = types[0]
    axis = normalize_axis(attrs.get("axis", 0), first.ndim)
    for t in types[1:]:
        if t.ndim != first.ndim or any(a != b for i, (a, b) in enumerate(zip(t.shape, first.shape)) if i != axis and None not in (a, b)):
            raise TypeRuleError("concatenate", f"{first} and {t} differ outside axis {axis}")
    sizes = [t.shape[axis] for t in types]
    total = None if None in sizes else sum(sizes)
    shape = tuple(total if i == axis else d for i, d in enumerate(first.shape))
    return TensorType(promote(*(t.dtype for t in types)), shape)


register(
    "concatenate",
    (1, None),
    _concatenate_rule,
    lambda *xs, axis=0: np.concatenate(xs, axis=axis),
    doc="join along axis: concatenate([a, b], axis = 1) or concatenate(a, b, axis = 1)",
    surface="concatenate",
    inputs=("xs",),
    attrs=(Attr("axis", "int", 0),),
)


def _fill_rule(types, attrs):
    return TensorType(attrs["dtype"], tuple(attrs["shape"]))


_FILL = (Attr("shape", "ints"), Attr("dtype", "dtype", "f32"))
register("zeros", 0, _fill_rule, lambda shape, dtype: np.zeros(shape, _np(dtype)), doc="a tensor of zeros", surface="zeros", attrs=_FILL)
register("ones", 0, _fill_rule, lambda shape, dtype: np.ones(shape, _np(dtype)), doc="a tensor of ones", surface="ones", attrs=_FILL)
register(
    "arange",
    0,
    lambda types, attrs: TensorType("i64", (attrs["n"],)),
    lambda n: np.arange(n, dtype=np.int64),
    doc="0, 1, ..., n-1 as i64[n]",
    surface="arange",
    attrs=(Attr("n", "int"),),
)
register(
    "stop_gradient",
    1,
    lambda types, attrs: types[0],
    lambda x: x,
    doc="the identity, whose gradient is zero (grad's constant=)",
    surface="stop_gradient",
    inputs=("x",),
)


# ---- convolution and pooling (Theano's conv2d and pool_2d, NCHW) -------------------------------


register(
    "conv2d",
    2,
    conv2d_rule,
    conv2d_ref,
    doc="2-d convolution (the kernel flipped) of [b, c, h, w] by [out, c / groups, kh, kw], zero-padded, every stride-th"
    " position, the taps dilation apart, the channels in groups",
    surface="conv2d",
    inputs=("x", "W"),
    attrs=(
        Attr("padding", "padding", (0, 0), quiet=True),
        Attr("stride", "pair", (1, 1), quiet=True),
        Attr("dilation", "pair", (1, 1), quiet=True, least=1),
        Attr("groups", "int", 1, quiet=True, least=1),
    ),
)
_POOL = (Attr("size", "ints", (2, 2)), Attr("ignore_border", "bool", True), Attr("stride", "pair?", None, quiet=True))
register(
    "max_pool2d",
    1,
    pool_rule,
    pool_ref,
    doc="max over size windows of the last two axes, every stride (default: size, not overlapping)",
    surface="max_pool2d",
    inputs=("x",),
    attrs=_POOL,
)
register(
    "avg_pool2d",
    1,
    avg_pool_rule,
    avg_pool_ref,
    doc="mean over size windows of the last two axes, every stride; a partial window averages what it holds",
    surface="avg_pool2d",
    inputs=("x",),
    attrs=_POOL,
)


def _dim_rule(types, attrs):
    (t,) = types
    normalize_axis(attrs["axis"], t.ndim)
    return TensorType("i64", ())


register(
    "dim", 1, _dim_rule, lambda x, axis: np.int64(np.shape(x)[axis]), doc="the length of axis (i64): x.shape[k] or len(x) of a ? dimension"
)


# ---- indexing -------------------------------------------------------------------
# `index` takes the indexed tensor and its tensor indices as inputs; attr `spec`
# lists one entry per subscript: ("int", k) | ("slice", lo, hi, step) | ("tensor", j),
# where j counts the tensor indices in order.


def _slice_len(dim: int | None, lo, hi, step) -> int | None:
    if dim is None:
        return None if (lo is None or hi is None or lo < 0 or hi < 0) else len(range(lo, hi, step or 1))
    return len(range(dim)[slice(lo, hi, step)])


def _index_rule(types, attrs):
    base, indices = types[0], types[1:]
    spec = attrs["spec"]
    if len(spec) > base.ndim:
        raise TypeRuleError("indexing", f"{len(spec)} subscripts for a {base.ndim}-d tensor", "E409")
    out: list[int | None] = []
    advanced: list[tuple[int, TensorType]] = []
    for axis, entry in enumerate(spec):
        dim = base.shape[axis]
        if entry[0] == "int":
            if dim is not None and not -dim <= entry[1] < dim:
                raise TypeRuleError("indexing", f"index {entry[1]} is out of range for dimension {axis} of size {dim}", "E409")
        elif entry[0] == "slice":
            out.append(_slice_len(dim, *entry[1:]))
        else:
            index_type = indices[entry[1]]
            if index_type.is_float:
                raise TypeRuleError("indexing", f"an index must be an integer tensor, got {index_type}", "E401")
            advanced.append((len(out), index_type))
            out.append(_ADVANCED)  # placeholder where the advanced dims go
    out += list(base.shape[len(spec) :])
    if advanced:
        shape = broadcast_shapes(*(t.shape for _, t in advanced))
        positions = [i for i, d in enumerate(out) if d is _ADVANCED]
        adjacent = positions == list(range(positions[0], positions[0] + len(positions)))
        rest = [d for d in out if d is not _ADVANCED]
        at = positions[0] if adjacent else 0
        out = rest[:at] + list(shape) + rest[at:]
    return TensorType(base.dtype, tuple(out))


_ADVANCED = object()


def _index_ref(x, *indices, spec):
    key = []
    for entry in spec:
        key.append(entry[1] if entry[0] == "int" else slice(*entry[1:]) if entry[0] == "slice" else indices[entry[1]])
    return x[tuple(key)]


register("index", (1, None), _index_rule, _index_ref, doc="x[...]: ints, slices and integer tensors")
