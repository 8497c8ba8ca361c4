"""Samplers as configurations of the one loop: a single epoch of draws, with what they keep saved at every
checkpoint (so a resumed run continues mid-stage) and written when they end."""

from __future__ import annotations

import numpy as np

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.nodes import DataSpec, Node, RecipeCall
from symdl.runtime.loop import Loop, Step, log_row
from symdl.runtime.session import Session
from symdl.runtime.writers import write_npz, write_tiles

Args = dict[str, object]


def _sampler(name: str, calls: int, keep) -> Loop:
    """One epoch of `calls` calls of `keep(index)`, no epoch row: a sampler's schedule."""
    step = Step(name, [], lambda index: (keep(index), 1))
    return Loop([step], calls, 1, epoch_rows=False, progress=False)


def sample_chains(s: Session, call: RecipeCall, a: Args) -> Args:
    """The tutorial's sampling: persistent chains started from test examples (`start`, e.g. digits.x),
    `sample` called `samples` times; the starts and each call's first output are the rows of samples.png."""
    chain, samples = a["chain"].name, a["samples"]
    state = s.model.values()[chain]
    if not s.resume or "samples" not in s.kept:  # a resumed stage keeps its chains (a state value) and the rows drawn so far
        s.kept["samples"] = [_chain_starts(s, call, a, state)]
        s.model.state[chain] = s.kept["samples"][0]
    fn = s.compile(a["sample"].name)

    def keep(index: int) -> list[float]:
        s.kept["samples"].append(np.asarray(fn()[0]).reshape(state.shape))
        s.say(f"sample {index + 1}/{samples}")
        return []

    _sampler("sample", samples, keep).run(s, resume=s.resume)
    if s.rundir:
        write_tiles(s.rundir.path, "samples", np.stack(s.kept.pop("samples")))  # the registry's writer, on the rows kept
    return {"samples": samples}


def _chain_starts(s: Session, call: RecipeCall, a: Args, state: np.ndarray) -> np.ndarray:
    """`len(state)` consecutive examples of the start field, from an offset drawn from `seed`."""
    data: DataSpec = a["data"]
    split = "test" if "test" in s.dataset(data).splits else "train"
    fields, name = s.dataset(data).splits[split], a["start"].field if a["start"] else "x"
    if name not in fields:
        hint = did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}; pass start = {data.name}.FIELD"
        fail("E208", call.span_of("start"), name=name, hint=hint)
    field = fields[name]
    if len(field) < len(state) or field[0].size != state[0].size:
        fail(
            "E607",
            call.span_of("chain"),
            name=a["chain"].name,
            shape=state.shape,
            split=split,
            field=name,
            field_shape=field.shape,
            hint="one example per chain, with as many values as a chain's row",
        )
    first = np.random.RandomState(a["seed"]).randint(len(field) - len(state) + 1)
    return field[first : first + len(state)].reshape(state.shape).astype(state.dtype)


def mcmc(s: Session, call: RecipeCall, a: Args) -> Args:
    """Markov chain Monte Carlo: `burn_in` calls of `draw`, then `samples` calls whose first output
    (positions, one row per chain) is kept and written to draws.npz as `[samples, chains, ...]`. Its other
    outputs are reported as they end; when the data holds the target's `mu` and `cov`, the errors of the
    samples' mean and covariance too. `data` may be left out when `draw` takes no inputs."""
    fn_ir, data = s.model.function(a["draw"].name), a["data"]
    target = s.dataset(data).splits["train"] if data else {}
    inputs = [node for node in fn_ir.inputs if node.name not in s.fed]
    if inputs and not data:
        fail("E301", call.span, name="data", callee="mcmc", hint=f"fn {fn_ir.name} takes inputs: pass data = DATASET")
    binds = dict(call.binds)
    feeds = [_whole_field(node, target, binds.get(node.name, node.name), call.span_of("data")) for node in inputs]
    fn, names = s.compile(fn_ir.name), [n for n, _ in fn_ir.outputs]
    burn_in, total = a["burn_in"], a["burn_in"] + a["samples"]
    kept = s.kept.setdefault("draws", [])
    last: list = []

    def keep(index: int) -> list[float]:
        last[:] = fn(*feeds)
        if index >= burn_in:
            kept.append(np.asarray(last[0]))
        if (index + 1) % 100 == 0:
            log_row(s, {"draw": index + 1, **_scalars(names, last)}, total)
        return []

    _sampler("draw", total, keep).run(s, resume=s.resume)
    return _mcmc_result(s, names, last, target)


def _mcmc_result(s: Session, names: list[str], last: list, target: dict) -> Args:
    draws = np.stack(s.kept.pop("draws"))
    if s.rundir:
        write_npz(s.rundir.path, "draws", draws)
    flat = draws.reshape(-1, draws.shape[-1]).astype(np.float64)
    result: Args = {**_scalars(names, last), "samples": len(flat)}
    if "mu" in target and "cov" in target:
        result["mean_abs_error"] = float(np.abs(flat.mean(axis=0) - target["mu"]).mean())
        result["cov_abs_error"] = float(np.abs(np.cov(flat, rowvar=False) - target["cov"]).mean())
    return result


def _scalars(names: list[str], outputs: list) -> dict[str, float]:
    """The scalar outputs after the first (a sampler's step size, acceptance rate), by name."""
    return {n: float(v) for n, v in zip(names[1:], outputs[1:]) if np.ndim(v) == 0}


def _whole_field(node: Node, fields: dict, name: str, span) -> np.ndarray:
    """A data field fed whole (not in minibatches): its shape must be the input's."""
    if name not in fields:
        fail("E208", span, name=name, hint=did_you_mean(name, list(fields)) or f"fields: {', '.join(fields)}")
    array = fields[name]
    if tuple(array.shape) != tuple(d if d is not None else array.shape[i] for i, d in enumerate(node.type.shape)):
        fail("E608", node.span, name=node.name, field=name, shape=array.shape, type=node.type)
    return array
