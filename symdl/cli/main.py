"""The `symdl` command: check, compile, run and eval model files.

A user's mistake prints `file:line:col`, the line with a caret, a sentence and a hint,
and exits with status 2; a bug in symdl says so and asks for a report (status 3).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import traceback
from pathlib import Path

from symdl.diagnostics.errors import InternalError, UserError
from symdl.lowering.backends import BACKENDS, DEFAULT_BACKEND, resolve_backend

BACKEND_HELP = f"default: the model's `backend` hyper, else {DEFAULT_BACKEND}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return args.handler(args)
    except UserError as err:
        print(err.render(), file=sys.stderr)
        return 2
    except InternalError as err:
        print(err.render(), file=sys.stderr)
        return 3
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `symdl compile --emit ast | head`: the reader left, nothing went wrong
        sys.stderr.close()
        return 0
    except Exception as err:  # a bug: never a bare traceback unless asked for
        if os.environ.get("SYMDL_DEBUG"):
            traceback.print_exc()
        print(InternalError(f"{type(err).__name__}: {err}").render(), file=sys.stderr)
        print("  (set SYMDL_DEBUG=1 to see the traceback)", file=sys.stderr)
        return 3


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="symdl", description="A declarative graph compiler for deep-learning models.")
    from symdl import __version__

    parser.add_argument("--version", action="version", version=f"symdl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="parse and check a model file (no PyTensor: fast)")
    _model_args(check)
    check.set_defaults(handler=cmd_check)

    compile_ = sub.add_parser("compile", help="compile every function of a model and report")
    _model_args(compile_)
    compile_.add_argument("--emit", choices=("ast", "ir", "ir-opt", "pytensor"), help="print one stage's output instead")
    compile_.add_argument("--explain", action="store_true", help="list each rewrite site")
    compile_.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    compile_.set_defaults(handler=cmd_compile)

    run = sub.add_parser("run", help="train a model with its recipe")
    _model_args(run, optional=True)
    _data_args(run)
    run.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted run from its last checkpoint (FILE optional)")
    run.add_argument("--max-epochs", type=_natural, help="cap the epochs of every training stage")
    run.add_argument("--out", type=Path, help="run directory (default runs/MODEL-TIMESTAMP)")
    run.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    run.add_argument("--nan-guard", action="store_true", help="stop at the first NaN/Inf and name its line (C backend, slower)")
    run.set_defaults(handler=cmd_run)

    eval_ = sub.add_parser("eval", help="evaluation measures of a trained model on the test set")
    _model_args(eval_)
    _data_args(eval_)
    eval_.add_argument("--params", type=Path, required=True, help="run directory (or params.npz) to load")
    eval_.set_defaults(handler=cmd_eval)

    from symdl.cli import graph  # no heavy imports: graphviz and PyTensor load when it runs

    graph_ = sub.add_parser("graph", help="draw a model's graph (svg, png, pdf or dot)")
    _model_args(graph_)
    graph.add_arguments(graph_, BACKENDS)
    graph_.set_defaults(handler=graph.cmd_graph)

    from symdl.fmt import command as fmt

    fmt_ = sub.add_parser("fmt", help="lay out model files in the one canonical style (in place, or --check, --diff)")
    fmt.add_arguments(fmt_)
    fmt_.set_defaults(handler=fmt.cmd_fmt)

    gradcheck = sub.add_parser("gradcheck", help="check every gradient against finite differences in float64")
    _model_args(gradcheck)
    gradcheck.add_argument("--fn", help="check only the gradients this function uses")
    gradcheck.add_argument("--tolerance", type=float, default=1e-4, help="largest relative error accepted (default 1e-4)")
    gradcheck.add_argument("--batch", type=_positive, default=4, help="size of `?` dimensions and of a `batch` hyper (default 4)")
    gradcheck.add_argument("--seed", type=int, default=0, help="seed of the random point (default 0)")
    gradcheck.add_argument(
        "--backend", choices=[b.name for b in BACKENDS.values() if b.gradcheck], default="fast", help="default fast: its sums round least"
    )
    gradcheck.set_defaults(handler=cmd_gradcheck)

    sub.add_parser("lsp", help="run the language server over stdin/stdout (for an editor)").set_defaults(handler=cmd_lsp)
    return parser


def _natural(text: str) -> int:
    if not text.isdigit():
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}")
    return int(text)


def _positive(text: str) -> int:
    if _natural(text) < 1:
        raise argparse.ArgumentTypeError("expected at least 1")
    return int(text)


def _model_args(p: argparse.ArgumentParser, optional: bool = False) -> None:
    p.add_argument("file", type=Path, nargs="?" if optional else None, help="model file (.sdl)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="NAME=VALUE", help="override a hyperparameter")
    p.add_argument("--exclude", action="append", default=[], metavar="REWRITE", help="switch off a rewrite by name")


def _data_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", help="data file or directory replacing the model's default")
    p.add_argument("--train-limit", type=_positive, help="keep the first N training examples")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)


def _front(args) -> Compiled:  # noqa: F821 - imported lazily
    from symdl.pipeline import front_end
    from symdl.syntax.ast import Hyper

    compiled = front_end(args.file, args.overrides, tuple(args.exclude))
    for warning in compiled.ir.warnings:
        print(warning.render(), file=sys.stderr)
    hyper = next((i for s in compiled.ast.body if isinstance(s, Hyper) for i in s.items if i.name == "backend"), None)
    backend = resolve_backend(compiled.optimized, getattr(args, "backend", None), hyper and hyper.span)
    if "backend" in args:  # a model may name the backend it runs fastest on
        args.backend = backend
    return compiled


def cmd_check(args) -> int:
    from symdl.runtime.recipes import check_fields
    from symdl.runtime.session import check_data_kinds

    c = _front(args)
    check_data_kinds(c.optimized)
    for call in c.optimized.recipes:
        check_fields(call, c.optimized)
    print(_headline(c))
    return 0


def cmd_compile(args) -> int:
    from symdl.ir.printer import format_program
    from symdl.runtime.recipes import recipe_functions
    from symdl.syntax.ast import dump

    c = _front(args)
    if args.emit in ("ast", "ir", "ir-opt"):
        print(
            dump(c.ast) if args.emit == "ast" else format_program(c.ir if args.emit == "ir" else c.optimized),
            end="\n" if args.emit == "ast" else "",
        )
        if args.explain:  # the sites after the IR they changed
            print(f"# rewrites: {c.report.summary()}\n" + "\n".join(f"#{line}" for line in c.report.explain().splitlines()))
        return 0
    from symdl.runtime.model import Model

    model = Model(c, args.backend)
    if args.emit == "pytensor":
        import pytensor

        for fn in c.optimized.functions:
            print(f"# fn {fn.name}")
            pytensor.printing.debugprint(model.compile(fn.name), print_type=True)
        return 0
    print(_headline(c))
    for node in (*c.optimized.params, *c.optimized.states):
        print(f"  {node.op:<5} {node.name:<24} {str(node.type):<18} {node.attr('init')}")
    for k, call in enumerate(c.optimized.recipes, 1):
        print(f"  stage {k}: {call.name}({', '.join(recipe_functions(call))})")
    print(f"  rewrites: {c.report.summary()}" + ("" if args.explain else "   (--explain: each site)"))
    if args.explain:
        print(c.report.explain())
    names = [f.name for f in c.optimized.functions]
    print(f"  compiling {len(names)} function(s) with pytensor/{args.backend} (first time is slow; cached afterwards) ...", flush=True)
    for name in names:
        started = time.perf_counter()
        model.compile(name)
        print(f"    {name:<16} {time.perf_counter() - started:6.1f}s", flush=True)
    return 0


def _headline(c) -> str:
    p = c.optimized
    count = sum(_size(n.type.shape) for n in p.params)
    return (
        f"{c.source.name}: model {p.name}, {len(p.recipes)} stage(s), {len(p.functions)} function(s), "
        f"{_human(count)} parameters, {len(p.states)} state value(s)"
    )


def _size(shape: tuple) -> int:
    total = 1
    for d in shape:
        total *= d or 1
    return total


def _human(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def _session(args, c, rundir=None):
    from symdl.runtime.model import Model
    from symdl.runtime.session import RunOptions, Session

    model = Model(c, args.backend, verbose=not getattr(args, "quiet", False))
    options = RunOptions(getattr(args, "max_epochs", None), args.train_limit, args.data, getattr(args, "quiet", False))
    return Session(model, options, rundir)


def cmd_run(args) -> int:
    from symdl.runtime.nanguard import NonFiniteStop
    from symdl.runtime.recipes import run_recipe
    from symdl.runtime.rundir import RunDir
    from symdl.runtime.session import check_data_kinds

    resume = _resume_settings(args) if args.resume else None
    if args.file is None:
        raise UserError(None, "no model file given", hint="symdl run FILE.sdl, or symdl run --resume RUNDIR", code="E700")
    c = _front(args)
    if not c.optimized.recipes:
        raise UserError(
            None, f"{args.file} has no run statement", hint="add e.g. `run epochs(train, data = digits, epochs = 10)`", code="E700"
        )
    check_data_kinds(c.optimized)
    if args.out and not args.resume and (args.out / "config.json").exists():
        raise UserError(
            None,
            f"'{args.out}' already holds a run",
            code="E700",
            hint=f"choose another --out, or continue that run with symdl run --resume {args.out}",
        )
    rundir = RunDir(args.resume or args.out) if (args.resume or args.out) else RunDir.fresh(Path("runs"), c.optimized.name)
    if args.nan_guard and args.backend != "c":  # the guard checks values in PyTensor's Python/C VM
        print(f"--nan-guard runs on the C backend (not {args.backend}): it checks each node's values as they are made", file=sys.stderr)
        args.backend = "c"
    s = _session(args, c, rundir)
    if args.nan_guard:
        from symdl.runtime.nanguard import guard_mode

        s.model.mode = guard_mode()
    first, record = 0, {}
    if resume is not None:
        first, record = _restore(s, rundir)
        if first >= len(c.optimized.recipes):
            print(f"nothing to resume: the run in {rundir.path} finished (see its summary.json)", file=sys.stderr)
            return 0
    else:
        rundir.write_config(
            c.optimized.name,
            str(args.file.resolve()),
            s.model.hypers,
            args.backend,
            {"overrides": args.overrides, "max_epochs": args.max_epochs, "train_limit": args.train_limit, "data": args.data},
        )
    print(_headline(c), file=sys.stderr)
    _stop_on_ctrl_c(s)
    try:
        for k, call in enumerate(c.optimized.recipes):
            if k >= first:
                s.start_stage(k, record.get("position") if resume is not None and k == first else None)
                s.progress.update(run_recipe(s, call))
    except KeyboardInterrupt:
        return _interrupted(s, rundir)
    except NonFiniteStop as stop:  # only raised under --nan-guard; the faulting step's updates were not applied
        s.checkpoint()
        rundir.summary({**s.progress, "status": "nan", "fault": stop.summary()})
        print(stop.render(), file=sys.stderr)
        print(f"stopped: checkpoint (the parameters before that step) saved to {rundir.path}/params.npz", file=sys.stderr)
        return 1
    s.start_stage(len(c.optimized.recipes))
    s.checkpoint()
    summary = dict(s.progress)
    scalars = {k: float(v) for k, v in s.model.values().items() if v.ndim == 0 and k in s.model.params}
    rundir.summary({**summary, **({"params": scalars} if scalars else {})})
    rundir.plot()
    _print_saved(rundir, summary)
    return 0


def _print_saved(rundir, summary: dict) -> None:
    """The files a finished run wrote and its scalar results."""
    written = sorted(p.name for p in rundir.path.iterdir() if p.is_file() and not p.name.startswith("."))
    print(f"run saved to {rundir.path}/ ({', '.join(written)})")
    print(
        "  "
        + "  ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in summary.items() if not isinstance(v, (list, dict)))
    )


def _resume_settings(args) -> dict:
    """`--resume DIR`: the run's model file, overrides and options, unless given again."""

    from symdl.runtime.rundir import read_config

    config_path = args.resume / "config.json"
    if not config_path.is_file() or not (args.resume / "params.npz").is_file():
        raise UserError(
            None,
            f"'{args.resume}' is not a run directory with a checkpoint",
            hint="give the directory a `symdl run` wrote (config.json, params.npz)",
            code="E700",
        )
    config = read_config(config_path)
    source = Path(config["source"])
    if args.file is not None and args.file.resolve() != source.resolve():
        raise UserError(
            None,
            f"'{args.file}' is not the model of the run in '{args.resume}' (it ran {source})",
            code="E700",
            hint=f"symdl run --resume {args.resume} (the model file comes from its config.json)",
        )
    if args.overrides or args.out:
        raise UserError(
            None,
            "--resume continues a run with its own settings: --set and --out cannot change them",
            code="E700",
            hint="start a new run to change hyperparameters; --max-epochs may extend the resumed one",
        )
    args.file = source
    args.overrides = config.get("overrides") or []
    args.backend = args.backend or config.get("backend")
    for key in ("max_epochs", "train_limit", "data"):
        if getattr(args, key) is None:
            setattr(args, key, config.get(key))
    return config


