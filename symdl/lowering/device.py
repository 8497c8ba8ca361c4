"""What the JAX linker leaves to its caller: data kept on the device, one random generator for every function.

PyTensor's JAX linker (`JITLinker.create_jitable_thunk`) calls the jitted function with whatever the
input storage holds: a dataset held as a NumPy array in a shared variable goes to the device at every
call (the whole split, for a step that reads one minibatch of it). Held as a JAX array it stays there;
the updates the function writes back are JAX arrays already, so parameters stay on the device too.

The linker also replaces each shared random generator with a private copy per function (JAX takes a
key, not a NumPy Generator), so the generator symdl checkpoints never moves and two functions draw the
same numbers. `GeneratorCell` makes every function of a program use one storage cell for its key.
"""

from __future__ import annotations

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.ir.nodes import Function


def device_array(array: np.ndarray, backend: str):
    """`array` where the backend's compiled functions read it without a copy: a JAX device array
    under JAX, the array itself elsewhere."""
    if backend != "jax":
        return array
    import jax

    return jax.device_put(array)


def hold(shared, value) -> None:
    """Put `value` into a shared variable as it is: `set_value` would filter a JAX array back to NumPy."""
    if isinstance(value, np.ndarray):
        shared.set_value(value, borrow=True)
    else:
        shared.container.storage[0] = value


def on_device(shared) -> bool:
    """Whether a shared variable's value is a JAX array (what `hold` leaves there under JAX)."""
    return not isinstance(shared.container.storage[0], np.ndarray)


def check_traceable(error: Exception, fn: Function) -> None:
    """Raise a located error when JAX refused to trace `fn` because a shape is known only at run time
    (an allocation or draw sized by a `?` dimension, e.g. a loop's gradient): jit compiles static shapes."""
    if isinstance(error, TypeError) and "concrete values" in str(error):
        fail(
            "E730",
            fn.span,
            name=fn.name,
            hint="give the input a fixed size, or run it with --backend c or numba (docs/LANGUAGE.md, Backends)",
        )


class GeneratorCell:
    """The one storage cell every JAX function of a program reads its random key from and writes the
    next key to, so the stream advances across functions and calls as it does on the other backends."""

    def __init__(self) -> None:
        self.cell: list | None = None
        self.pending: dict | None = None  # a state set (a resumed run) before any function exists

    def adopt(self, compiled, rng) -> None:
        """Point `compiled`'s private generator copy at the shared cell (the first function's becomes it)."""
        for inp, container in zip(compiled.maker.expanded_inputs, compiled.input_storage):
            if inp.variable is not rng:
                continue
            if self.cell is None:
                self.cell = container.storage
                if self.pending is not None:
                    self.set_state(self.pending)
                    self.pending = None
                return
            inputs = compiled.vm.inputs  # the thunk's argument cells (JITLinker.create_jitable_thunk)
            for k, storage in enumerate(inputs):
                if storage is container.storage:
                    inputs[k] = self.cell
            container.storage = self.cell
            return

    def state(self) -> dict | None:
        """The key as JSON-able lists, or None before any function was compiled."""
        if self.cell is None:
            return self.pending
        return {"jax_state": np.asarray(self.cell[0]["jax_state"]).tolist()}

    def set_state(self, state: dict) -> None:
        if self.cell is None:
            self.pending = state
            return
        import jax.numpy as jnp

        self.cell[0] = {**self.cell[0], "jax_state": jnp.asarray(state["jax_state"], dtype=jnp.uint32)}
