"""The backends: one table of names, PyTensor modes and what each is for; the CLI, the Python API and gradcheck derive from it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span
from symdl.ir.nodes import Program

if TYPE_CHECKING:
    from pytensor.compile.mode import Mode


@dataclass(frozen=True)
class Backend:
    """A way to run compiled functions: its PyTensor mode, whether gradcheck may difference on it, and
    whether the real compile happens at the first call (Numba's and JAX's jit), not when PyTensor builds it."""

    name: str
    mode: str
    about: str
    gradcheck: bool
    compiles_at_first_call: bool = False
    # intermediate arrays kept from one call to the next, so each C op writes into its last call's buffer:
    # fresh arrays over glibc's mmap threshold (32 MB; LeNet's im2col patches are 64 MB) are page-faulted
    # anew at every call (LeNet's C step: about 9% faster kept; outputs are still returned unaliased)
    keeps_buffers: bool = False
    # it runs Python ops natively, so noise comes from NumPy's float32 generator (noise.py) and float32
    # tanh is NumPy's vectorised one (host.py)
    runs_python: bool = False
    # a short loop of known length unrolled rather than scanned (`Lowered._unrolls`)
    unroll: bool = False


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("numba", "NUMBA", "Numba: fastest steps for most models, slow first compile", gradcheck=True, compiles_at_first_call=True),
        Backend("c", "CVM", "PyTensor's C linker with OpenBLAS", gradcheck=True, keeps_buffers=True, runs_python=True, unroll=True),
        Backend("jax", "JAX", "JAX (the GPU path); needs static shapes", gradcheck=False, compiles_at_first_call=True),
        Backend(
            "fast", "FAST_COMPILE", "compiles fastest (tests); its sums round least (gradcheck's default)", gradcheck=True, runs_python=True
        ),
    )
}
DEFAULT_BACKEND = "numba"


def mode_of(backend: str) -> Mode:
    """The PyTensor mode of a backend name (PyTensor loads here, not when the CLI lists the backends)."""
    from pytensor.compile.mode import Mode, get_mode
    from pytensor.link.vm import VMLinker

    from symdl.lowering.host import HOST_TAG

    chosen = BACKENDS[backend]
    mode = get_mode(chosen.mode)
    if chosen.keeps_buffers:  # the CVM mode's own linker, without freeing intermediates (allow_gc)
        mode = Mode(VMLinker(use_cloop=True, allow_gc=False), mode.provided_optimizer)
    return mode.including(HOST_TAG) if chosen.runs_python else mode


def resolve_backend(program: Program, requested: str | None, where: Span | None = None) -> str:
    """The backend a model runs on: the one asked for, else the model's `backend` hyper (declared at `where`), else the default."""
    if requested is not None:
        return requested
    chosen = dict(program.hypers).get("backend", DEFAULT_BACKEND)
    if chosen not in BACKENDS:
        fail("E506", where, hint=f"backends: {', '.join(BACKENDS)}", name=chosen)
    return chosen
