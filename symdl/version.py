"""symdl's version, below every layer (run directories record it)."""

__version__ = "0.1.0"
