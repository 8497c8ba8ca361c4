"""Registered rewrites over the IR, run in order; each reports where it fired."""

from symdl.passes.registry import PASSES, PassReport, run_passes

__all__ = ["PASSES", "PassReport", "run_passes"]