def _restore(s, rundir) -> tuple[int, dict]:
    """Values, the draws' generator and the recipe's position from the last checkpoint; the stage to continue."""
    arrays, record = rundir.reopen()
    s.restore(s.model.checked_params(arrays, rundir.path / "params.npz"))
    if record.get("random_state"):
        try:
            s.model.set_random_state(record["random_state"])
        except (TypeError, ValueError, KeyError) as err:
            raise UserError(None, f"'{rundir.path}/params.npz' is damaged: its generator state: {err}", code="E710") from None
    s.progress.update(record.get("progress", {}))
    stage = int(record.get("stage", 0))
    print(f"resuming {rundir.path} at stage {stage + 1}, position {_position_brief(record.get('position', {}))}", file=sys.stderr)
    return stage, record


def _position_brief(position: dict) -> str:
    return ", ".join(f"{k} {position[k]}" for k in ("layer", "epoch", "batch") if k in position) or "its start"


def _stop_on_ctrl_c(session) -> None:
    """The first Ctrl-C or SIGTERM (what `kill` and schedulers send) stops training at the next step
    boundary (a signal inside a Numba call would surface as a SystemError); a second one interrupts at once."""
    import signal

    def handler(signum, frame):
        session.stop_signal = signum
        if session.stop_requested or session.model.compiling:  # a compile holds no training step: stop now
            raise KeyboardInterrupt
        session.stop_requested = True

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)


