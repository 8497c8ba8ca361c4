"""The `symdl` command: check, compile, run and eval model files.

A user's mistake prints `file:line:col`, the line with a caret, a sentence and a hint,
and exits with status 2; a bug in symdl says so and asks for a report (status 3).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys
import time
import traceback
from pathlib import Path

from symdl.cli.run import cmd_run, headline
from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import InternalError, UserError
from symdl.lowering.backends import BACKENDS, DEFAULT_BACKEND
from symdl.runtime.config import RunConfig
from symdl.runtime.parent import PARENT_ENV, die_with_parent

BACKEND_HELP = f"default: the model's `backend` hyper, else {DEFAULT_BACKEND}"


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if parent := os.environ.pop(PARENT_ENV, None):  # a sweep's trial: stop (with a checkpoint) when its worker dies
            die_with_parent(int(parent), signal.SIGTERM)
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
    from symdl import __version__
    from symdl.cli import graph  # no heavy imports: graphviz and PyTensor load when it runs

    parser = argparse.ArgumentParser(prog="symdl", description="A declarative graph compiler for deep-learning models.")
    parser.add_argument("--version", action="version", version=f"symdl {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="parse and check a model file (no PyTensor: fast)")
    _model_args(check)
    check.set_defaults(handler=cmd_check)
    _compile_parser(sub.add_parser("compile", help="compile every function of a model and report"))
    _run_parser(sub.add_parser("run", help="train a model with its recipe"))
    eval_ = sub.add_parser("eval", help="evaluation measures of a trained model on the test set")
    _model_args(eval_)
    _data_args(eval_)
    eval_.add_argument("--params", type=Path, required=True, help="run directory (or params.npz) to load")
    eval_.set_defaults(handler=cmd_eval)
    graph_ = sub.add_parser("graph", help="draw a model's graph (svg, png, pdf or dot)")
    _model_args(graph_)
    graph.add_arguments(graph_, BACKENDS)
    graph_.set_defaults(handler=graph.cmd_graph)
    _sweep_parser(sub.add_parser("sweep", help="train a model over a search space of its hypers (Ray Tune)"))
    _fmt_parser(sub.add_parser("fmt", help="lay out model files in the one canonical style (in place, or --check, --diff)"))
    _gradcheck_parser(sub.add_parser("gradcheck", help="check every gradient against finite differences in float64"))
    sub.add_parser("lsp", help="run the language server over stdin/stdout (for an editor)").set_defaults(handler=cmd_lsp)
    return parser


def _compile_parser(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--emit", choices=("ast", "ir", "ir-opt", "pytensor"), help="print one stage's output instead")
    p.add_argument("--explain", action="store_true", help="list each rewrite site")
    p.add_argument("--backend", choices=BACKENDS, help=BACKEND_HELP)
    p.set_defaults(handler=cmd_compile)


def _run_parser(p: argparse.ArgumentParser) -> None:
    _model_args(p, optional=True)
    _data_args(p)
    p.add_argument("--resume", type=Path, metavar="DIR", help="continue an interrupted run from its last checkpoint (FILE optional)")
    p.add_argument("--max-epochs", type=_natural, help="cap the epochs of every training stage")
    p.add_argument("--out", type=Path, help="run directory (default runs/MODEL-TIMESTAMP)")
    p.add_argument("--quiet", action="store_true", help="no per-epoch lines")
    p.add_argument("--nan-guard", action="store_true", help="stop at the first NaN/Inf and name its line (C backend, slower)")
    p.add_argument("--no-tiers", dest="tiers", action="store_false", help="compile each training step before it runs (no quick first tier)")
    p.set_defaults(handler=lambda args: cmd_run(run_config(args)))


def _sweep_parser(p: argparse.ArgumentParser) -> None:
    from symdl.sweep import command as sweep  # no heavy imports: Ray loads when a sweep runs

    _model_args(p, optional=True)
    _data_args(p)
    sweep.add_arguments(p, _positive)
    p.set_defaults(handler=sweep.cmd_sweep)


def _fmt_parser(p: argparse.ArgumentParser) -> None:
    from symdl.fmt import command as fmt

    fmt.add_arguments(p)
    p.set_defaults(handler=fmt.cmd_fmt)


def _gradcheck_parser(p: argparse.ArgumentParser) -> None:
    _model_args(p)
    p.add_argument("--fn", help="check only the gradients this function uses")
    p.add_argument("--tolerance", type=float, default=1e-4, help="largest relative error accepted (default 1e-4)")
    p.add_argument("--batch", type=_positive, default=4, help="size of `?` dimensions and of a `batch` hyper (default 4)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random point (default 0)")
    choices = [b.name for b in BACKENDS.values() if b.gradcheck]
    p.add_argument("--backend", choices=choices, default="fast", help="default fast: its sums round least")
    p.set_defaults(handler=cmd_gradcheck)


def run_config(args: argparse.Namespace) -> RunConfig:
    """The settings a command line gives (each command has a subset of the options)."""
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    given = {k: v for k, v in vars(args).items() if k in fields}
    return RunConfig(**{**given, "overrides": tuple(args.overrides), "exclude": tuple(args.exclude)})


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


def cmd_check(args) -> int:
    from symdl.api import compile_front
    from symdl.runtime.recipes import check_fields
    from symdl.runtime.session import check_data_kinds

    c = compile_front(run_config(args), warn=True)
    check_data_kinds(c.optimized)
    for call in c.optimized.recipes:
        check_fields(call, c.optimized)
    print(headline(c))
    return 0


def cmd_compile(args) -> int:
    from symdl.api import compile_front
    from symdl.runtime.model import Model

    c = compile_front(run_config(args), warn=True)
    if args.emit in ("ast", "ir", "ir-opt"):
        return _emit_stage(c, args.emit, args.explain)
    model = Model(c.optimized, run_config(args))
    if args.emit == "pytensor":
        import pytensor

        for fn in c.optimized.functions:
            print(f"# fn {fn.name}")
            pytensor.printing.debugprint(model.compile(fn.name), print_type=True)
        return 0
    _describe(c, args.explain)
    names = [f.name for f in c.optimized.functions]
    backends = model.backends()
    print(f"  compiling {len(names)} function(s) side by side (first time is slow; cached afterwards) ...", flush=True)
    started = time.perf_counter()
    pending = [model.compile_soon(name) for name in names]
    for name, job in zip(names, pending):
        model.ready(job)
        print(f"    {name:<16} pytensor/{backends[name]:<6} {job.seconds:6.1f}s", flush=True)
    print(f"  all compiled in {time.perf_counter() - started:.1f}s", flush=True)
    return 0


def _emit_stage(c, stage: str, explain: bool) -> int:
    """`compile --emit ast|ir|ir-opt`: that stage's text, and with --explain the rewrite sites after it."""
    from symdl.ir.printer import format_program
    from symdl.syntax.ast import dump

    if stage == "ast":
        print(dump(c.ast))
    else:
        print(format_program(c.ir if stage == "ir" else c.optimized), end="")
    if explain:
        print(f"# rewrites: {c.report.summary()}\n" + "\n".join(f"#{line}" for line in c.report.explain().splitlines()))
    return 0


