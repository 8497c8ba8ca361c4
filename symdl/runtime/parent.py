"""Child processes that must not outlive the process that started them: a tier's compile, a sweep trial's run.

The child arranges it itself, first thing: a `preexec_fn` would make subprocess fork the parent, and a fork of a
threaded process (Ray's workers, JAX) can deadlock before the child execs.
"""

from __future__ import annotations

import ctypes
import os
import sys

PARENT_ENV = "SYMDL_PARENT_PID"  # a parent that sets it to its pid has `symdl run` stop (SIGTERM) when it dies
PR_SET_PDEATHSIG = 1


def die_with_parent(parent: int, sig: int) -> None:
    """Receive `sig` when the parent dies, however it dies (Linux; elsewhere nothing), and exit at once if the
    parent is already gone (this child was orphaned before the signal was set)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, sig)
    except (OSError, AttributeError):  # no prctl: a stopped trial's run may finish its epoch before it notices
        return
    if os.getppid() != parent:
        sys.exit(1)
