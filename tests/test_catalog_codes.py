"""One test per catalog code no other test raises: each mistake gets its own code, place and sentence, exit 2."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import symdl
from symdl.diagnostics.errors import UserError
from tests.test_errors import HEAD

F = "fn f(x) -> sum(x)\n"

# (body appended to HEAD, code, line:column, words of the message)
CASES = [
    ("if true:\n    a = 1\n  b = 2\n", "E102", "8:3", "inconsistent indentation"),
    ("block b(inp):\n    param W: f32[2, 2]\n    return inp @ W\nh = b(x)\nz = h.V\n", "E202", "10:5", "'h' has no member 'V'"),
    ("z = x[5]\n", "E409", "6:5", "index out of range"),
    ("x + 1 = 2\n", "E801", "6:1", "cannot assign to this expression"),
    ("def f(a):\n    b = a\nz = f(x)\n", "E804", "6:1", "def f ends without a return"),
    ("def step(a, b) = a\nz = scan(step, init = [sum(x), sum(x)], steps = 3)\n", "E806", "6:1", "returns 1 value(s)"),
    ("hyper q = 1 / 0\n", "E807", "6:11", "division by zero"),
    (
        "param W: f32[2]\nfn g(x) -> sum(x):\n    update W = W + 1\n    update W = W - 1\n",
        "E411",
        "9:16",
        "'W' is updated twice in one function",
    ),
    # a value of the wrong kind, count or range: each family its own code, at the value
    ("a, b = [1, 2, 3]\n", "E310", "6:8", "the right-hand side gives 3 value(s) for 2 name(s)"),
    ("for a, b in [1, 2]:\n    q = a\n", "E310", "6:13", "an item gives 1 value(s) for 2 name(s)"),
    (F + "run layerwise([f, f], data = d, epochs = [1, 2, 3])\n", "E311", "7:42", "gives 3 number(s) for 2 stage(s)"),
    ("z = lr(x)\n", "E315", "6:5", "'lr' must be a function or block to be called, got a number"),
    (F + "run early_stopping(f, 3, data = d)\n", "E317", "7:23", "'validate' of early_stopping must be a function declared with fn"),
    ("z = x + sum\n", "E319", "6:9", "this operand must be a tensor or a number, got a function"),
    ("z = 2 @ 3\n", "E320", "6:5", "each operand of '@' must be a tensor, got a number"),
    ("state s: like(3)\n", "E320", "6:15", "the argument of like(...) must be a tensor, got an integer"),
    (F + "run epochs(f, data = d, x = 3)\n", "E321", "7:25", "the binding of input 'x' must be a data field"),
    ("fn g(x) -> sum(x):\n    update lr\n", "E323", "7:12", "update must be given an update rule"),
    ("run 3\n", "E324", "6:5", "run must be given a recipe call"),
    ("z = zeros([2], dtype = 3)\n", "E326", "6:16", "'dtype' must be a dtype such as f32 or i64, got an integer"),
    ("c = sum(x)\ng = grad(c, 3)\n", "E327", "7:13", "grad's wrt must be parameters"),
    (F + "run early_stopping(f, f, data = d, improvement_threshold = f)\n", "E328", "7:60", "must be a number, got the function f"),
    (F + "run layerwise([f, f], data = d, epochs = f)\n", "E329", "7:42", "must be an integer, or a list of integers"),
    (F + "run sample_chains(f, data = d, chain = f)\n", "E336", "7:40", "'chain' of sample_chains must be a parameter or a state"),
    ("fn g(lr) -> sum(x)\n", "E337", "6:6", "fn input 'lr' must be a declared input, got a number"),
    ("param W: f32[2] = sum\n", "E340", "6:19", "an initial value must be a number"),
    ("param W: f32[2] ~ uniform()\n", "E345", "6:19", "uniform takes one or two numbers, got none"),
    ("z = scan(3, init = [0.0], steps = 2)\n", "E808", "6:10", "scan's step must be a def, got an integer"),
    ("def step(a, b) = a + b\nz = scan(step, init = [0.0], over = [sum(x)])\n", "E809", "7:30", "must have a leading time axis"),
    (
        "def step(a) = a\nz = scan(step, init = [0.0], steps = sum(x))\n",
        "E810",
        "7:30",
        "scan's steps must be an integer or an integer scalar",
    ),
]


@pytest.mark.parametrize("body, code, where, words", CASES, ids=[c[1] for c in CASES])
def test_a_mistake_in_the_model_file(cli, write_model, body, code, where, words):
    path = write_model(HEAD + body)
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:{where}: error[{code}]" in err and words in err and "Traceback" not in err


def test_a_hyper_naming_no_backend(cli, write_model):
    path = write_model(HEAD + 'hyper backend = "tpu"\n')
    status, _, err = cli("compile", path)
    assert status == 2 and "error[E506]: hyper backend is 'tpu', not a backend" in err and "numba" in err


TRAIN = "fn train(x) -> sum(x)\nrun epochs(train, data = d, epochs = 1)\n"


def _run(cli, path, tmp_path, *extra):
    return cli("run", path, "--backend", "fast", "--out", tmp_path / "run", "--quiet", *extra)


def test_run_without_a_model_file(cli):
    status, _, err = cli("run")
    assert status == 2 and "error[E743]: no model file given" in err


def test_run_of_a_model_without_run_statement(cli, write_model, tmp_path):
    path = write_model(HEAD)
    status, _, err = _run(cli, path, tmp_path)
    assert status == 2 and f"error[E731]: {path} has no run statement" in err


def test_a_split_smaller_than_one_batch(cli, write_model, tmp_path):
    path = write_model(HEAD + TRAIN)
    status, _, err = _run(cli, path, tmp_path, "--train-limit", "2")
    assert status == 2 and "error[E741]: the train split has 2 examples, fewer than one batch of 4" in err


def test_a_data_set_without_the_split_a_recipe_needs(cli, write_model, tmp_path):
    data = tmp_path / "only_train.npz"
    np.savez(data, train_x=np.zeros((8, 2), "float32"))
    body = "fn train(x) -> sum(x)\nfn check(x) -> sum(x)\nrun epochs(train, valid = check, data = d, epochs = 1)\n"
    path = write_model(HEAD.replace('dataset("gaussian_clouds", n = 8)', f'dataset(path = "{data}")') + body)
    status, _, err = _run(cli, path, tmp_path)
    assert status == 2 and f"{path}:3:1: error[E739]: dataset 'd' has no 'valid' split (it has train)" in err


def test_resume_of_a_damaged_config(cli, write_model, tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text("{not json")
    np.savez(run / "params.npz", w=np.zeros(2))
    status, _, err = cli("run", "--resume", run)
    assert status == 2 and "error[E710]" in err and "is damaged" in err
    (run / "config.json").write_text(json.dumps({"model": "m"}))
    status, _, err = cli("run", "--resume", run)
    assert status == 2 and "error[E712]" in err and "'source' is None" in err


def test_parameters_of_another_shape(write_model, tmp_path):
    path = write_model(HEAD + "param W: f32[2, k]\nz = x @ W\nfn f(x) -> z\n")
    model = symdl.load(path, backend="fast")
    np.savez(tmp_path / "params.npz", W=np.zeros((2, 5), "float32"))
    with pytest.raises(UserError) as caught:
        model.load_params(tmp_path)
    assert caught.value.code == "E604" and "'W' has shape (2, 5), the model declares (2, 3)" in caught.value.message


def test_a_parameter_file_that_is_not_one(write_model, tmp_path):
    path = write_model(HEAD + "param W: f32[2, k]\nz = x @ W\nfn f(x) -> z\n")
    (tmp_path / "params.npz").write_bytes(b"junk")
    with pytest.raises(UserError) as caught:
        symdl.load(path, params=tmp_path, backend="fast")
    assert caught.value.code == "E605" and "cannot read parameters from" in caught.value.message


def test_drawing_without_graphviz(cli, monkeypatch, tmp_path):
    import graphviz

    def missing(*args, **kwargs):
        raise graphviz.ExecutableNotFound(["dot"])

    monkeypatch.setattr(graphviz.Digraph, "pipe", missing)
    status, _, err = cli("graph", "models/logreg.sdl", "-o", tmp_path / "g.svg")
    assert status == 2 and "error[E703]: the graphviz program `dot` is not installed" in err


# ---- symdl sweep: each mistake is found before Ray starts -----------------------------------------

MODELS = Path(__file__).resolve().parents[1] / "models"
SWEEP_CASES = [
    (["--grid", "lr"], "E720", "bad search space entry"),
    (["--sample", "lr=foo(1, 2)"], "E721", "unknown distribution 'foo'"),
    (["--sample", "lr=uniform(1)"], "E722", "uniform takes"),
    (["--grid", "lr=0.1,0.2", "--grid", "lr=0.3"], "E724", "'lr' is given twice"),
    ([], "E751", "nothing to sweep"),
    (["--space", "/nonexistent/space.txt"], "E756", "cannot read search space"),
]


@pytest.mark.parametrize("args, code, words", SWEEP_CASES, ids=[c[1] for c in SWEEP_CASES])
def test_a_bad_sweep(cli, tmp_path, args, code, words):
    status, _, err = cli("sweep", MODELS / "logreg.sdl", "--out", tmp_path / "sweep", *args)
    assert status == 2 and f"error[{code}]" in err and words in err and "Traceback" not in err


def test_a_sweep_needs_a_validation_function(cli, tmp_path):
    status, _, err = cli("sweep", MODELS / "da.sdl", "--grid", "lr=0.1,0.2", "--out", tmp_path / "sweep")
    assert status == 2 and "error[E755]" in err and "no validation function" in err


def test_a_sweep_directory_is_not_reused_resumed_with_new_settings_or_confused(cli, tmp_path):
    (tmp_path / "done").mkdir()
    (tmp_path / "done" / "sweep.json").write_text("{}")
    status, _, err = cli("sweep", MODELS / "logreg.sdl", "--grid", "lr=0.1,0.2", "--out", tmp_path / "done")
    assert status == 2 and "error[E752]" in err and "already holds a sweep" in err
    status, _, err = cli("sweep", "--resume", tmp_path / "done", "--max-epochs", "3")
    assert status == 2 and "error[E753]" in err and "--max-epochs" in err
    status, _, err = cli("sweep", "--resume", tmp_path)
    assert status == 2 and "error[E754]" in err and "not a sweep directory" in err


def test_a_sweep_without_ray_says_what_to_install(cli, tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "symdl.sweep.tuner", None)  # as if Ray Tune were not installed
    status, _, err = cli("sweep", MODELS / "logreg.sdl", "--grid", "lr=0.1,0.2", "--out", tmp_path / "sweep")
    assert status == 2 and "error[E750]" in err and "symdl[sweep]" in err


# ---- data that does not fit the model, damaged run directories, an unreadable import -----------------


def test_fractional_values_for_an_integer_input(cli, write_model, tmp_path):
    from tests.test_errors import CLASSIFIER, _run_with_data

    arrays = {"train_x": np.zeros((8, 2), "float32"), "train_y": np.full(8, 0.5, "float32")}
    path, (status, _, err) = _run_with_data(cli, write_model, tmp_path, CLASSIFIER, arrays)
    assert status == 2 and f"{path}:5:1: error[E609]: the train data for input 'y' holds fractional values, the input is i32[4]" in err


DRAWS = "state c: f32[2, 3] = 0\nmoved = c + mean(x)\n"


def test_chains_that_no_example_can_start(cli, write_model, tmp_path):
    from tests.test_errors import _run_with_data

    body = DRAWS + "fn gibbs() -> sum(c):\n    update c = c + 1\nrun sample_chains(gibbs, data = d, chain = c, samples = 1)\n"
    arrays = {"train_x": np.zeros((8, 2), "float32"), "train_y": np.zeros(8, "int32")}
    path, (status, _, err) = _run_with_data(cli, write_model, tmp_path, body, arrays)
    assert status == 2 and "error[E607]: the chains of 'c' are (2, 3), but the train field 'x' is (8, 2)" in err


def test_a_field_fed_whole_of_another_shape(cli, write_model, tmp_path):
    from tests.test_errors import _run_with_data

    body = DRAWS + "fn draw(x) -> moved as position:\n    update c = moved\nrun mcmc(draw, data = d, burn_in = 1, samples = 1)\n"
    arrays = {"train_x": np.zeros((8, 2), "float32"), "train_y": np.zeros(8, "int32")}
    path, (status, _, err) = _run_with_data(cli, write_model, tmp_path, body, arrays)
    assert status == 2 and f"{path}:4:1: error[E608]: the data field 'x' fed whole to input 'x' has shape (8, 2)" in err


CONFIGS = [
    ("[1, 2]", "E711", "it holds a list, not an object"),
    ('{"source": 3}', "E712", "its 'source' is 3, a value of the wrong kind"),
    ('{"source": "m.sdl", "backend": "gpu"}', "E713", "its 'backend' is 'gpu', not one of"),
    ('{"source": "m.sdl", "max_epochs": 0}', "E714", "its 'max_epochs' is 0, not a positive number"),
]


@pytest.mark.parametrize("text, code, words", CONFIGS, ids=[c[1] for c in CONFIGS])
def test_a_damaged_config(tmp_path, text, code, words):
    from symdl.runtime.rundir import read_config

    (tmp_path / "config.json").write_text(text)
    with pytest.raises(UserError) as caught:
        read_config(tmp_path)
    assert caught.value.code == code and words in caught.value.message and str(tmp_path / "config.json") in caught.value.message


RECORDS = [
    ("not json", "E715", "its resume record cannot be read ("),
    ("[1, 2]", "E716", "its resume record is a list, not an object"),
    ('{"stage": "x"}', "E717", "its resume record's stage is 'x', not a count"),
    ('{"stage": 0, "position": {"epoch": -1}}', "E717", "its resume record's epoch is -1, not a count"),
    ('{"stage": 0, "progress": [1]}', "E718", "position, progress or generator state is not an object"),
]


@pytest.mark.parametrize("text, code, words", RECORDS, ids=[f"{c[1]}-{i}" for i, c in enumerate(RECORDS)])
def test_a_damaged_resume_record(tmp_path, text, code, words):
    from symdl.runtime.rundir import RunDir

    np.savez(tmp_path / "params.npz", w=np.zeros(2), __resume__=np.array(text))
    with pytest.raises(UserError) as caught:
        RunDir(tmp_path).reopen()
    assert caught.value.code == code and words in caught.value.message


def test_a_generator_state_that_cannot_be_restored(cli, write_model, tmp_path):
    path = write_model(HEAD + TRAIN)
    assert _run(cli, path, tmp_path)[0] == 0
    arrays = dict(np.load(tmp_path / "run" / "params.npz"))
    record = json.loads(str(arrays.pop("__resume__")))
    np.savez(tmp_path / "run" / "params.npz", **arrays, __resume__=np.array(json.dumps({**record, "random_state": {"bits": 1}})))
    status, _, err = cli("run", "--resume", tmp_path / "run", "--quiet")
    assert status == 2 and "error[E719]" in err and "its generator state cannot be restored" in err


def test_an_import_that_cannot_be_read(cli, write_model, monkeypatch):
    from symdl.elaborate import imports

    write_model("model lib\ndef f(a) = a\n", "lib.sdl")
    path = write_model('model m\nfrom "lib.sdl" import f\n')

    def refused(path):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(imports, "read_source", refused)
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:2:6: error[E210]: cannot import 'lib.sdl': {path.parent / 'lib.sdl'}: Permission denied" in err
