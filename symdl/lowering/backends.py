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
    """A way to run compiled functions: its PyTensor mode, whether gradcheck may difference on it,
    whether the real compile happens at the first call (Numba's and JAX's jit), not when PyTensor builds it,
    whether it runs Python ops natively (then noise comes from NumPy's float32 generator: `noise.py`),
    and whether a short loop of known length is unrolled rather than scanned (`Lowered._unrolls`)."""

    name: str
    mode: str
    about: str
    gradcheck: bool
    compiles_at_first_call: bool = False
    host_noise: bool = False
    unroll: bool = False


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend("numba", "NUMBA", "Numba: fastest steps for most models, slow first compile", gradcheck=True, compiles_at_first_call=True),
        Backend("c", "CVM", "PyTensor's C linker with OpenBLAS", gradcheck=True, host_noise=True, unroll=True),
        Backend("jax", "JAX", "JAX (the GPU path); needs static shapes", gradcheck=False, compiles_at_first_call=True),
        Backend(
            "fast", "FAST_COMPILE", "compiles fastest (tests); its sums round least (gradcheck's default)", gradcheck=True, host_noise=True
        ),
    )
}
DEFAULT_BACKEND = "numba"


def mode_of(backend: str) -> Mode:
    """The PyTensor mode of a backend name (PyTensor loads here, not when the CLI lists the backends)."""
    from pytensor.compile.mode import get_mode

    return get_mode(BACKENDS[backend].mode)


def resolve_backend(program: Program, requested: str | None, where: Span | None = None) -> str:
    """The backend a model runs on: the one asked for, else the model's `backend` hyper (declared at `where`), else the default."""
    if requested is not None:
        return requested
    chosen = dict(program.hypers).get("backend", DEFAULT_BACKEND)
    if chosen not in BACKENDS:
        fail("E506", where, hint=f"backends: {', '.join(BACKENDS)}", name=chosen)
    return chosen
