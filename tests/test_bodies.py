"""`check` reads every def and block body, called or not: names and arity are checked where nothing calls them."""

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from symdl.cli.main import main

MODELS = Path(__file__).resolve().parents[1] / "models"


def _check(path: Path) -> tuple[int, str]:
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        status = main(["check", str(path)])
    return status, err.getvalue()


@pytest.fixture
def models(tmp_path) -> Path:
    shutil.copytree(MODELS, tmp_path / "models")
    return tmp_path / "models"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


def test_a_typo_in_an_uncalled_block_of_layers_is_found(models):
    layers = (MODELS.parent / "symdl" / "std" / "layers.sdl").read_text()  # the library's layers, imported by a relative path
    (models / "layers.sdl").write_text(layers + "\nblock unused(inp):\n    return tanh(inpt)\n")
    _edit(models / "lenet.sdl", '"std/layers.sdl"', '"layers.sdl"')
    status, err = _check(models / "lenet.sdl")
    assert status == 2
    line = len(layers.splitlines()) + 3
    assert f"{models / 'layers.sdl'}:{line}:17: error[E200]: unknown name 'inpt'" in err and "did you mean 'inp'?" in err


def test_a_typo_in_the_rbm_branch_persistent_does_not_take_is_found(models):
    _edit(models / "rbm.sdl", "return mean(sum(v * log(z)", "return mean(sum(v * lg(z)")
    status, err = _check(models / "rbm.sdl")  # persistent = true: reconstruction_cross_entropy is never called
    assert status == 2 and "error[E200]: unknown name 'lg'" in err and "rbm.sdl:51:" in err


@pytest.mark.parametrize(
    "body, code, words",
    [
        ("    return tanh(x, x)\n", "E300", "tanh takes 1 argument(s), got 2"),
        ("    return clip(x, 0)\n", "E301", "missing argument 'high'"),
        ("    return sum(x, axes = 1)\n", "E205", "unknown keyword argument 'axes'"),
        ("    return helper(x, 2)\n", "E300", "helper takes 1 argument(s), got 2"),
        ("    return helper(y = x)\n", "E205", "unknown keyword argument 'y'"),
        ("    h = dense(x, 3)\n    return h\n", "E301", "missing argument 'n_out'"),
        ("    param W: f32[3] ~ xavier()\n    return W\n", "E203", "unknown function 'xavier'"),
        ("    if x:\n        return undefined_thing\n    return x\n", "E200", "unknown name 'undefined_thing'"),
        ("    for i in range(3):\n        q = i + missing\n    return x\n", "E200", "unknown name 'missing'"),
    ],
)
def test_uncalled_body_is_checked(tmp_path, body, code, words):
    path = tmp_path / "m.sdl"
    path.write_text(
        "model m\nhyper n = 3\ninput z: f32[n]\nparam w: f32[n] = 0\n"
        "def helper(x) = x\nblock dense(inp, n_in, n_out):\n    return inp\n"
        "block unused(x):\n" + body + "cost = sum(w * z)\nfn train(z) -> cost\n"
    )
    status, err = _check(path)
    assert status == 2, err
    assert f"error[{code}]" in err and words in err and f"{path}:" in err


def test_what_depends_on_argument_types_is_left_to_the_call(tmp_path):
    path = tmp_path / "m.sdl"
    path.write_text(
        "model m\ninput z: f32[3]\nparam w: f32[3] = 0\n"
        "block unused(x, act = tanh):\n    param b: f32[3] = 0\n    return act(x.shape) + b\n"  # wrong only for some arguments
        "def shared(x, W) = x\n"
        "cost = sum(w * z)\nfn train(z) -> cost\n"
    )
    status, err = _check(path)
    assert status == 0, err


def test_every_shipped_model_checks():
    for path in sorted(MODELS.glob("*.sdl")):
        status, err = _check(path)
        assert status == 0, f"{path}: {err}"
