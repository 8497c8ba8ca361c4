"""`symdl graph`: real drawings by graphviz, checked against the IR and the PyTensor graph they show."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import graphviz
import pytest

from symdl.ir.nodes import Function, Node, Program, toposort
from symdl.ir.types import TensorType
from symdl.pipeline import front_end
from symdl.views import ir_graph, style

MODELS = Path(__file__).resolve().parents[1] / "models"

SVG = "{http://www.w3.org/2000/svg}"
XLINK_TITLE = "{http://www.w3.org/1999/xlink}title"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def svg_nodes(svg: bytes | str) -> list[ET.Element]:
    """The `<g class="node">` elements of an SVG drawing (the XML must parse)."""
    root = ET.fromstring(svg)
    return [g for g in root.iter(f"{SVG}g") if "node" in g.get("class", "").split()]


def text_of(g: ET.Element) -> str:
    return " ".join(t.text or "" for t in g.iter(f"{SVG}text"))


def tooltip_of(g: ET.Element) -> str:
    return next((a.get(XLINK_TITLE, "") for a in g.iter(f"{SVG}a")), "")


def fills_of(g: ET.Element) -> set[str]:
    return {e.get("fill") for e in g if e.get("fill")} | {e.get("fill") for a in g.iter(f"{SVG}a") for e in a.iter() if e.get("fill")}


def expected_ir_nodes(program: Program) -> int:
    """What an IR drawing of every function must show: each reachable node once (scan bodies too),
    plus one node per output."""
    reached = {id(n) for f in program.functions for n in toposort([*f.roots(), *f.inputs, *(t for t, _ in f.updates)])}
    todo = [n for f in program.functions for n in toposort(f.roots()) if n.op == "scan"]
    while todo:
        scan = todo.pop()
        for n in [*scan.attr("body").args, *scan.attr("body").nodes(scan.inputs)]:
            if id(n) not in reached:
                reached.add(id(n))
                todo += [n] if n.op == "scan" else []
    return len(reached) + sum(len(f.outputs) for f in program.functions)


@pytest.mark.parametrize("model", sorted(p.name for p in MODELS.glob("*.sdl")))
def test_ir_opt_svg_draws_every_ir_node(cli, tmp_path, model):
    out = tmp_path / "g.svg"
    status, stdout, stderr = cli("graph", MODELS / model, "-o", out)
    assert status == 0, stderr
    expected = expected_ir_nodes(front_end(MODELS / model).optimized)
    assert len(svg_nodes(out.read_bytes())) == expected
    assert f"wrote {out}: {expected} nodes" in stdout


def test_png_and_dot_outputs(cli, tmp_path):
    png, dot, svg = tmp_path / "g.png", tmp_path / "g.dot", tmp_path / "g.svg"
    for path in (png, dot, svg):
        assert cli("graph", MODELS / "logreg.sdl", "--stage", "ir", "-o", path)[0] == 0
    assert png.read_bytes().startswith(PNG_MAGIC)
    reparsed = graphviz.Source(dot.read_text()).pipe(format="svg")  # dot accepts the text it wrote
    assert len(svg_nodes(reparsed)) == len(svg_nodes(svg.read_bytes())) == expected_ir_nodes(front_end(MODELS / "logreg.sdl").ir)


def test_rewritten_node_is_highlighted_only_after_the_passes(cli, tmp_path):
    opt, raw = tmp_path / "opt.svg", tmp_path / "raw.svg"
    assert cli("graph", MODELS / "mlp.sdl", "-o", opt)[0] == 0
    assert cli("graph", MODELS / "mlp.sdl", "--stage", "ir", "-o", raw)[0] == 0
    highlighted = [g for g in svg_nodes(opt.read_bytes()) if style.REWRITTEN["fillcolor"] in fills_of(g)]
    compiled = front_end(MODELS / "mlp.sdl")
    produced = sorted(n.op for n in toposort(compiled.optimized.roots()) if id(n) in compiled.report.produced)
    assert "log_softmax" in produced
    assert sorted(text_of(g).split()[0] for g in highlighted) == produced
    assert not [g for g in svg_nodes(raw.read_bytes()) if style.REWRITTEN["fillcolor"] in fills_of(g)]
    assert "log_softmax" not in raw.read_text()


def test_tooltips_give_file_line_and_source_text(cli, tmp_path):
    out = tmp_path / "g.svg"
    assert cli("graph", MODELS / "mlp.sdl", "-o", out)[0] == 0
    source = (MODELS / "mlp.sdl").read_text().splitlines()
    line = next(i for i, text in enumerate(source, 1) if "log(out)" in text)
    node = next(g for g in svg_nodes(out.read_bytes()) if text_of(g).startswith("log_softmax"))
    assert f"mlp.sdl:{line}:" in tooltip_of(node)
    assert source[line - 1].strip() in tooltip_of(node)


def test_pytensor_stage_draws_the_compiled_function_graph(cli, tmp_path):
    from symdl.lowering.backends import mode_of
    from symdl.lowering.lower import Lowered

    out = tmp_path / "g.svg"
    status, stdout, stderr = cli("graph", MODELS / "logreg.sdl", "--stage", "pytensor", "--fn", "train", "--backend", "fast", "-o", out)
    assert status == 0, stderr
    program = front_end(MODELS / "logreg.sdl").optimized
    fgraph = Lowered(program, 1234, "fast").function(program.function("train"), None, mode_of("fast")).maker.fgraph
    constants = {v for a in fgraph.apply_nodes for v in a.inputs if v.owner is None and v not in fgraph.inputs}
    expected = len(fgraph.apply_nodes) + len(fgraph.inputs) + len(constants) + len(fgraph.outputs)
    nodes = svg_nodes(out.read_bytes())
    assert len(nodes) == expected
    assert sum(text_of(g).startswith("new ") for g in nodes) == len(program.function("train").updates)
    assert f"{expected} nodes" in stdout


def test_default_output_is_model_svg_in_the_current_folder(cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert cli("graph", MODELS / "linear.sdl", "--fn", "train")[0] == 0
    assert svg_nodes((tmp_path / "linear.svg").read_bytes())


@pytest.mark.parametrize(
    "args, words",
    [
        (("--fn", "trian"), "did you mean 'train'"),
        (("-o", "g.jpg"), "unknown format"),
        (("-o", "no/such/folder/g.svg"), "cannot write"),
    ],
)
def test_mistakes_exit_2_with_a_reason(cli, tmp_path, monkeypatch, args, words):
    monkeypatch.chdir(tmp_path)
    status, _, stderr = cli("graph", MODELS / "logreg.sdl", *args)
    assert status == 2
    assert words in stderr and "Traceback" not in stderr
    assert not list(tmp_path.iterdir())


def _toy_program(op: str) -> tuple[Program, Node]:
    t = TensorType("f32", (3,))
    x = Node("input", (), (("name", "x"),), t)
    mid = Node(op, (x,), (), t)
    out = Node("tanh", (mid,), (), t)
    fn = Function("f", (x,), (("y", out),), ())
    return Program("toy", (), (x,), (), (), (), (fn,)), mid


def test_unknown_operator_draws_plainly_and_stop_gradient_dashed():
    unknown, _ = _toy_program("some_future_op")
    plain = ir_graph.draw_program(unknown, unknown.functions)
    program, _ = _toy_program("stop_gradient")
    drawn = ir_graph.draw_program(program, program.functions)
    assert drawn.nodes == plain.nodes == 4  # x, the operator, tanh, output y
    assert "dashed" in next(line for line in drawn.graph.source.splitlines() if 'label="stop_gradient' in line)
    assert "dashed" not in next(line for line in plain.graph.source.splitlines() if 'label="some_future_op' in line)


def test_a_body_subgraph_is_drawn_as_a_cluster(monkeypatch):
    program, loop = _toy_program("toy_loop")
    body = Node("sigmoid", (Node("input", (), (("name", "h"),), loop.type),), (), loop.type)
    monkeypatch.setitem(ir_graph.BODIES, "toy_loop", lambda node: ([body], toposort([body])))
    drawn = ir_graph.draw_program(program, program.functions)
    assert 'label="body of toy_loop"' in drawn.graph.source
    assert drawn.nodes == 6 and len(svg_nodes(drawn.graph.pipe(format="svg"))) == 6
