"""IR program to PyTensor: shared variables for parameters and state, compiled functions.

Every node is lowered through the table in `table.py`, then cast to the IR's dtype
so PyTensor's own promotion rules never widen a float32 graph. Gradients are grouped
per cost (constants are stop_gradient marks inside it) so one `pytensor.grad` call serves every parameter.
"""

from __future__ import annotations

from collections import ChainMap
from dataclasses import dataclass

import numpy as np
import pytensor
import pytensor.tensor as pt
from pytensor.compile.mode import Mode

from symdl.ir.init import initial_values
from symdl.ir.nodes import Function, Node, Program, ScanBody, toposort
from symdl.ir.ops import OPS
from symdl.ir.types import NUMPY_DTYPE, TensorType, promote
from symdl.lowering.backends import BACKENDS
from symdl.lowering.device import GeneratorCell
from symdl.lowering.noise import Segment, below_sigmoid, standard_noise
from symdl.lowering.spans import stamp
from symdl.lowering.table import DRAWS, FROM_NOISE, LOWER

UNROLL_BUDGET = 400  # steps x body nodes: the RBM's 15 Gibbs steps (~225) unroll, its 1000 sampling steps scan


@dataclass(frozen=True)
class Loop:
    """A scan node's parts, lowered: the outer values it reads, its body's nodes, the noise drawn ahead."""

    body: ScanBody
    order: list[Node]
    seqs: list
    inits: list
    closure: list
    closure_nodes: tuple[Node, ...]
    steps: object  # an int, a scalar variable, or None (the sequences' length)
    hoisted: list[Node]
    noise: list
    draws: bool  # a generator is carried through the steps, for draws left inside

    @property
    def n_extra(self) -> int:
        return len(self.body.outputs) - self.body.n_carried


@dataclass
class Binding:
    """Feed a function's inputs from data held in shared variables, one minibatch per index."""

    arrays: dict[str, pytensor.compile.SharedVariable]
    batch: int


@dataclass(frozen=True)
class Graph:
    """One function's PyTensor graph, ready for `pytensor.function`."""

    name: str
    inputs: list
    outputs: list
    updates: list
    givens: dict


