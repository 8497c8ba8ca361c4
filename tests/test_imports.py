"""Imports: blocks and defs of another file, named by the importer, nothing else leaking; errors where they belong."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_golden

from symdl.elaborate import imports
from symdl.ir.printer import format_program
from symdl.ir.verify import verify
from symdl.pipeline import front_end

HERE = Path(__file__).parent
STACK = HERE / "imports" / "stack.sdl"  # imports dA from models/da.sdl and rbm from models/rbm.sdl
MODELS = HERE.parent / "models"


def _line_of(path: Path, text: str) -> int:
    return next(k for k, line in enumerate(path.read_text().splitlines(), 1) if text in line)


def test_imported_blocks_declare_params_under_the_importers_instance_names():
    program = front_end(STACK).ir
    assert [p.name for p in program.params] == ["first.W", "first.b", "first.b_prime", "second.W", "second.hbias", "second.vbias"]
    assert [str(p.type) for p in program.params[:1] + program.params[3:4]] == ["f32[6, 3]", "f32[3, 2]"]


def test_nothing_but_blocks_and_defs_comes_from_the_imported_files():
    program = front_end(STACK).ir
    assert [name for name, _ in program.hypers] == ["batch", "n_in", "n_hidden", "lr"]
    assert [i.name for i in program.inputs] == ["x"]
    assert program.states == () and program.data == () and program.recipes == ()
    assert [f.name for f in program.functions] == ["train"]
    assert {name for name, _ in program.definitions} == {"first", "second", "cost"}


def test_imported_code_keeps_its_own_file_in_spans_and_in_the_printed_ir():
    program = front_end(STACK).ir
    files = {Path(n.span.source.name).resolve() for n in program.params}
    assert files == {(MODELS / "da.sdl").resolve(), (MODELS / "rbm.sdl").resolve()}
    line = _line_of(MODELS / "da.sdl", "corrupted = inp * bernoulli")
    assert f"= bernoulli(0.8:f32) {{shape=(4, 6) stream=1}}  # @da.sdl:{line}:" in format_program(program)


@pytest.mark.parametrize("stage", ["ir", "ir-opt"])
def test_importing_model_matches_golden(stage):
    compiled = front_end(STACK)
    program = compiled.ir if stage == "ir" else compiled.optimized
    verify(program)
    check_golden(HERE / "golden" / f"imports_stack.{stage}", format_program(program))


def test_set_of_an_imported_files_hyper_is_unknown(cli):
    status, out, err = cli("check", STACK, "--set", "k=3")
    assert status == 2
    assert "error[E204]: unknown hyperparameter 'k'" in err
    assert "'k' is a hyper of" in err and "rbm.sdl" in err and "Traceback" not in err


def test_imported_block_sees_its_own_files_hypers_with_their_defaults(write_model):
    write_model("hyper width = 5\nblock wide(inp):\n    param b: f32[width]\n    return inp + b\n", "lib.sdl")
    main = write_model('from "lib.sdl" import wide\nhyper width = 7\ninput x: f32[width]\nh = wide(x[:5])\n')
    program = front_end(main, ["width=6"]).ir
    assert [(p.name, str(p.type)) for p in program.params] == [("h.b", "f32[5]")]
    assert [i.type.shape for i in program.inputs] == [(6,)]


def test_diamond_elaborates_the_shared_file_once(write_model, monkeypatch):
    write_model("hyper n = 2\nparam unused: f32[n]\nblock leaf(inp):\n    param w: f32[n]\n    return inp * w\n", "d.sdl")
    write_model('from "d.sdl" import leaf\ndef left(v) = leaf(v)\n', "b.sdl")
    write_model('from "d.sdl" import leaf\ndef right(v) = leaf(v)\n', "c.sdl")
    main = write_model('from "b.sdl" import left\nfrom "c.sdl" import right\ninput x: f32[2]\np = left(x)\nq = right(x)\n')
    parsed: list[str] = []
    real_parse = imports.parse
    monkeypatch.setattr(imports, "parse", lambda source: parsed.append(Path(source.name).name) or real_parse(source))
    program = front_end(main).ir
    assert sorted(parsed) == ["b.sdl", "c.sdl", "d.sdl"]
    assert len(program.params) == 2 and all(p.name.startswith("leaf@") and p.name.endswith(".w") for p in program.params)


def _error(cli, path: Path) -> str:
    status, out, err = cli("check", path)
    assert status == 2, err
    assert "Traceback" not in out + err
    return err


def test_import_cycle_is_an_error_at_the_closing_import(cli, write_model):
    write_model('from "b.sdl" import g\ndef f(v) = v\n', "a.sdl")
    b = write_model('from "a.sdl" import f\ndef g(v) = v\n', "b.sdl")
    err = _error(cli, b.parent / "a.sdl")
    assert f"{b}:1:6: error[E212]: import cycle: {b.parent / 'a.sdl'} -> {b} -> {b.parent / 'a.sdl'}" in err
    assert f"note: {b} is imported at {b.parent / 'a.sdl'}:1:1" in err


def test_a_file_importing_itself_is_a_cycle(cli, write_model):
    path = write_model('from "model.sdl" import f\ndef f(v) = v\n')
    assert f"{path}:1:6: error[E212]" in _error(cli, path)


def test_missing_file_is_an_error_at_the_path_with_the_resolved_path(cli, write_model):
    path = write_model('model m\nfrom "lib/nothere.sdl" import f\n')
    err = _error(cli, path)
    assert f"{path}:2:6: error[E213]: cannot import 'lib/nothere.sdl': there is no file {path.parent / 'lib' / 'nothere.sdl'}" in err
    assert "^^^^^^^^^^^^^^^^^" in err and f"importing file's directory ({path.parent})" in err


def test_a_name_the_file_does_not_define_is_an_error_at_the_name(cli, write_model):
    path = write_model(f'from "{MODELS / "rbm.sdl"}" import rbm, rmb\n')
    err = _error(cli, path)
    column = len(f'from "{MODELS / "rbm.sdl"}" import rbm, ') + 1
    assert f"{path}:1:{column}: error[E211]: 'rmb' is not a block or def of {MODELS / 'rbm.sdl'}" in err
    assert "did you mean 'rbm'?" in err


def test_a_param_of_the_imported_file_cannot_be_imported(cli, write_model):
    path = write_model(f'from "{MODELS / "rbm.sdl"}" import chain\n')
    err = _error(cli, path)
    assert "error[E211]: 'chain' is not a block or def" in err and "'chain' is a state of" in err


def test_an_imported_name_already_defined_is_e201(cli, write_model):
    write_model("def f(v) = v\n", "lib.sdl")
    path = write_model('hyper f = 1\nfrom "lib.sdl" import f\n')
    assert f"{path}:2:23: error[E201]: 'f' is already defined" in _error(cli, path)


def test_syntax_error_in_the_imported_file_is_reported_there(cli, write_model):
    lib = write_model("def f(a) = a +\n", "lib.sdl")
    path = write_model('model m\n\nfrom "lib.sdl" import f\n')
    err = _error(cli, path)
    assert f"{lib}:1:15: error[E100]" in err and "    1 | def f(a) = a +" in err
    assert f"note: {lib} is imported at {path}:3:1" in err


def test_def_reading_a_top_level_param_of_its_file_fails_at_the_use(cli, write_model):
    lib = write_model("hyper n = 3\nparam W: f32[n]\ndef scale(v) = v * W\n", "lib.sdl")
    path = write_model('from "lib.sdl" import scale\ninput x: f32[3]\ny = scale(x)\n')
    err = _error(cli, path)
    assert f"{lib}:3:20: error[E200]: unknown name 'W'" in err
    assert f"note: {lib} is imported at {path}:1:1" in err
    assert "'W' is a param at the top level of" in err


def test_error_inside_an_imported_block_names_the_imported_file(cli, write_model):
    path = write_model(f'from "{MODELS / "rbm.sdl"}" import rbm\ninput x: f32[2, 3]\nr = rbm(x, 4, 2)\n')
    err = _error(cli, path)
    line = _line_of(MODELS / "rbm.sdl", "def h_given_v(x)")
    assert f"{MODELS / 'rbm.sdl'}:{line}:" in err and "error[E400]" in err
    assert f"is imported at {path}:1:1" in err
