"""`symdl gradcheck`: every gradient a model uses against central finite differences in float64.

The program is copied to float64 and evaluated at a random point: inputs of the declared
shapes (a small batch), parameters at their initial values plus noise. Small parameters
are differenced element by element, large ones along random unit directions (as
PyTensor's `verify_grad` does). A tensor the gradient holds constant is held at its value
at that point in the reference too: it becomes an input of the differenced cost graph.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.build import leaf
from symdl.ir.nodes import Function, Node, Program, substitute, toposort
from symdl.ir.retype import to_float64
from symdl.ir.types import NUMPY_DTYPE
from symdl.runtime.model import Model
from symdl.runtime.session import label_limit


@dataclass(frozen=True)
class GradcheckOptions:
    fn: str | None = None
    tolerance: float = 1e-4
    batch: int = 4
    seed: int = 0
    backend: str = "fast"  # FAST_COMPILE: numpy reductions round less than the C backend (measured)
    step: float = 1e-6  # small: a central difference must not straddle a kink (relu, abs, max)
    max_elements: int = 100  # larger parameters are checked along random directions
    directions: int = 4
    noise: float = 0.01  # added to initial values so zero-initialised weights are not symmetric


@dataclass(frozen=True)
class GradRow:
    """One parameter's check: the worst relative error of its gradient and how it was measured."""

    fn: str
    cost: str
    param: str
    shape: tuple[int, ...]
    method: str
    error: float
    tolerance: float

    @property
    def passed(self) -> bool:
        return bool(self.error <= self.tolerance)


@dataclass(frozen=True)
class CostCheck:
    """The gradients taken of one cost with one set of held tensors."""

    fn: str
    cost: Node
    held: tuple[Node, ...]
    grads: tuple[Node, ...]
    labels: tuple[str, ...] = ()  # per grad: how the table names its wrt ("" for the default)


# gradcheck's own setting of a model's `batch` hyper, unless the user sets it (`symdl gradcheck --batch`)
def batch_default(batch: int) -> dict[str, str]:
    """The front end's defaults for a gradient check at `batch` examples."""
    return {"batch": str(batch)}


def gradcheck(optimized: Program, options: GradcheckOptions) -> list[GradRow]:
    """One row per (cost, parameter) gradient of the selected functions of a program after the passes."""
    from symdl.lowering.lower import Lowered

    program = to_float64(optimized)
    checks = collect_checks(program, options.fn)
    frozen = {id(c): held_inputs(c) for c in checks}
    extra = tuple(n for c in checks for n in frozen[id(c)].values())
    lowered = Lowered(replace(program, inputs=program.inputs + extra), Model(optimized).seed, options.backend)
    rng = np.random.default_rng(options.seed)
    feeds = random_inputs(optimized, options.batch, rng)
    _perturb_params(lowered, program, options.noise, rng)
    rows = []
    for check in checks:
        rows += _check_cost(lowered, program, check, frozen[id(check)], feeds, options, rng)
    return rows


def collect_checks(program: Program, fn_name: str | None) -> list[CostCheck]:
    """The grad nodes of the selected functions, grouped per (cost, held tensors), each once."""
    checks: dict[tuple, CostCheck] = {}
    seen: set[int] = set()
    for fn in _functions(program, fn_name):
        for node, label in _grad_nodes(toposort(fn.roots())):
            if id(node) in seen:
                continue
            seen.add(id(node))
            cost = node.inputs[0]
            # held: the stop_gradient marks, and a wrt that is computed (HMC's final positions), whose
            # value then becomes the point the differences move
            wrt = node.inputs[1]
            held = tuple(n for n in toposort([cost]) if n.op == "stop_gradient") + ((wrt,) if wrt.op not in ("param", "state") else ())
            key = (id(cost), *sorted(id(h) for h in held))
            old = checks.get(key) or CostCheck(fn.name, cost, held, ())
            checks[key] = replace(old, grads=old.grads + (node,), labels=old.labels + (label,))
    if not checks:
        where = f"fn {fn_name}" if fn_name else program.name
        fail(
            "E738",
            program.function(fn_name).span if fn_name else None,
            hint="gradcheck checks the grad() and update rules a model uses",
            what=where,
        )
    return list(checks.values())


def _grad_nodes(nodes: list[Node]) -> list[tuple[Node, str]]:
    """The grad nodes among `nodes`, and those taken inside their scans' bodies (with the table's label)."""
    found: list[tuple[Node, str]] = []
    for node in nodes:
        if node.op == "grad":
            found.append((node, ""))
        elif node.op == "scan":
            found += _body_grads(node)
    return found


def _body_grads(scan: Node) -> list[tuple[Node, str]]:
    """Gradients taken inside a loop body (HMC's leapfrog), checked at the loop's first step: each carried
    argument replaced by its initial value, so the gradient is one of the outer graph. Gradients that read
    a sequence element are left out (no first element is built here)."""
    body = scan.attr("body")
    carried = dict(zip((id(a) for a in body.args[body.n_seqs :]), scan.inputs[body.n_seqs : body.n_seqs + body.n_carried]))
    sequence_args = {id(a) for a in body.args[: body.n_seqs]}
    found = []
    for node, _ in _grad_nodes(body.nodes(scan.inputs)):
        if any(id(n) in sequence_args for n in toposort([node])):
            continue
        wrt = node.inputs[1]
        found.append((substitute(node, carried), f"{wrt.name} (loop body)" if wrt.op == "arg" else ""))
    return found


def _functions(program: Program, fn_name: str | None) -> list[Function]:
    if fn_name is None:
        return list(program.functions)
    names = [f.name for f in program.functions]
    if fn_name not in names:
        fail("E203", None, hint=did_you_mean(fn_name, names) or f"functions: {', '.join(names)}", name=fn_name)
    return [program.function(fn_name)]


