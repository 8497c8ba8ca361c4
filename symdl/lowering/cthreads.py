"""C loops that share the cores between threads (threads.h): as many as MKL's thread count, so the ops link the BLAS.

Without MKL the loops run in one thread and the BLAS threads its own products (a BLAS's thread count has no common
C call). `Threaded.support` is threads.h after the BLAS's declarations; an op adds its own loops after it, and
`c_alloc` its outputs' buffers."""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import pytensor
from pytensor.tensor.blas_c import BaseBLAS

HERE = Path(__file__).parent


@functools.cache
def mkl() -> bool:
    """Whether the BLAS is MKL, whose thread count the loops take and whose products they make single-threaded."""
    return "mkl" in pytensor.config.blas__ldflags


def header(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def version(code: str) -> tuple:
    """A C module's cache version from its code (PyTensor does not recompile a versioned op whose code changed)."""
    return (mkl(), hashlib.sha256(code.encode()).hexdigest()[:16])


class Threaded(BaseBLAS):
    """A C op whose support code starts with threads.h (BaseBLAS links the BLAS and declares its functions). With MKL
    its threads are OpenMP's from MKL's own runtime (libiomp5, beside it), so they and MKL's take turns on the cores:
    MKL's threads spin 200 ms after a product, and pthreads of the loops' own ran beside them (LeNet's C step 76.3
    against 55.7 ms with MKL's spinning turned off, which made the MLP's 0.42 ms step 0.83 ms)."""

    def c_compile_args(self, **kwargs) -> list[str]:
        return super().c_compile_args(**kwargs) + (["-fopenmp"] if mkl() else [])

    def c_libraries(self, **kwargs) -> list[str]:
        return (["iomp5"] if mkl() else []) + super().c_libraries(**kwargs)

    def c_support_code(self, **kwargs) -> str:
        return super().c_support_code(**kwargs) + ("#ifndef SYMDL_MKL\n#define SYMDL_MKL\n#endif\n" if mkl() else "") + header("threads.h")


def c_alloc(z: str, nd: int | str, dims: str, like: str, release: str, fail: str) -> str:
    """C: (re)allocate z, C-contiguous, of `dims` [nd], like's dtype, unless the last call's fits."""
    return f"""
        if (!{z} || !PyArray_IS_C_CONTIGUOUS({z}) || !PyArray_CompareLists(PyArray_DIMS({z}), {dims}, {nd})) {{
            Py_XDECREF({z});
            {z} = (PyArrayObject*) PyArray_EMPTY({nd}, {dims}, PyArray_TYPE({like}), 0);
            if (!{z}) {{ {release} {fail} }}
        }}"""