class Lowered:
    """A program's PyTensor side: shared variables, input variables and a function cache."""

    def __init__(self, program: Program, seed: int, backend: str = "c") -> None:
        self.program = program
        self.backend = backend  # the run's; under `auto` each function's own is `target` while it lowers
        self.target = BACKENDS[backend]
        rng = np.random.RandomState(seed)
        leaves = (*program.params, *program.states)
        values = initial_values(leaves, rng)
        self.shared = {n.name: pytensor.shared(values[n.name], name=n.name, shape=n.type.shape) for n in leaves}
        self.inputs = {n.name: pt.tensor(name=n.name, dtype=NUMPY_DTYPE[n.type.dtype], shape=n.type.shape) for n in program.inputs}
        # One generator for every draw: each function threads it through its draws in order
        # (scan bodies included) and updates it, so no model file mentions random state.
        self.rng = pt.random.shared_rng(seed=seed)
        self._rng_now = self.rng
        self.generator_cell = GeneratorCell()  # JAX: the key every function shares (the linker copies `rng`)
        self._noise: dict[int, object] = {}  # a scan body's draws, pre-drawn for all steps: this step's slice
        self._traced: dict[int, tuple] = {}  # an unrolled loop's stacked trace (kept alive): (it, its steps' values)

    # ---- graph ---------------------------------------------------------------------------
    def lower_roots(self, roots: list[Node]) -> dict[int, object]:
        """PyTensor variables for every node reachable from `roots`."""
        memo: dict[int, object] = {}
        order = toposort(roots)
        groups = _grad_groups(order)
        self._rng_now, self._traced = self.rng, {}
        for node in order:
            memo[id(node)] = self._lower_node(node, memo, groups)
            stamp(memo[id(node)], node)  # so a runtime fault can name the .sdl line (--nan-guard)
        return memo

    def _lower_node(self, node: Node, memo: dict[int, object], groups: dict) -> object:
        if node.op == "input":
            return self.inputs[node.name]
        if node.op in ("param", "state"):
            return self.shared[node.name]
        if node.op == "const":
            return pt.constant(np.asarray(node.attr("value"), NUMPY_DTYPE[node.type.dtype]))
        if node.op == "grad":
            return self._grad(node, memo, groups)
        if node.op == "scan":
            return self._scan(node, memo)
        if node.op == "scan_out":
            return _fit(memo[id(node.inputs[0])][node.attr("k")], node.type)
        args = [memo[id(i)] for i in node.inputs]
        opdef = OPS[node.op]
        if opdef.kind == "random":
            return self._draw(node, args, memo)
        if node.op == "index" and id(args[0]) in self._traced and node.attr("spec")[0][0] == "int":
            return self._traced_step(node, args)
        if opdef.promoted:
            common = NUMPY_DTYPE[promote(*(node.inputs[k].type.dtype for k in opdef.promoted))]
            args = [pt.cast(a, common) if k in opdef.promoted and a.dtype != common else a for k, a in enumerate(args)]
        out = LOWER[node.op](*args, **dict(node.attrs))
        return _fit(out, node.type)

    def _traced_step(self, node: Node, args: list) -> object:
        """trace[i, ...] of an unrolled loop: step i's own value, without the stack."""
        spec = node.attr("spec")
        value = self._traced[id(args[0])][1][spec[0][1]]
        return _fit(LOWER["index"](value, *args[1:], spec=spec[1:]) if len(spec) > 1 else value, node.type)

    def _grad(self, node: Node, memo: dict[int, object], groups: dict) -> object:
        key = _grad_key(node)
        group = groups[key]
        if "vars" not in group:
            cost = memo[id(node.inputs[0])]
            wrt = [memo[id(w)] for w in group["wrt"]]
            group["vars"] = dict(zip((id(w) for w in group["wrt"]), pytensor.grad(cost, wrt)))
        return _fit(group["vars"][id(node.inputs[1])], node.type)

    def _draw(self, node: Node, args: list, memo) -> object:
        """One draw from the function's generator, which then moves on to the draw's next state."""
        dtype = NUMPY_DTYPE[node.type.dtype]
        if id(node) in self._noise:
            return self._from_noise(node, self._noise[id(node)], args, memo)
        if OPS[node.op].ahead and None not in node.type.shape and self.target.runs_python:
            self._rng_now, (noise,) = standard_noise(self._rng_now, None, [self._segment(node)], host=True)
            return self._from_noise(node, noise, args, memo)
        size = node.type.shape if None not in node.type.shape else None
        self._rng_now, value = DRAWS[node.op](self._rng_now, size, args, dtype, **dict(node.attrs))
        return _fit(value, node.type)

    def _segment(self, node: Node) -> Segment:
        """The standard noise `node` is made from: bernoulli(sigmoid(z)) from logistic noise where it is made on the host."""
        logistic = node.op == "bernoulli" and node.inputs[0].op == "sigmoid" and self.target.runs_python
        return Segment("logistic" if logistic else OPS[node.op].ahead, node.type.shape)

    def _from_noise(self, node: Node, noise, args: list, memo) -> object:
        """A draw from its standard noise, drawn ahead (for every step of a loop, or on the host)."""
        dtype = NUMPY_DTYPE[node.type.dtype]
        if self._segment(node).kind == "logistic":
            return pt.cast(below_sigmoid(noise, memo[id(node.inputs[0].inputs[0])]), dtype)
        return pt.cast(FROM_NOISE[node.op](noise, *args), dtype)

    def _scan(self, node: Node, memo) -> list:
        """The loop over the body, unrolled when short and of a known length (`_unrolls`), else pytensor.scan.
        Draws of a static shape are made for every step at once, outside the loop (`noise.py`), and fed in
        as sequences; the generator rides along as a carried value only for draws left inside (nested
        scans, binomials)."""
        loop = self._loop(node, memo)
        if self._unrolls(loop):
            return self._unroll(loop, memo)
        outputs_info = [None] * loop.n_extra + loop.inits + ([self._rng_now] if loop.draws else [])
        result = pytensor.scan(
            lambda *xs: self._step(loop, memo, xs),
            sequences=loop.seqs + loop.noise,
            outputs_info=outputs_info,
            non_sequences=loop.closure,
            n_steps=loop.steps,
            return_updates=False,
            strict=False,
        )
        result = list(result) if isinstance(result, (list, tuple)) else [result]
        if loop.draws:
            self._rng_now = result.pop()
        return result

    def _loop(self, node: Node, memo) -> Loop:
        body = node.attr("body")
        n_s, n_c, n_k = body.n_seqs, body.n_carried, node.attr("n_closure")
        inputs = [memo[id(i)] for i in node.inputs]
        steps = node.attr("steps") if len(inputs) == n_s + n_c + n_k else inputs[-1]
        order = body.nodes(node.inputs)
        count = steps if steps is not None else inputs[0].shape[0]
        # JAX draws only static shapes: a loop whose length is known only at run time draws step by step
        hoist = self.target.name != "jax" or isinstance(count, int)
        hoisted = [n for n in order if OPS[n.op].ahead and None not in n.type.shape and hoist]
        self._rng_now, noise = standard_noise(self._rng_now, count, [self._segment(n) for n in hoisted], self.target.runs_python)
        return Loop(
            body=body,
            order=order,
            seqs=inputs[:n_s],
            inits=inputs[n_s : n_s + n_c],
            closure=inputs[n_s + n_c : n_s + n_c + n_k],
            closure_nodes=node.inputs[n_s + n_c : n_s + n_c + n_k],
            steps=steps,
            hoisted=hoisted,
            noise=noise,
            draws=any((OPS[n.op].kind == "random" and n not in hoisted) or n.op == "scan" for n in order),
        )

    def _step(self, loop: Loop, memo, xs) -> list:
        """One step of the body on `xs`: sequence elements, noise, carried values, [generator,] closure."""
        n_s, n_c, n_k, n_seq = loop.body.n_seqs, loop.body.n_carried, len(loop.closure), loop.body.n_seqs + len(loop.hoisted)
        local = ChainMap({}, memo)
        for arg, x in zip(loop.body.args, [*xs[:n_s], *xs[n_seq : n_seq + n_c]]):
            local[id(arg)] = x
        saved, self._noise = self._noise, {id(n): x for n, x in zip(loop.hoisted, xs[n_s:n_seq])}
        if loop.draws:
            self._rng_now = xs[n_seq + n_c]
        for c, x in zip(loop.closure_nodes, xs[len(xs) - n_k :] if n_k else ()):
            local[id(c)] = x
        groups = _grad_groups(loop.order)
        for n in loop.order:
            local[id(n)] = self._lower_node(n, local, groups)
        self._noise = saved
        outs = [_fit(local[id(o)], o.type) for o in loop.body.outputs]
        outs = [pt.specify_shape(o, t.type.shape) if None not in t.type.shape else o for o, t in zip(outs, loop.body.outputs)]
        return outs + ([self._rng_now] if loop.draws else [])

    def _unrolls(self, loop: Loop) -> bool:
        """Unroll on backends that prefer it (C: no per-step call into the scan's inner function, and the
        steps' products and elementwise work scheduled as one graph) when the graph stays small."""
        return self.target.unroll and isinstance(loop.steps, int) and loop.steps * _size(loop.order) <= UNROLL_BUDGET

    def _unroll(self, loop: Loop, memo) -> list:
        """The loop as `steps` copies of the body; each trace is a stack of the steps' values, whose
        steps `index` takes directly (`_traced`), so a trace read only at [-1] is never stacked."""
        carried, traces = list(loop.inits), []
        for t in range(loop.steps):
            xs = [s[t] for s in loop.seqs] + [n[t] for n in loop.noise] + carried
            outs = self._step(loop, memo, xs + ([self._rng_now] if loop.draws else []) + loop.closure)
            if loop.draws:
                self._rng_now = outs.pop()
            carried = outs[loop.n_extra :]
            traces.append(outs)
        stacked = []
        for values in zip(*traces):
            stacked.append(pt.stack(values))
            self._traced[id(stacked[-1])] = (stacked[-1], values)
        return stacked

    # ---- functions -------------------------------------------------------------------------
    def function(self, fn: Function, binding: Binding | None, mode: Mode, feeds: dict | None = None):
        """Compile `fn` in `mode` (the caller's: `Model.mode_of`); with a binding, its inputs are minibatches of shared
        data picked by an index; the inputs in `feeds` are read from those shared scalars (the loop sets them)."""
        return self.build(self.graph(fn, binding, feeds), mode)

    def graph(self, fn: Function, binding: Binding | None, feeds: dict | None = None, backend: str | None = None) -> Graph:
        """`fn` as PyTensor variables for `backend` (default the run's), not yet compiled. Lowering threads the one
        generator through the draws (`_rng_now`), so graphs are made one at a time; `build` may then run in several
        threads at once."""
        self.target = BACKENDS[backend or self.backend]
        memo = self.lower_roots(fn.roots())
        outputs = [memo[id(o)] for _, o in fn.outputs]
        updates = [(self.shared[t.name], memo[id(u)]) for t, u in fn.updates]
        if self._rng_now is not self.rng:
            updates.append((self.rng, self._rng_now))
        feeds = feeds or {}
        fed = {self.inputs[name]: slot for name, slot in feeds.items()}
        data = [i for i in fn.inputs if i.name not in feeds]
        if binding is None:
            inputs, givens = [self.inputs[i.name] for i in data], fed
        else:
            index = pt.scalar("index", dtype="int64")
            inputs, givens = [index], fed | {self.inputs[i.name]: self._minibatch(i, binding, index) for i in data}
        return Graph(fn.name, inputs, outputs, updates, givens)

    def build(self, graph: Graph, mode: Mode):
        """The compiled PyTensor function of `graph` (JAX's shares the program's one random key cell)."""
        g = graph
        compiled = pytensor.function(
            g.inputs, g.outputs, updates=g.updates, givens=g.givens, mode=mode, on_unused_input="ignore", name=g.name
        )
        if _is_jax(compiled):
            self.generator_cell.adopt(compiled, self.rng)
        return compiled

    def random_state(self) -> dict:
        """The draws' generator state, JSON-able: under JAX the key the compiled functions share."""
        if self.backend == "jax" and self.generator_cell.state() is not None:
            return self.generator_cell.state()
        return self.rng.get_value(borrow=True).bit_generator.state

    def set_random_state(self, state: dict) -> None:
        if "jax_state" in state:
            self.generator_cell.set_state(state)
            return
        generator = self.rng.get_value(borrow=True)
        generator.bit_generator.state = state
        self.rng.set_value(generator, borrow=True)

    def _minibatch(self, node: Node, binding: Binding, index):
        data = binding.arrays[node.name]
        b = binding.batch
        if self.target.name == "jax":  # static shapes: a gather with a constant arange
            rows = data[index * b + pt.constant(np.arange(b, dtype=np.int64))]
        else:  # a view: the step copies no data
            rows = data[index * b : (index + 1) * b]
        return pt.specify_shape(rows, node.type.shape)


def _is_jax(compiled) -> bool:
    from pytensor.link.jax.linker import JAXLinker

    return isinstance(compiled.maker.linker, JAXLinker)


def _fit(var, type_: TensorType):
    dtype = NUMPY_DTYPE[type_.dtype]
    return var if var.dtype == dtype else pt.cast(var, dtype)


def _size(order: list[Node]) -> int:
    """A body's node count, a nested loop counting its own body once per step."""
    total = 0
    for node in order:
        if node.op == "scan":
            steps = node.attr("steps") if isinstance(node.attr("steps"), int) else 1
            total += steps * _size(node.attr("body").nodes(node.inputs))
        else:
            total += 1
    return total


def _grad_key(node: Node) -> tuple:
    return id(node.inputs[0])


def _grad_groups(order: list[Node]) -> dict[tuple, dict]:
    groups: dict[tuple, dict] = {}
    for node in order:
        if node.op == "grad":
            group = groups.setdefault(_grad_key(node), {"wrt": []})
            if node.inputs[1] not in group["wrt"]:
                group["wrt"].append(node.inputs[1])
    return groups
