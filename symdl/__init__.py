"""symdl: a declarative graph compiler for deep-learning models, lowered to PyTensor."""

__version__ = "0.1.0"


def load(path, params=None, backend="numba", **overrides):
    """Parse, check, rewrite and lower a model file; see `symdl.runtime.model.load`."""
    from symdl.runtime.model import load as _load

    return _load(path, params=params, backend=backend, **overrides)


__all__ = ["load", "__version__"]