def _describe(c, explain: bool) -> None:
    """What `compile` reports before compiling: values, stages and rewrites."""
    from symdl.ir.recipes import WRITERS
    from symdl.runtime.recipes import recipe_functions

    when = {"epoch": "each epoch", "end": "at the end"}

    print(headline(c))
    for node in (*c.optimized.params, *c.optimized.states):
        print(f"  {node.op:<5} {node.name:<24} {str(node.type):<18} {node.attr('init')}")
    for k, call in enumerate(c.optimized.recipes, 1):
        writes = [f"{w.file}{WRITERS[w.writer].suffix} ({w.writer} of {w.source.name}, {when[w.every]})" for w in call.value("write") or ()]
        print(f"  stage {k}: {call.name}({', '.join(recipe_functions(call))})" + (f" writes {', '.join(writes)}" if writes else ""))
    print(f"  rewrites: {c.report.summary()}" + ("" if explain else "   (--explain: each site)"))
    if explain:
        print(c.report.explain())


def cmd_eval(args) -> int:
    from symdl.api import open_model
    from symdl.runtime.recipes import evaluate, evaluator
    from symdl.runtime.rundir import read_config
    from symdl.runtime.session import Session

    config = run_config(args)
    if not config.overrides:  # the run's own --set values, unless new ones are given
        saved = read_config(args.params if args.params.is_dir() else args.params.parent)
        config = dataclasses.replace(config, overrides=tuple(saved.get("overrides") or ()))
    c, model = open_model(config, warn=True)
    calls = [call for call in c.optimized.recipes if evaluator(call, c.optimized) is not None]
    if not calls:
        fail(
            "E737",
            None,
            hint="give a recipe a validation function without updates (validate = ... or valid = ...); eval never runs updates",
            file=args.file,
        )
    model.load_params(args.params)
    for key, value in evaluate(Session(model), calls[-1]).items():
        print(f"{key}: {value:.6g}")
    return 0


def cmd_lsp(args) -> int:
    from symdl.lsp.server import main as serve  # pygls loads only here

    return serve()


def cmd_gradcheck(args) -> int:
    from symdl.api import compile_front
    from symdl.runtime.gradcheck import GradcheckOptions, batch_default, format_table, gradcheck

    c = compile_front(run_config(args), defaults=batch_default(args.batch), warn=True)
    options = GradcheckOptions(args.fn, args.tolerance, args.batch, args.seed, args.backend)
    print(f"{c.source.name}: float64, central differences (step {options.step:g}), batch {args.batch}, seed {args.seed}", flush=True)
    rows = gradcheck(c.optimized, options)
    print(format_table(rows))
    failed = [r.param for r in rows if not r.passed]
    wrong = f"; wrong: {', '.join(failed)}" if failed else ""
    print(f"{len(rows) - len(failed)} of {len(rows)} gradient(s) within {args.tolerance:g}{wrong}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
