"""A sweep's plan: the model checked with every swept value, the measure to rank trials by, the runs' options.

Everything here happens before Ray starts, so a mistake costs no cluster and no compile.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import Span, UserError, did_you_mean
from symdl.elaborate.elaborator import elaborate
from symdl.elaborate.overrides import parse_overrides
from symdl.pipeline import read_source
from symdl.runtime.recipes import evaluator
from symdl.runtime.session import check_data_kinds
from symdl.sweep.space import Axis, override_texts, set_text
from symdl.syntax.parser import parse

PLAN_FILE = "sweep.json"


@dataclass(frozen=True)
class Plan:
    """What every trial runs (`symdl run` with these options) and how the sweep ranks them."""

    file: str  # as the user wrote it (the reproducing command shows it)
    source: str  # absolute: trials may run elsewhere than the current directory
    model: str
    axes: list[dict]  # name, dist, texts: enough to draw the results without the space's spans
    measure: str  # a metrics.csv column: the validation function's first output
    mode: str  # "min" or "max"
    samples: int  # Tune's num_samples: draws per grid point (Optuna: draws in all)
    total: int  # trials the sweep runs when it finishes
    sets: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    max_epochs: int | None = None
    train_limit: int | None = None
    backend: str | None = None
    data: str | None = None
    scheduler: str | None = None
    search: str | None = None

    def run_args(self, config: dict) -> list[str]:
        """`symdl run`'s arguments (after FILE) for one trial's values."""
        args = [a for text in [*self.sets, *(set_text(k, v) for k, v in config.items())] for a in ("--set", text)]
        args += [a for name in self.exclude for a in ("--exclude", name)]
        for flag, value in (("--max-epochs", self.max_epochs), ("--train-limit", self.train_limit), ("--backend", self.backend)):
            if value is not None:
                args += [flag, str(value)]
        return args + (["--data", self.data] if self.data else [])

    def save(self, directory: Path) -> None:
        (directory / PLAN_FILE).write_text(json.dumps(asdict(self), indent=2) + "\n")

    @staticmethod
    def load(directory: Path) -> Plan:
        path = directory / PLAN_FILE
        if not path.is_file() or not (directory / "tune").is_dir():
            fail("E754", None, hint="give the --out of a `symdl sweep` (it holds sweep.json)", path=directory)
        try:
            return Plan(**json.loads(path.read_text()))
        except (ValueError, TypeError) as err:
            fail("E710", None, path=path, reason=str(err), hint="resume a sweep directory symdl wrote, unedited")


def check_space(file: Path, axes: list[Axis], sets: list[str]) -> tuple[str, str]:
    """Every swept value typed against its hyper as `--set` types it; the model's name and validation measure."""
    source = read_source(file)
    module = parse(source)
    fixed = parse_overrides(sets)
    program = elaborate(source, module, dict(fixed))
    hypers = dict(program.hypers)
    seen: dict[str, Span] = {name: span for name, (_, span) in fixed.items()}
    for axis in axes:
        if axis.name in seen:
            fail("E724", axis.span, name=axis.name, hint=f"it is also given at {seen[axis.name]}: sweep it or set it, once")
        if axis.name not in hypers:
            fail("E204", axis.span, name=axis.name, hint=did_you_mean(axis.name, list(hypers)), notes=(f"known: {', '.join(hypers)}",))
        seen[axis.name] = axis.span
    checks = {axis.name: override_texts(axis) for axis in axes}
    for k in range(max((len(c) for c in checks.values()), default=0)):  # one elaboration types the k-th value of every axis
        overrides = {**fixed, **{name: c[min(k, len(c) - 1)] for name, c in checks.items()}}
        try:
            program = elaborate(source, module, overrides)
        except UserError as err:  # the value is the cause and its span says so; no "with --set" note
            err.notes = tuple(n for n in err.notes if not n.startswith("with --set"))
            if err.code == "E501" and any(err.span is s for a in axes if a.dist in ("uniform", "loguniform") for s in a.spans):
                err.hint = f"{err.hint}; uniform and loguniform draw fractions: randint and lograndint draw whole numbers"
            raise
    return program.name, _measure(program, file)


def _measure(program, file: Path) -> str:
    """The metrics.csv column a sweep ranks by: the first output of the last stage's validation function."""
    if not program.recipes:
        fail("E731", None, hint="add e.g. `run epochs(train, data = digits, epochs = 10)`", file=file)
    check_data_kinds(program)
    fn = None
    for call in program.recipes:
        fn = evaluator(call, program) or fn
    if fn is None:
        fail(
            "E755",
            None,
            hint="give the recipe one: run early_stopping(train, validate, ...) or epochs(train, valid = validate, ...)",
            file=file,
        )
    return f"valid_{program.function(fn.name).outputs[0][0]}"


def trial_count(axes: list[Axis], trials: int, search: str | None) -> int:
    """How many trials the sweep runs: each grid point `trials` times (Tune's num_samples); Optuna draws `trials` in all."""
    grid = 1
    for axis in axes:
        if axis.dist == "grid" and search != "optuna":
            grid *= len(axis.texts)
    return grid * trials
