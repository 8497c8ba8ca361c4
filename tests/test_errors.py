"""Every kind of user mistake: file:line:col, the line with a caret, a sentence, a hint, exit 2.

Each case writes its model and names the expected code and position; none may print a traceback.
"""

from __future__ import annotations

import gzip

import pytest

HEAD = """model m
hyper n = 4, k = 3, lr = 0.1
data d = dataset("gaussian_clouds", n = 8)
input x: f32[n, 2]
input y: f32[n]
"""

# (name, body appended to HEAD, code, line, column, words the message or hint must contain)
CASES = [
    ("syntax", "z = x +\n", "E124", 6, 8, "right-hand side"),
    ("unexpected token", "z = x )\n", "E100", 6, 7, "unexpected ')'"),
    ("unknown name", "z = x @ W\n", "E200", 6, 9, "'W'"),
    ("did you mean", "param W: f32[2, k]\nz = x @ w\n", "E200", 7, 9, "did you mean 'W'"),
    ("shape mismatch", "param W: f32[3, k]\nz = x @ W\n", "E400", 7, 5, "f32[4, 2]"),
    ("broadcast", "param b: f32[3]\nz = y + b\n", "E404", 7, 5, "4 vs 3"),
    ("arity builtin", "z = tanh(x, y)\n", "E300", 6, 5, "tanh takes 1"),
    ("arity def", "def f(a) = a\nz = f(x, y)\n", "E300", 7, 5, "f takes 1"),
    ("missing argument", "block b(inp, size):\n    return inp\nz = b(x)\n", "E301", 8, 5, "size"),
    ("unknown keyword", "z = sum(x, axes = 1)\n", "E205", 6, 12, "did you mean 'axis'"),
    ("axis", "z = sum(x, axis = 2)\n", "E403", 6, 5, "out of range"),
    ("float index", "z = x[y]\n", "E401", 6, 5, "integer"),
    ("duplicate param", "block b(inp):\n    param W: f32[2, 2]\n    return inp @ W\nh = b(x)\nh = b(x)\n", "E201", 7, 5, "first declared"),
    ("update shape", "param W: f32[2, 2]\nfn f(x) -> x:\n    update W = x\n", "E406", 8, 16, "f32[4, 2]"),
    ("update input", "fn f(x) -> x:\n    update x = x\n", "E407", 7, 12, "neither a param nor a state"),
    (
        "grad unrelated",
        "param W: f32[2]\nparam V: f32[2]\nc = sum(x @ W)\nfn f(x) -> c:\n    update sgd(c, [W, V], lr)\n",
        "E408",
        10,
        19,
        "'V'",
    ),
    ("fn missing input", "c = sum(x) + sum(y)\nfn f(x) -> c\n", "E802", 7, 1, "does not list it"),
    ("tensor if", "if x:\n    z = 1\n", "E304", 6, 4, "switch"),
    ("recipe unknown", "fn f(x, y) -> sum(x)\nrun early_stoping(f, f, data = d)\n", "E207", 7, 1, "did you mean 'early_stopping'"),
    ("recipe kwarg", "fn f(x, y) -> sum(x)\nrun epochs(f, data = d, epoch = 3)\n", "E205", 7, 25, "did you mean 'epochs'"),
    ("param in def", "def f(a):\n    param W: f32[2]\n    return a\n", "E800", 7, 5, "not allowed"),
    ("dimension", "input z: f32[lr]\n", "E303", 6, 14, "integer"),
    ("unknown dataset", 'data e = dataset("fashion_mnist")\n', "E206", 6, 1, "did you mean 'fashion-mnist'"),
    ("update in if", "param W: f32[2]\nfn f(x) -> x:\n    if true:\n        update W = x\n", "E406", 9, 20, "f32[4, 2]"),
    ("param with ? dim", "param W: f32[?, 2]\n", "E346", 6, 10, "static"),
    ("sgd without lr", "param W: f32[2]\nc = sum(x @ W)\nfn f(x) -> c:\n    update sgd(c, params)\n", "E301", 9, 12, "'lr'"),
    ("recursive def", "def f(a) = f(a) + 1\nz = f(x)\n", "E803", 6, 12, "calls itself"),
    ("duplicate hyper", "hyper lr = 0.5\n", "E201", 6, 7, "first defined at"),
    ("unknown initialiser", "param W: f32[2, 2] ~ xavier(tanh)\n", "E203", 6, 22, "glorot"),
]


@pytest.mark.parametrize("name,body,code,line,column,words", CASES, ids=[c[0] for c in CASES])
def test_model_errors(cli, write_model, name, body, code, line, column, words):
    path = write_model(HEAD + body)
    status, out, err = cli("check", path)
    assert status == 2, err
    assert f"{path}:{line}:{column}: error[{code}]" in err
    assert words in err
    assert "^" in err and f"{line:>5} | " in err
    assert "Traceback" not in err + out