def _interrupted(s, rundir) -> int:
    """Checkpoint, summary (status interrupted) and curves; exit 130 for Ctrl-C, 143 for SIGTERM, as shells report them."""
    s.checkpoint()
    rundir.summary({**s.progress, "status": "interrupted", "interrupted": True})
    rundir.plot()
    print(f"interrupted: checkpoint saved to {rundir.path}/params.npz (symdl run --resume {rundir.path} continues)", file=sys.stderr)
    return 128 + int(s.stop_signal)


def cmd_eval(args) -> int:

    from symdl.runtime.recipes import evaluate, evaluator
    from symdl.runtime.rundir import read_config

    config = args.params / "config.json" if args.params.is_dir() else args.params.parent / "config.json"
    if not args.overrides and config.is_file():  # the run's own --set values, unless new ones are given
        args.overrides = read_config(config).get("overrides") or []
    c = _front(args)
    calls = [call for call in c.optimized.recipes if evaluator(call, c.optimized) is not None]
    if not calls:
        raise UserError(
            None,
            f"{args.file} has no function to evaluate with",
            code="E700",
            hint="give a recipe a validation function without updates (validate = ... or valid = ...); eval never runs updates",
        )
    s = _session(args, c)
    s.model.verbose = False
    s.model.load_params(args.params)
    for key, value in evaluate(s, calls[-1]).items():
        print(f"{key}: {value:.6g}")
    return 0


def cmd_lsp(args) -> int:
    from symdl.lsp.server import main as serve  # pygls loads only here

    return serve()


def cmd_gradcheck(args) -> int:
    from symdl.runtime.gradcheck import GradcheckOptions, format_table, gradcheck, load_for_gradcheck

    c = load_for_gradcheck(args.file, args.overrides, tuple(args.exclude), args.batch)
    options = GradcheckOptions(args.fn, args.tolerance, args.batch, args.seed, args.backend)
    print(f"{c.source.name}: float64, central differences (step {options.step:g}), batch {args.batch}, seed {args.seed}", flush=True)
    rows = gradcheck(c, options)
    print(format_table(rows))
    failed = [r.param for r in rows if not r.passed]
    wrong = f"; wrong: {', '.join(failed)}" if failed else ""
    print(f"{len(rows) - len(failed)} of {len(rows)} gradient(s) within {args.tolerance:g}{wrong}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
