"""Registered rewrites over the IR, run in order; each reports where it fired."""

from symdl.passes.phases import run_passes
from symdl.passes.registry import PASSES, PassReport

__all__ = ["PASSES", "PassReport", "run_passes"]