def held_inputs(check: CostCheck) -> dict[int, Node]:
    """A fresh input leaf per held tensor: the reference cost reads the held value from it."""
    return {id(h): leaf("input", f"#held{id(h)}", h.type) for h in check.held}


def frozen_cost(check: CostCheck, held: dict[int, Node]) -> Node:
    """The cost with every held tensor replaced by its input leaf (no path from the parameters)."""
    return substitute(check.cost, held)


def random_inputs(program: Program, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A value per declared input: floats in [0, 1), labels within the axis they index."""
    model = Model(program)
    feeds = {}
    for node in program.inputs:
        shape = tuple(batch if d is None else d for d in node.type.shape)
        if node.type.is_float:
            feeds[node.name] = rng.random(shape)
        elif node.type.dtype == "bool":
            feeds[node.name] = rng.random(shape) < 0.5
        else:
            feeds[node.name] = rng.integers(0, label_limit(model, node) or 2, shape).astype(NUMPY_DTYPE[node.type.dtype])
    return feeds


def _perturb_params(lowered, program: Program, noise: float, rng: np.random.Generator) -> None:
    for node in program.params:
        shared = lowered.shared[node.name]
        shared.set_value(shared.get_value() + noise * rng.standard_normal(shared.get_value().shape))


def _check_cost(
    lowered, program: Program, check: CostCheck, held: dict[int, Node], feeds: dict, options: GradcheckOptions, rng
) -> list[GradRow]:
    analytic, cost_fn = _compile(lowered, program, check, held, options.backend)
    args = [feeds[n.name] for n in program.inputs]
    values = analytic(*args)
    grads, held_values = values[: len(check.grads)], list(values[len(check.grads) :])

    def cost() -> float:
        return float(cost_fn(*args, *held_values))

    cost_name = dict((id(n), name) for name, n in program.definitions).get(id(check.cost), "cost")
    rows = []
    for node, grad, label in zip(check.grads, grads, check.labels):
        wrt = node.inputs[1]
        if wrt.op in ("param", "state"):
            param, target = wrt.name, lowered.shared[wrt.name]
        else:
            named = dict((id(n), name) for name, n in program.definitions).get(id(wrt))
            param, target = named or (wrt.span.text if wrt.span else wrt.op), _HeldPoint(held_values, check.held.index(wrt))
        param = label or param
        method, error = _compare(target, np.asarray(grad), cost, options, rng)
        rows.append(GradRow(check.fn, cost_name, param, np.shape(grad), method, error, options.tolerance))
    return rows


@dataclass
class _HeldPoint:
    """A computed wrt's value, moved by the differences like a shared variable's."""

    values: list
    index: int

    def get_value(self) -> np.ndarray:
        return np.asarray(self.values[self.index])

    def set_value(self, value: np.ndarray) -> None:
        self.values[self.index] = value


def _compile(lowered, program: Program, check: CostCheck, held: dict[int, Node], backend: str):
    """inputs -> [grads, held values], and inputs + held values -> cost; no updates, so random state stays put."""
    import pytensor

    from symdl.lowering.backends import mode_of

    mode = mode_of(backend)
    inputs = [lowered.inputs[n.name] for n in program.inputs]
    memo = lowered.lower_roots([check.cost, *check.grads, *check.held])
    analytic = pytensor.function(inputs, [memo[id(n)] for n in (*check.grads, *check.held)], mode=mode, on_unused_input="ignore")
    cost = frozen_cost(check, held)
    held_vars = [lowered.inputs[held[id(h)].name] for h in check.held]
    cost_var = lowered.lower_roots([cost])[id(cost)]
    return analytic, pytensor.function(inputs + held_vars, cost_var, mode=mode, on_unused_input="ignore")


def _compare(shared, analytic: np.ndarray, cost, options: GradcheckOptions, rng) -> tuple[str, float]:
    """(method, worst relative error) of `analytic` against central differences of `cost` in `shared`."""
    base = shared.get_value()
    if base.size <= options.max_elements:
        axes = [np.eye(1, base.size, i).reshape(base.shape) for i in range(base.size)]
        method = "elements"
    else:
        axes = [u / np.linalg.norm(u) for u in (rng.standard_normal(base.shape) for _ in range(options.directions))]
        method = f"{options.directions} directions"
    numeric, exact = [], []
    for u in axes:
        shared.set_value(base + options.step * u)
        up = cost()
        shared.set_value(base - options.step * u)
        numeric.append((up - cost()) / (2 * options.step))
        exact.append(float(np.sum(analytic * u)))
    shared.set_value(base)
    return method, relative_error(np.array(exact), np.array(numeric))


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-8) -> float:
    """The largest difference relative to the largest component of either gradient."""
    scale = max(float(np.max(np.abs(analytic), initial=0.0)), float(np.max(np.abs(numeric), initial=0.0)), floor)
    return float(np.max(np.abs(analytic - numeric), initial=0.0)) / scale


def format_table(rows: list[GradRow]) -> str:
    """The result rows as an aligned table, the worst error per parameter."""
    lines = [f"  {'fn':<10} {'cost':<10} {'param':<24} {'shape':<12} {'method':<14} {'rel. error':>10}"]
    for r in rows:
        shape = "x".join(str(d) for d in r.shape) or "scalar"
        verdict = "ok" if r.passed else f"FAIL (> {r.tolerance:g})"
        lines.append(f"  {r.fn:<10} {r.cost:<10} {r.param:<24} {shape:<12} {r.method:<14} {r.error:>10.2e}  {verdict}")
    return "\n".join(lines)
