"""Tensor types: a dtype and a static shape over named (resolved) dimensions.

A dimension is an int, known when the model is compiled, or None (`?` in the text),
known only at run time. Backends see every int dimension as a static constant.
"""

from __future__ import annotations

from dataclasses import dataclass

DTYPES = ("bool", "u8", "i32", "i64", "f32", "f64")
NUMPY_DTYPE = {"bool": "bool", "u8": "uint8", "i32": "int32", "i64": "int64", "f32": "float32", "f64": "float64"}
FROM_NUMPY = {v: k for k, v in NUMPY_DTYPE.items()}
FLOATS = ("f32", "f64")
INTS = ("bool", "u8", "i32", "i64")


class TypeRuleError(Exception):
    """A type rule's refusal; the builder turns it into a user error at the expression."""

    def __init__(self, what: str, detail: str = "", code: str = "E400", arg: str | None = None) -> None:
        super().__init__(what)
        self.what, self.detail, self.code = what, detail, code
        self.arg = arg  # the argument at fault (an attribute's keyword): the error points at it


@dataclass(frozen=True, slots=True)
class TensorType:
    dtype: str
    shape: tuple[int | None, ...] = ()

    @property
    def ndim(self) -> int:
        return len(self.shape)

    @property
    def is_float(self) -> bool:
        return self.dtype in FLOATS

    def __str__(self) -> str:
        if not self.shape:
            return self.dtype
        return f"{self.dtype}[{', '.join('?' if d is None else str(d) for d in self.shape)}]"

    def with_dtype(self, dtype: str) -> TensorType:
        return TensorType(dtype, self.shape)


def scalar(dtype: str) -> TensorType:
    return TensorType(dtype, ())


def promote(*dtypes: str) -> str:
    """The common dtype: floats win (f32 unless f64 is present), else the widest integer.

    Unlike NumPy, i64 with f32 stays f32: deep-learning graphs keep float32 throughout.
    """
    floats = [d for d in dtypes if d in FLOATS]
    if floats:
        return "f64" if "f64" in floats else "f32"
    return max(dtypes, key=DTYPES.index)


def to_float(dtype: str) -> str:
    return dtype if dtype in FLOATS else "f32"


def broadcast_shapes(*shapes: tuple[int | None, ...]) -> tuple[int | None, ...]:
    """NumPy broadcasting over static shapes; an unknown dimension broadcasts with anything."""
    ndim = max((len(s) for s in shapes), default=0)
    padded = [(1,) * (ndim - len(s)) + tuple(s) for s in shapes]
    out: list[int | None] = []
    for axis, dims in enumerate(zip(*padded)):
        known = {d for d in dims if d is not None and d != 1}
        if len(known) > 1:
            raise TypeRuleError("broadcast", f"dimension {axis} differs: {' vs '.join(str(d) for d in dims)}", "E404")
        if known:
            out.append(known.pop())
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


def normalize_axis(axis: int, ndim: int) -> int:
    if not -ndim <= axis < max(ndim, 1):
        raise TypeRuleError("axis", f"axis {axis} is out of range for a {ndim}-d tensor", "E403")
    return axis % ndim if ndim else 0