@pytest.mark.parametrize(
    "override,code,words",
    [
        ("n_hiden=800", "E204", "did you mean 'n_hidden'"),
        ("n_hidden=abc", "E501", "must be an integer"),
        ("n_hidden=1.5", "E501", "must be an integer"),
        ("lr=fast", "E501", "must be a number"),
        ("act=12", "E501", "must be a function"),
        ("act=relux", "E501", "did you mean 'relu'"),
        ("n_hidden", "E500", "NAME=VALUE"),
    ],
)
def test_override_errors(cli, override, code, words):
    status, out, err = cli("check", "models/mlp.sdl", "--set", override)
    assert status == 2
    assert f"--set:1:1: error[{code}]" in err and words in err and "Traceback" not in err


def test_good_overrides_are_typed(cli):
    status, out, _ = cli("check", "models/mlp.sdl", "--set", "lr=1", "--set", "act=relu", "--set", "n_hidden=n_in // 2")
    assert status == 0 and "model mlp" in out


def test_missing_model_file(cli, tmp_path):
    status, _, err = cli("check", tmp_path / "nope.sdl")
    assert status == 2 and "cannot read model file" in err and "Traceback" not in err


LABELS = HEAD.replace('dataset("gaussian_clouds", n = 8)', 'dataset(path = "{path}")').replace("input y: f32[n]", "input y: i32[n]")


def _run_with_data(cli, write_model, tmp_path, body: str, arrays: dict | None, raw: bytes | None = None, suffix=".npz"):
    import numpy as np

    data = tmp_path / f"data{suffix}"
    if arrays is not None:
        np.savez(data, **arrays)
    else:
        data.write_bytes(raw or b"")
    path = write_model(LABELS.format(path=data) + body)
    return path, cli("run", path, "--backend", "fast", "--out", tmp_path / "run", "--quiet")


CLASSIFIER = (
    "param W: f32[2, 3]\np = softmax(x @ W)\nnll = -mean(log(p)[arange(n), y])\n"
    "fn train(x, y) -> nll:\n    update sgd(nll, params, lr)\nrun epochs(train, data = d)\n"
)


def test_labels_out_of_range(cli, write_model, tmp_path):
    import numpy as np

    arrays = {"train_x": np.zeros((8, 2), "float32"), "train_y": np.array([0, 1, 2, 3, 0, 1, 2, 0])}
    path, (status, out, err) = _run_with_data(cli, write_model, tmp_path, CLASSIFIER, arrays)
    assert status == 2 and f"{path}:5:1: error[E602]" in err and "size 3" in err and "Traceback" not in err


def test_feature_count_mismatch(cli, write_model, tmp_path):
    import numpy as np

    arrays = {"train_x": np.zeros((8, 5), "float32"), "train_y": np.zeros(8, "int32")}
    path, (status, out, err) = _run_with_data(cli, write_model, tmp_path, CLASSIFIER, arrays)
    assert status == 2 and f"{path}:4:1: error[E601]" in err and "f32[4, 2]" in err


def test_corrupt_data_file(cli, write_model, tmp_path):
    path, (status, out, err) = _run_with_data(cli, write_model, tmp_path, CLASSIFIER, None, gzip.compress(b"junk")[:10], ".pkl.gz")
    assert status == 2 and f"{path}:3:1: error[E614]" in err and "Traceback" not in err


def test_missing_data_file(cli, write_model, tmp_path):
    path = write_model(LABELS.format(path=tmp_path / "absent.npz") + CLASSIFIER)
    status, _, err = cli("run", path, "--backend", "fast", "--out", tmp_path / "run", "--quiet")
    assert status == 2 and f"{path}:3:1: error[E613]" in err


@pytest.mark.parametrize(
    "text, where, message, hint",
    [
        ("model m\ninput x: f32[3]\nfn f(x) -> x\n    update y = 1\n", "4:5", "E103]: unexpected indentation", "end line 3 with ':'"),
        ("model m\nhyper a = 1\n    hyper b = 2\n", "3:5", "E103]: unexpected indentation", "inside a block"),
        ("model m\ninput x: f32[3]\ny = sum(x\nz = y + 1\nfn f(x) -> z\n", "3:8", "'(' is never closed", "close it with ')'"),
    ],
)
def test_layout_mistakes_are_reported_where_they_are(write_model, cli, text, where, message, hint):
    path = write_model(text)
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:{where}:" in err and message in err and hint in err, err


def test_an_error_inside_a_block_names_the_call_that_expanded_it(write_model, cli):
    path = write_model(
        "model m\ninput x: f32[2, 3]\nblock dense(inp, n):\n    param W: f32[n, 5] = 0\n    return inp @ W\nh = dense(x, 4)\nfn f(x) -> h\n"
    )
    status, _, err = cli("check", path)
    assert status == 2 and f"{path}:5:12: error[E400]" in err and f"note: in the call of dense at {path}:6:5" in err


def test_a_binding_to_a_field_the_data_set_lacks_is_caught_by_check(write_model, cli):
    from conftest import MODELS

    text = (MODELS / "mlp.sdl").read_text().replace("patience = patience)", "patience = patience, y = digits.label)")
    path = write_model(text)
    status, _, err = cli("check", path)
    assert status == 2 and "error[E208]: unknown data field 'label'" in err and "input y of fn train" in err
