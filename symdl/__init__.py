"""symdl: a declarative graph compiler for deep-learning models, lowered to PyTensor."""

import glob
import os

from symdl.version import __version__


def _link_system_blas() -> None:
    """PyTensor 3 finds no BLAS for its C backend here (numpy's is bundled under another name), so its
    matrix products fall back to slow loops: the MLP step took 5.3 ms instead of 0.9 ms. Point it at
    the system's OpenBLAS when one is installed and the user has not chosen (before PyTensor loads)."""
    flags = os.environ.get("PYTENSOR_FLAGS", "")
    linkable = glob.glob("/usr/lib/*/libopenblas.so") + glob.glob("/usr/lib/libopenblas.so") + glob.glob("/usr/local/lib/libopenblas.so")
    if "blas__ldflags" not in flags and linkable:  # the -dev package's libopenblas.so, which -lopenblas needs
        os.environ["PYTENSOR_FLAGS"] = ",".join(filter(None, [flags, "blas__ldflags=-lopenblas"]))


_link_system_blas()


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
