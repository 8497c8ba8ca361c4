"""`symdl graph FILE`: draw a model's graph after elaboration, after the passes, or compiled."""

from __future__ import annotations

import argparse
from pathlib import Path

from symdl.diagnostics.catalog import fail
from symdl.diagnostics.errors import did_you_mean
from symdl.ir.nodes import Function, Program

STAGES = ("ir", "ir-opt", "pytensor")


def add_arguments(p: argparse.ArgumentParser, backends: tuple[str, ...]) -> None:
    p.add_argument("--fn", metavar="NAME", help="draw only this function (default: every function)")
    p.add_argument("--stage", choices=STAGES, default="ir-opt", help="the IR before or after the passes, or the compiled PyTensor graph")
    p.add_argument("-o", "--output", type=Path, metavar="OUT", help="OUT.svg, .png, .pdf or .dot (default: MODEL.svg here)")
    p.add_argument("--backend", choices=backends, default="c", help="PyTensor mode for --stage pytensor (default c: compiles quickly)")


def cmd_graph(args: argparse.Namespace) -> int:
    from symdl.pipeline import front_end
    from symdl.views.output import format_of, write

    out = args.output or Path(f"{args.file.stem}.svg")
    format_of(out)  # a bad suffix fails before anything compiles
    c = front_end(args.file, args.overrides, tuple(args.exclude))
    program = c.ir if args.stage == "ir" else c.optimized
    functions = select(program, args.fn)
    title = f"{program.name} ({args.stage})"
    if args.stage == "pytensor":
        drawing = _compiled_drawing(c, functions, args.backend, title)
    else:
        from symdl.views.ir_graph import draw_program

        produced = frozenset(c.report.produced) if args.stage == "ir-opt" else frozenset()
        drawing = draw_program(program, functions, produced, title)
    write(drawing.graph, out)
    print(f"wrote {out}: {drawing.nodes} nodes, {len(functions)} function(s), stage {args.stage}")
    return 0


def select(program: Program, name: str | None) -> list[Function]:
    """The function named `name`, or every function when none is named."""
    names = [f.name for f in program.functions]
    if name is None:
        return list(program.functions)
    if name not in names:
        fail("E203", None, hint=did_you_mean(name, names) or f"the functions are: {', '.join(names)}", name=name)
    return [program.function(name)]


def _compiled_drawing(c, functions: list[Function], backend: str, title: str):
    from symdl.runtime.config import RunConfig
    from symdl.runtime.model import Model
    from symdl.views.pytensor_graph import Compiled, draw_functions

    model = Model(c.optimized, RunConfig(backend=backend))
    compiled = [Compiled(f.name, model.compile(f.name).maker.fgraph, tuple(n for n, _ in f.outputs)) for f in functions]
    return draw_functions(compiled, title)
