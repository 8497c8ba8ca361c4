"""The model `symdl.load` returns (see `symdl.api`): values by name and functions compiled on first use.

m = symdl.load("models/mlp.sdl", n_hidden=800)
m.fn.train(x=xb, y=yb)          # compiled on first use
m.params["hidden.W"]            # numpy arrays in and out, by name
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterator, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.nodes import Function, Node, Program, toposort
from symdl.ir.recipes import feed_value
from symdl.ir.types import NUMPY_DTYPE
from symdl.lowering.backends import BACKENDS
from symdl.lowering.device import check_traceable
from symdl.runtime.background import Compiles, Pending
from symdl.runtime.checkpoint import load_arrays
from symdl.runtime.config import RunConfig
from symdl.runtime.tiers import Job, Tiered, compile_beside, mark, remember, scans


@dataclass
class Tick:
    """One shared scalar the loop sets: `value(position)`, recomputed only when the counters it `reads` move."""

    slot: object
    reads: tuple[str, ...]
    value: Callable[[dict[str, int]], np.ndarray]
    last: tuple[int, ...] | None = None


@dataclass
class Clock:
    """Sets the loop's position into the model: the built-in `step` and `epoch` states it declares, and the
    scalar inputs a stage feeds (`RecipeCall.feeds`) computed from them."""

    ticks: list[Tick] = field(default_factory=list)

    def at(self, step: int, epoch: int) -> None:
        position = {"step": step, "epoch": epoch}
        for tick in self.ticks:
            now = tuple(position[name] for name in tick.reads)
            if now != tick.last:
                tick.slot.set_value(tick.value(position))
                tick.last = now


class Model:
    """A compiled model: its hyperparameters, values by name and compiled functions."""

    def __init__(
        self, program: Program, config: RunConfig | None = None, verbose: bool = False, rewritten: frozenset[int] = frozenset()
    ) -> None:
        self.program = program
        self.config = config or RunConfig()
        self.hypers = dict(self.program.hypers)
        self.backend = self.config.backend_for(program)  # the run's; `auto` picks per function (`backend_of`)
        self.verbose = verbose
        self.rewritten = rewritten  # ids of the nodes rewrites built (drawings highlight them)
        self.compiling = False
        self._modes: dict[str, object] = {}
        self._lowered = None
        self._feeds: dict[str, object] = {}
        self._compiles = Compiles(verbose)
        self._first_calls = threading.Lock()  # a first call sets values and puts them back: one at a time
        self._builds: dict[str, threading.Lock] = {}  # per compiler (`Backend.compiler`)
        self._held: tuple[dict, dict] | None = None  # values and generator state a first call will put back
        self._children: list = []  # tiered compiles' child processes (`symdl.runtime.tiers.Child`)
        self.fn = FunctionTable(self)
        self.params = ValueTable(self, [n.name for n in self.program.params])
        self.state = ValueTable(self, [n.name for n in self.program.states])

    @property
    def seed(self) -> int:
        seed = self.hypers.get("seed", 1234)
        return seed if isinstance(seed, int) else 1234

    def backend_of(self, name: str) -> str:
        """The backend function `name` compiles on (`RunConfig.backend_of`)."""
        return self.config.backend_of(self.function(name), self.program)

    def backends(self) -> dict[str, str]:
        """Every function's backend, by name (what config.json records)."""
        return {f.name: self.backend_of(f.name) for f in self.program.functions}

    def mode_of(self, backend: str):
        """The PyTensor mode a function on `backend` compiles in, as the run's settings decide it."""
        if backend not in self._modes:
            self._modes[backend] = self.config.mode_for(backend)
        return self._modes[backend]

    @property
    def lowered(self):
        if self._lowered is None:
            from symdl.lowering.lower import Lowered  # PyTensor only when something runs

            self._lowered = Lowered(self.program, self.seed, self.backend)
        return self._lowered

    def compile(self, name: str, binding=None, fed: tuple[str, ...] = ()):
        """The PyTensor function of `name`, ready to run: on a backend that compiles at the first call
        (Numba, JAX) that call is made here, on saved values put back after, so the wait is announced
        as compiling and the first training step is a step."""
        return self.ready(self._pending(name, binding, fed, background=False))

    def compile_soon(self, name: str, binding=None, fed: tuple[str, ...] = ()) -> Pending:
        """Start compiling `name` in a background thread, beside the others asked for (where its backend
        allows); `ready(pending)` or `settle()` waits for it."""
        return self._pending(name, binding, fed, background=True)

    def settle(self) -> None:
        """Wait for every compile under way, so no first call (which sets values) overlaps a training step."""
        self.compiling = True  # a Ctrl-C during a compile stops at once (no step is half done)
        try:
            self._compiles.settle()
        finally:
            self.compiling = False

    def close(self) -> None:
        """Stop the compiles still running in child processes: the run is over (what they finished stays cached)."""
        for child in self._children:
            child.stop()

    def ready(self, pending: Pending):
        """The compiled function of `pending`, waited for."""
        self.compiling = True
        try:
            return pending.result()
        finally:
            self.compiling = False

    def _pending(self, name: str, binding, fed: tuple[str, ...], background: bool) -> Pending:
        fn, backend = self.function(name), self.backend_of(name)
        feeds = {i.name: self.feed_slot(i.name) for i in fn.inputs if i.name in fed}
        graph, mode = self.lowered.graph(fn, binding, feeds, backend), self.mode_of(backend)  # here: lowering is not thread-safe
        marked = self.tier_mark(fn, graph, backend)
        tiers = self.config.tiers and self.config.file is not None  # the child process opens the model file again
        if background and binding is not None and marked and tiers and not marked.exists():
            return self._tiered(fn, graph, mode, backend, (binding, fed))

        def work():
            compiled = self.lowered.build(graph, mode)
            if not self.config.nan_guard and BACKENDS[backend].compiles_at_first_call:
                with self._first_calls:
                    self._first_call(compiled, fn, binding, feeds, backend)
            remember(marked)
            return compiled

        what, lock = f"{name} with pytensor/{backend}", self._build_lock(backend)
        if not background:
            return Pending(what, work, self.verbose, lock)
        return self._compiles.add(what, work, BACKENDS[backend].concurrent and not self.config.nan_guard, lock)

    def _build_lock(self, backend: str) -> threading.Lock:
        """Held while a function of `backend` builds: one build at a time per compiler (`Backend.compiler`)."""
        return self._builds.setdefault(BACKENDS[backend].compiler, threading.Lock())

    def tier_mark(self, fn: Function, graph, backend: str) -> Path | None:
        """The mark of a compiled function that may tier (`symdl.runtime.tiers.mark`); None for one that may not: of a
        kind its backend does not tier (`Backend.tiered`), drawing (Numba's bernoulli is the complement of the quick
        tier's NumPy one, so a switch would change the stream; on C the RBM's drawn chain made epoch 1 on the quick
        tier 55.3 s against 15.5 s compiled), holding a loop (`scans`), or guarded for NaNs (the guard is C's)."""
        chosen = BACKENDS[backend]
        draws = any(target is self.lowered.rng for target, _ in graph.updates)
        if ("steps" if fn.updates else "measures") not in chosen.tiered or draws or scans(graph) or self.config.nan_guard:
            return None
        return mark(graph, backend)

    def _tiered(self, fn: Function, graph, mode, backend: str, bound: tuple) -> Pending:
        """The quick tier's build of `graph`, which yields a `Tiered` step; `backend`'s compile starts beside it,
        in a child process, and this process then loads the result from the caches."""
        from symdl.lowering.backends import quick_mode

        (binding, fed), name, unit = bound, fn.name, "step" if fn.updates else "call"
        slots = tuple((n, s.dtype, (binding.batch, *s.get_value(borrow=True).shape[1:])) for n, s in binding.arrays.items())
        job = Job(self.config, name, backend, slots, binding.batch, fed)
        jit, done = BACKENDS[backend].compiles_at_first_call, mark(graph, backend)
        child, work = compile_beside(job, lambda: self.lowered.build(graph, mode), jit, done)
        self._children.append(child)
        real = Pending(f"{name} with pytensor/{backend}", work, self.verbose, self._build_lock(backend)).start()
        say = (lambda text: print(text, file=sys.stderr, flush=True)) if self.verbose else (lambda text: None)
        note = f"the quick tier, while {backend} compiles beside it"
        quick = lambda: Tiered(name, backend, self.lowered.build(graph, quick_mode()), real, say, unit)  # noqa: E731
        return self._compiles.add(f"{name} with pytensor/py", quick, True, note=note)

    def _first_call(self, compiled, fn: Function, binding, feeds: dict, backend: str) -> None:
        saved, generator = self.values(), self.random_state()
        self._held = saved, generator  # what `values()` reads meanwhile (a checkpoint after Ctrl-C in a compile)
        try:
            if binding is not None:
                compiled(0)
            else:  # zeros of the declared shapes, a `?` dimension as 1
                compiled(*(np.zeros([d or 1 for d in i.type.shape], NUMPY_DTYPE[i.type.dtype]) for i in fn.inputs if i.name not in feeds))
        except Exception as error:  # zeros need not be valid input everywhere: the real first call compiles then
            if backend == "jax":
                check_traceable(error, fn)
        finally:
            self.set_values(saved)
            self.set_random_state(generator)
            self._held = None

    def function(self, name: str) -> Function:
        names = [f.name for f in self.program.functions]
        if name not in names:
            fail("E203", None, hint=did_you_mean(name, names) or f"functions: {', '.join(names)}", name=name)
        return self.program.function(name)

    def values(self) -> dict[str, np.ndarray]:
        """Every parameter and state value, by name (what a checkpoint holds); during a first call, those it will put back."""
        if self._held is not None:
            return dict(self._held[0])
        return {k: np.array(v.get_value()) for k, v in self.lowered.shared.items()}

    def clock(self, feeds: tuple[tuple[str, Node], ...] = ()) -> Clock:
        """The built-in `step` and `epoch` states this model uses (`docs/LANGUAGE.md`) and the scalar inputs
        `feeds` computes from them, for the loop to set."""
        ticks = [
            Tick(self.lowered.shared[n.name], (n.name,), lambda p, name=n.name, dtype=NUMPY_DTYPE[n.type.dtype]: np.asarray(p[name], dtype))
            for n in self.program.states
            if n.attr("clock")
        ]
        inputs = {n.name: n for n in self.program.inputs}
        for name, expr in feeds:
            reads = tuple(sorted({n.name for n in toposort([expr]) if n.is_leaf and n.op != "const"}))
            dtype = inputs[name].type.dtype
            ticks.append(Tick(self.feed_slot(name), reads, lambda p, expr=expr, dtype=dtype: feed_value(expr, p, dtype)))
        return Clock(ticks)

    def feed_slot(self, name: str):
        """The shared scalar a compiled function reads its input `name` from when the loop feeds it."""
        if name not in self._feeds:
            import pytensor

            dtype = NUMPY_DTYPE[next(n for n in self.program.inputs if n.name == name).type.dtype]
            self._feeds[name] = pytensor.shared(np.zeros((), dtype), name=f"fed.{name}")
        return self._feeds[name]

    def random_state(self) -> dict:
        """The draws' generator state (JSON-able), so a resumed run draws what the run would have."""
        return self._held[1] if self._held is not None else self.lowered.random_state()

    def set_random_state(self, state: dict) -> None:
        self.lowered.set_random_state(state)

    def set_values(self, arrays: dict[str, np.ndarray]) -> None:
        for name, value in arrays.items():
            if name in self.lowered.shared:
                shared = self.lowered.shared[name]
                shared.set_value(np.asarray(value, dtype=shared.dtype))

    def _repr_html_(self) -> str:  # Jupyter: hypers, a table of parameters with shapes, the graph
        from symdl.views.notebook import model_html

        return model_html(self.program, self.backend, self.rewritten)

    def load_params(self, run_dir: str | Path) -> None:
        path = Path(run_dir)
        path = path / "params.npz" if path.is_dir() else path
        self.set_values(self.checked_params(load_arrays(path), path))

    def checked_params(self, arrays: dict[str, np.ndarray], path: Path) -> dict[str, np.ndarray]:
        """Saved values checked against this model: every parameter and state there, numbers, the declared shapes."""
        missing = [n for n in self.lowered.shared if n not in arrays]
        if missing:
            fail("E603", None, hint="was it written by this model?", path=path, names=", ".join(missing))
        for name in self.lowered.shared:
            expected = self.lowered.shared[name].type.shape
            if tuple(arrays[name].shape) != tuple(expected):
                fail(
                    "E604",
                    None,
                    hint="load it with the same hyperparameters it was trained with",
                    path=path,
                    name=name,
                    shape=arrays[name].shape,
                    declared=expected,
                )
            if arrays[name].dtype.kind not in "biuf":
                fail("E606", None, hint="was it written by symdl?", path=path, name=name, dtype=arrays[name].dtype)
        return arrays


