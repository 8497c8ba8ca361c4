"""symdl: a declarative graph compiler for deep-learning models, lowered to PyTensor."""

import glob
import os
import sys

from symdl.version import __version__


def _blas_ldflags() -> str:
    """The linker flags of the best BLAS here: MKL from the `mkl` wheel, else the system's OpenBLAS, else none.

    PyTensor 3 finds no BLAS for its C backend on its own here (NumPy's is bundled under another name),
    so its matrix products fall back to slow loops (the MLP step took 5.3 ms instead of 0.9 ms). MKL is
    preferred where installed: its products of a few rows use both cores, where Debian's OpenBLAS 0.3.21
    ran the RBM's 30 Gibbs products (20 x 784 x 500) no faster on two threads than on one (4.93 against
    5.12 ms; MKL 3.88 against 4.98), and it uses AVX-512 where that OpenBLAS takes the CPU for a Haswell."""
    mkl = sorted(glob.glob(os.path.join(sys.prefix, "lib", "libmkl_rt.so.*")))
    if mkl:  # the wheel ships only the versioned name, which `-l:` links; its directory goes into the rpath
        lib = os.path.dirname(mkl[0])
        return rf"-L{lib} -l:{os.path.basename(mkl[0])} -Wl\,-rpath\,{lib}"  # `\,`: PYTENSOR_FLAGS splits on commas
    linkable = glob.glob("/usr/lib/*/libopenblas.so") + glob.glob("/usr/lib/libopenblas.so") + glob.glob("/usr/local/lib/libopenblas.so")
    return "-lopenblas" if linkable else ""  # the -dev package's libopenblas.so, which -lopenblas needs


def _link_blas() -> None:
    """Point PyTensor at the best BLAS here unless the user has chosen one (before PyTensor loads)."""
    flags, chosen = os.environ.get("PYTENSOR_FLAGS", ""), _blas_ldflags()
    if "blas__ldflags" not in flags and chosen:
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, f"blas__ldflags={chosen}"]))


_link_blas()


def load(path, params=None, backend=None, exclude=(), **overrides):
    """Parse, check, rewrite and lower a model file; see `symdl.api.load`."""
    from symdl.api import load as _load

    return _load(path, params=params, backend=backend, exclude=exclude, **overrides)


def train(path, out, max_epochs=None, train_limit=None, backend=None, data=None, **overrides):
    """Train a model with its recipes as `symdl run` does, into `out`; see `symdl.runtime.results.train`."""
    from symdl.runtime.results import train as _train

    return _train(path, out, max_epochs=max_epochs, train_limit=train_limit, backend=backend, data=data, **overrides)


def read_run(path):
    """A run directory that `symdl run` wrote: its metrics, summary and config; see `symdl.runtime.results`."""
    from symdl.runtime.results import read_run as _read_run

    return _read_run(path)


__all__ = ["load", "train", "read_run", "__version__"]
