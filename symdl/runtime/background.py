"""Functions compiled beside each other: a run's validation function compiles while its training step does.

Where the time goes lets two compiles overlap even under the GIL: PyTensor's C backend waits on g++ in
a subprocess, and Numba's LLVM passes run in llvmlite's C++ code. A compile runs in a daemon thread
(an interrupted run does not wait for it); whoever needs the function waits for it (`Pending.result`),
and the progress line then says how long that compile took and whether it ran in the background.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext

from symdl.runtime.progress import compile_notice, compiled_notice


class Pending:
    """One function being compiled: `start()` it in a thread, or let `result()` compile it in the caller's."""

    def __init__(self, what: str, work: Callable[[], object], verbose: bool, lock: threading.Lock | None = None, note: str = "") -> None:
        self.what, self.verbose, self.note = what, verbose, note  # `note`: said after the seconds
        self._lock = lock  # held while compiling: builds of one compiler go one at a time
        self._work = work
        self._done = threading.Event()
        self._thread: threading.Thread | None = None
        self._value: object = None
        self._error: BaseException | None = None
        self._reported = False
        self.started: float | None = None
        self.seconds: float | None = None  # how long the compile took, once done

    def start(self) -> Pending:
        self._thread = threading.Thread(target=self._run, name=f"compile {self.what}", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        with self._lock or nullcontext():  # the seconds count from here: waiting for another build is not compiling
            self.started = time.perf_counter()
            try:
                self._value = self._work()
            except BaseException as error:  # raised again in the thread that needs the function
                self._error = error
            finally:
                self.seconds = time.perf_counter() - self.started
                self._done.set()

    @property
    def done(self) -> bool:
        """Whether the compile has finished (or failed), without waiting."""
        return self._done.is_set()

    def result(self, quiet: bool = False) -> object:
        """The compiled function. The first time, a progress line: compiled here (no thread was started),
        waited for (the seconds counted from the compile's own start), or done already in the background;
        none when `quiet` (the caller reports it)."""
        if self._reported or quiet:
            self._done.wait()
        elif self._thread is None:
            with compile_notice(self.what, self.verbose, note=self.note):
                self._run()
        elif not self._done.is_set():
            with compile_notice(self.what, self.verbose, started=self.started, note=self._noted("in the background")):
                self._done.wait()
        elif self.verbose and self._error is None:
            compiled_notice(self.what, self.seconds, self._noted("in the background"))
        self._reported = True
        if self._error is not None:
            raise self._error
        return self._value

    def _noted(self, where: str) -> str:
        return f"{where}; {self.note}" if self.note else where


class Compiles:
    """A model's compiles under way, so `settle()` can wait for all of them before training steps run."""

    def __init__(self, verbose: bool) -> None:
        self.verbose = verbose
        self.pending: list[Pending] = []

    def add(self, what: str, work: Callable[[], object], concurrent: bool, lock: threading.Lock | None = None, note: str = "") -> Pending:
        """A compile of `what`: started now in a thread when `concurrent`, else when its result is needed."""
        pending = Pending(what, work, self.verbose, lock, note)
        self.pending.append(pending)
        return pending.start() if concurrent else pending

    def settle(self) -> None:
        """Wait for every compile asked for so far (each reported once, in the order asked)."""
        while self.pending:
            self.pending.pop(0).result()
