"""The backends: one table of names, PyTensor modes and what each is for; the CLI, the Python API and gradcheck derive from it.

`auto` (the default) is no PyTensor mode: it picks one of the others per function (`auto_backend`), by the
cost of a typical run, cold compile plus steps (tools/bench_compile.py and tools/bench.py measure both)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span
from symdl.ir.nodes import Function, Program, toposort

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
    # its matrix products copy a transposed operand first (Numba's np.dot), so they take it untransposed (transposed.py)
    copies_transposes: bool = False
    # a short loop of known length unrolled rather than scanned (`Lowered._unrolls`)
    unroll: bool = False
    compiler: str = ""  # functions of one compiler build one at a time; of two, side by side (`symdl.runtime.background`)
    concurrent: bool = True  # may compile in a background thread at all
    # the functions that start on the quick tier (`quick_mode`) while it compiles (`symdl.runtime.tiers`): "steps"
    # (those that update values) or "measures" (those that do not). Numba's cold compile of the MLP's step takes
    # ~23 s, the quick tier's 0.3 s; C compiles the MLP's validate in ~2 s quiet but 10-14 s beside a loaded
    # training, and a measure's calls are few (1000 an epoch for the MLP); C's steps tier too (the MLP on C: a
    # fresh first epoch 4.9 s against 3.1 s warm, tools/bench_compile.py); Numba's measures too: compiled in this
    # process, Numba held the GIL and stalled the training steps for the whole compile (a cold one-epoch MLP run
    # with --backend numba, loaded: 54.9 s against 7.0 s once its validate tiered)
    tiered: tuple[str, ...] = ()


BACKENDS: dict[str, Backend] = {
    b.name: b
    for b in (
        Backend(
            "numba",
            "NUMBA",
            "Numba: fast steps, slow first compile",
            gradcheck=True,
            compiles_at_first_call=True,
            compiler="numba",
            copies_transposes=True,
            tiered=("steps", "measures"),
        ),
        # C: PyTensor's module cache is safe across processes, not across threads (two threads compiling LeNet's
        # functions into a cold cache failed an assertion in `ModuleCache`): one C build at a time
        Backend(
            "c",
            "CVM",
            "PyTensor's C linker with MKL or OpenBLAS",
            gradcheck=True,
            compiler="c",
            keeps_buffers=True,
            runs_python=True,
            unroll=True,
            tiered=("steps", "measures"),
        ),
        # JAX: its functions share one random key cell, adopted as each is built (`lowering.device.GeneratorCell`)
        Backend("jax", "JAX", "JAX (GPU); static shapes", gradcheck=False, compiles_at_first_call=True, compiler="jax", concurrent=False),
        Backend(
            "fast",
            "FAST_COMPILE",
            "compiles fastest (tests); its sums round least (gradcheck's)",
            gradcheck=True,
            compiler="c",
            runs_python=True,
        ),
        Backend("auto", "", "per function: numba for training steps, c for loops, convolutions and measures", gradcheck=False),
    )
}
AUTO = "auto"
DEFAULT_BACKEND = AUTO

# Ops whose cold Numba compile costs minutes against C's tens of seconds (LeNet's conv step 169 s against 43 s,
# a GRU's scan 53 s against ~10 s: shared/PYTENSOR3.md, issue 14), more than Numba's faster steps win back in
# a model's default run.
SLOW_ON_NUMBA = frozenset({"scan", "conv2d"})


def auto_backend(fn: Function) -> str:
    """`auto`'s pick for one function. A function that updates nothing (a validation or test measure) runs
    once an epoch: C compiles it ~3x faster cold (MLP validate 1.9 s against 5.4 s) and its cache is shared
    by every model. A training step runs thousands of times a run: Numba's steps (MLP: 0.59 ms against 0.80 ms
    on C, tools/bench.py, quiet, 2026-12-05) repay its slower first compile (~25 s against ~15 s) within about 20 epochs,
    and the MLP's default run (early stopping, 1000 epochs at most) is longer; unless the step holds a loop
    or a convolution (`SLOW_ON_NUMBA`)."""
    if not fn.updates:
        return "c"
    if any(n.op in SLOW_ON_NUMBA for n in toposort(fn.roots())):
        return "c"
    return "numba"


def mode_of(backend: str) -> Mode:
    """The PyTensor mode of a backend name, not `auto` (PyTensor loads here, not when the CLI lists the backends)."""
    from pytensor.compile.mode import Mode, get_mode
    from pytensor.link.vm import VMLinker

    from symdl.lowering import batched, layout, ufuncs  # noqa: F401  their rewrites register with HOST_TAG as they load
    from symdl.lowering.host import HOST_TAG

    chosen = BACKENDS[backend]
    # PyTensor folds `scalar * (a @ b)` into a Dot22Scalar even when the product has other uses, and then computes
    # the product twice: Adam's `0.1 * g` and `g ** 2` made every gradient product twice (mlp_dropout's C step
    # 0.86x without the rewrite; the scaling fuses into the elementwise work anyway)
    mode = get_mode(chosen.mode).excluding("local_dot22_to_dot22scalar")
    if chosen.keeps_buffers:  # the CVM mode's own linker, without freeing intermediates (allow_gc)
        mode = Mode(VMLinker(use_cloop=True, allow_gc=False), mode.provided_optimizer)
    if chosen.runs_python:
        mode = mode.including(HOST_TAG)
    if chosen.copies_transposes:
        from symdl.lowering.transposed import TRANSPOSED_TAG

        mode = mode.including(TRANSPOSED_TAG)
    return mode if chosen.compiles_at_first_call else inline_graph_ops(mode)


def quick_mode() -> Mode:
    """The quick tier's mode: PyTensor's Python linker, which compiles nothing (no C module, no Numba), with FAST_RUN's
    rewrites but fusion (a fused Composite runs its scalar code in Python, element by element)."""
    from pytensor.compile.mode import Mode, get_mode
    from pytensor.link.basic import PerformLinker

    rewrites = get_mode("FAST_RUN").provided_optimizer.excluding("fusion", "local_dot22_to_dot22scalar")
    return inline_graph_ops(Mode(PerformLinker(), rewrites))


def inline_graph_ops(mode: Mode) -> Mode:
    """`mode` with every OpFromGraph replaced by its inner graph. PyTensor 3's softmax and log-softmax are
    OpFromGraphs; in a C or Python VM their `perform` compiles the inner graph at the first call, in the
    default mode, Numba: 13 s of a cold MLP's first C step (unannounced, outside `compiling`), ~1 s warm.
    Inlined, they compile with the rest of the function, in C, and fuse with its elementwise work."""
    from pytensor.compile.builders import OpFromGraph
    from pytensor.graph.rewriting.basic import dfs_rewriter, node_rewriter
    from pytensor.tensor.rewriting.ofg import inline_ofg_node

    @node_rewriter([OpFromGraph])
    def inline_graph_op(fgraph, node):
        return inline_ofg_node(node)

    return mode.register((dfs_rewriter(inline_graph_op), 2.5))  # after specialize (2), before fusion (49)


def resolve_backend(program: Program, requested: str | None, where: Span | None = None) -> str:
    """The backend a model runs on: the one asked for, else the model's `backend` hyper (declared at `where`), else the
    default; `auto` is resolved per function by `auto_backend`."""
    if requested is not None:
        return requested
    chosen = dict(program.hypers).get("backend", DEFAULT_BACKEND)
    if chosen not in BACKENDS:
        fail("E506", where, hint=f"backends: {', '.join(BACKENDS)}", name=chosen)
    return chosen