class FunctionTable:
    """`m.fn.NAME(**inputs)`: compiled on first use, numpy in and out."""

    def __init__(self, model: Model) -> None:
        self._model = model
        self._cache: dict[str, CompiledFunction] = {}

    def __getattr__(self, name: str) -> CompiledFunction:
        if name.startswith("_"):
            raise AttributeError(name)
        if name not in self._cache:
            self._cache[name] = CompiledFunction(self._model, self._model.function(name))
        return self._cache[name]

    def __dir__(self) -> list[str]:
        return [f.name for f in self._model.program.functions]


class CompiledFunction:
    def __init__(self, model: Model, fn: Function) -> None:
        self._model = model
        self._fn = fn
        self._compiled = None
        self.inputs = [i.name for i in fn.inputs]
        self.outputs = [name for name, _ in fn.outputs]

    def _repr_html_(self) -> str:  # Jupyter: the signature, what it updates, its graph
        from symdl.views.notebook import function_html

        return function_html(self._model.program, self._fn, self._model.rewritten)

    def __call__(self, *args: np.ndarray, **kwargs: np.ndarray):
        values = dict(zip(self.inputs, args))
        unknown = [k for k in kwargs if k not in self.inputs]
        if unknown:
            raise TypeError(f"{self._fn.name}() has no input {unknown[0]!r}; inputs: {', '.join(self.inputs)}")
        values.update(kwargs)
        missing = [k for k in self.inputs if k not in values]
        if missing:
            raise TypeError(f"{self._fn.name}() is missing input {missing[0]!r}")
        if self._compiled is None:
            self._compiled = self._model.compile(self._fn.name)
            self._compiled.trust_input = True  # checked here, below: PyTensor's own checks were ~half the call at batch 20
        arrays = [np.require(values[i.name], NUMPY_DTYPE[i.type.dtype], "C") for i in self._fn.inputs]
        for node, array in zip(self._fn.inputs, arrays):  # before PyTensor, whose own message names no input
            if array.ndim != node.type.ndim or any(d is not None and d != a for d, a in zip(node.type.shape, array.shape)):
                raise ValueError(f"{self._fn.name}(): input {node.name!r} is declared {node.type}, got an array of shape {array.shape}")
        out = self._compiled(*arrays)
        out = [np.asarray(o) for o in out]
        return out[0] if len(out) == 1 else tuple(out)


class ValueTable(MutableMapping):
    """Parameters or state by name, read and written as numpy arrays."""

    def __init__(self, model: Model, names: list[str]) -> None:
        self._model = model
        self._names = names

    def _check(self, name: str) -> None:
        if name not in self._names:
            raise KeyError(f"{name!r}; known: {', '.join(self._names)}")

    def __getitem__(self, name: str) -> np.ndarray:
        self._check(name)
        return self._model.lowered.shared[name].get_value()

    def __setitem__(self, name: str, value: np.ndarray) -> None:
        self._check(name)
        shared = self._model.lowered.shared[name]
        shared.set_value(np.asarray(value, dtype=shared.dtype))

    def __delitem__(self, name: str) -> None:
        raise TypeError("parameters cannot be deleted")

    def __iter__(self) -> Iterator[str]:
        return iter(self._names)

    def __len__(self) -> int:
        return len(self._names)


__all__ = ["Model", "fail"]
