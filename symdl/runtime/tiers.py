"""Tiered compilation, as JITs do: a training step starts on a function built in a fraction of a second while
its backend's compile runs beside the training, and the loop switches to the compiled function between two steps.

The quick tier is PyTensor's Python linker (`symdl.lowering.backends.quick_mode`): no C and no Numba compile, the
MLP's step in ~0.7-1.3 ms against Numba's 0.6 ms, built in ~0.3 s, where Numba's cold compile of that step takes
~23 s (issue 14). Both tiers are compiled from one graph over the same shared variables, so parameters and optimiser
state carry over the switch. Which functions tier, per backend: `Backend.tiered` and `Model.tier_mark`.

The slow compile runs in a child process (`symdl.cli.compile_child`), which fills the on-disk caches; then this
process builds the function, loading it from them (~1 s). A thread would share the GIL with the training
loop: the MLP's quick steps took ~47 ms each beside Numba compiling in a thread (loaded machine). The child
is killed when the run ends or is interrupted, and dies with it (PR_SET_PDEATHSIG): what it finished stays
cached (Numba caches each node's function as it compiles), so the next run starts further on. A function
compiled once leaves a mark in symdl's own cache under PyTensor's `base_compiledir`, and later runs compile
it directly (a cache load), without tiers.
"""

from __future__ import annotations

import atexit
import copy
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from symdl.runtime.background import Pending
from symdl.runtime.config import RunConfig


class Tiered:
    """A step that calls `quick` until `pending` (its backend's compile) is done, then the compiled function."""

    def __init__(self, name: str, backend: str, quick: Callable, pending: Pending, say: Callable[[str], None], unit: str = "step") -> None:
        self.name, self.backend, self.quick, self.pending, self.say, self.unit = name, backend, quick, pending, say, unit
        self.compiled: Callable | None = None
        self.calls = 0  # steps made so far, on either tier

    def __call__(self, *args):
        if self.compiled is None and self.pending.done:
            self.switch()
        self.calls += 1
        return (self.compiled or self.quick)(*args)

    def switch(self) -> None:
        """From now on the compiled function (a failed compile raises here, between two steps)."""
        self.compiled = self.pending.result(quiet=True)
        self.say(f"{self.name}: pytensor/{self.backend} ready after {self.pending.seconds:.1f}s, switched at {self.unit} {self.calls}")


@dataclass(frozen=True)
class Job:
    """What a child process needs to build the same graph: the run's settings and the bound function's shape."""

    config: RunConfig
    name: str
    backend: str
    slots: tuple[tuple[str, str, tuple[int, ...]], ...]  # data slot: name, dtype, one minibatch's shape
    batch: int
    fed: tuple[str, ...]

    def to_json(self) -> str:
        """The job as JSON for the child (not a pickle: only the restricted unpickler reads pickles), with the
        settings that shape the graph."""
        c = self.config
        config = {"file": str(c.file), "overrides": c.overrides, "exclude": c.exclude, "nan_guard": c.nan_guard, "data": c.data}
        return json.dumps(
            {"config": config, "name": self.name, "backend": self.backend, "slots": self.slots, "batch": self.batch, "fed": self.fed}
        )

    @staticmethod
    def from_json(text: str) -> Job:
        d = json.loads(text)
        c = d["config"]
        config = RunConfig(
            file=Path(c["file"]), overrides=tuple(c["overrides"]), exclude=tuple(c["exclude"]), nan_guard=c["nan_guard"], data=c["data"]
        )
        slots = tuple((name, dtype, tuple(shape)) for name, dtype, shape in d["slots"])
        return Job(config, d["name"], d["backend"], slots, d["batch"], tuple(d["fed"]))


class Child:
    """`job` compiled in a child process into the on-disk caches; `wait()` says whether it finished."""

    def __init__(self, job: Job) -> None:
        self.stopped = False
        # no preexec_fn: it makes subprocess fork this (threaded, maybe JAX-holding) process; the child sets itself up
        self.process = subprocess.Popen(
            [sys.executable, "-m", "symdl.cli.compile_child", str(os.getpid())],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        atexit.register(self.stop)
        self.process.stdin.write(job.to_json().encode())
        self.process.stdin.close()

    def wait(self) -> bool:
        return self.process.wait() == 0

    def stop(self) -> None:
        """Kill the compile if it is still running (the run is over: it is not needed)."""
        self.stopped = True
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def compile_beside(job: Job, build: Callable[[], object], jit: bool, done: Path) -> tuple[Child, Callable[[], object]]:
    """`job`'s child process, started, and the work that waits for it, then builds the function here from the caches
    it filled (compiling what they lack: all of it if the child failed), Numba's at once (`jit`), and marks it `done`."""
    child = Child(job)

    def compiled():
        if not child.wait() and child.stopped:
            raise RuntimeError("the run ended before its compile")  # nothing waits for it any more
        function = build()
        if jit:
            jit_now(function)
        remember(done)
        return function

    return child, compiled


def jit_now(compiled) -> None:
    """Make a Numba function compile (or load from its cache) now, without running a step of training: its
    jitted graph is a pure function of its inputs, so it is called on copies of those an update may overwrite
    in place (the others are read only), and its outputs are dropped."""
    inputs = compiled.maker.inputs
    values = [_value(cell[0], var.type) for cell, var in zip(compiled.vm.inputs, compiled.maker.fgraph.inputs)]
    values = [copy.deepcopy(v) if i.update is not None or i.mutable else v for v, i in zip(values, inputs)]
    compiled.vm.jit_fn(*values)


def _value(value, type_):
    """An input's current value, or zeros of its type before the first call (the minibatch index)."""
    return np.zeros([d or 1 for d in type_.shape], type_.dtype) if value is None else value


def mark(graph, backend: str) -> Path:
    """The file that says `graph` was compiled on `backend` under this PyTensor cache: named by a hash of the
    graph as PyTensor prints it (its ops, types and names) and the versions that compile it."""
    from importlib.metadata import version

    import pytensor

    text = io.StringIO()
    values = [*graph.outputs, *(v for _, v in graph.updates), *graph.givens.values()]
    pytensor.printing.debugprint(values, file=text, print_type=True)
    compilers = f"numba {version('numba')}" if backend == "numba" else ""  # not imported for a C function
    text.write(f"{backend} {pytensor.__version__} {compilers} {[str(t) for t, _ in graph.updates]}")
    key = hashlib.sha256(text.getvalue().encode()).hexdigest()[:32]
    return Path(pytensor.config.base_compiledir) / "symdl" / "compiled" / key


def remember(done: Path | None) -> None:
    """Leave the mark `done` (a step compiled under this cache), if any."""
    if done is not None:
        done.parent.mkdir(parents=True, exist_ok=True)
        done.touch()


def scans(graph) -> bool:
    """Whether `graph` holds a PyTensor Scan, whose inner function compiles in C at its first call whatever the outer
    linker (`Scan.fn`): on the quick tier that compile would go unannounced, and take the time tiers save."""
    from pytensor.graph.traversal import ancestors
    from pytensor.scan.op import Scan

    values = [*graph.outputs, *(v for _, v in graph.updates), *graph.givens.values()]
    return any(v.owner is not None and isinstance(v.owner.op, Scan) for v in ancestors(values))
