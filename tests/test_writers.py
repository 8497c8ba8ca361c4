"""Artifacts declared in the model: `write = [WRITER(SOURCE, "FILE", every = ...)]` on a `run` line."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import numpy as np
import pytest

from symdl.ir.recipes import WRITERS as DECLARED
from symdl.runtime.writers import WRITERS
from tests.test_feeds import check_fails_at
from tests.test_loop import _params
from tests.test_resume import _interrupt_after

# 64 examples in minibatches of 8: 8 steps an epoch. `img` (4 images of 4x4 pixels) decays as it trains.
MODEL = """model written
hyper lr = 0.5
data d = dataset("gaussian_clouds", n = 64, seed = 3)
input x: f32[8, 2]
input y: f32[8]
param w: f32[2] ~ normal(1.0)
param img: f32[4, 16] ~ normal(1.0)
cost = mean((x @ w - y) ** 2) + mean(img ** 2)
fn train(x, y) -> cost:
    update sgd(cost, params, lr)
fn show() -> sigmoid(img)
run epochs(train, data = d, epochs = 3, WRITE)
"""
WRITE = 'write = [tiles(show, "show.png"), npz(show, "each", every = "epoch"), npz(img, "last.npz", every = "end")]'


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-v.astype(np.float64)))


def _run(cli, path: Path, out: Path, *args: str) -> None:
    status, _, err = cli("run", path, "--out", out, "--backend", "fast", "--quiet", *args)
    assert status == 0, err


def test_every_declared_writer_has_an_implementation():
    assert set(DECLARED) == set(WRITERS)


def test_writers_write_their_source_when_declared(cli, write_model, tmp_path):
    path = write_model(MODEL.replace("WRITE", WRITE))
    _run(cli, path, tmp_path / "one", "--max-epochs", "1")
    _run(cli, path, tmp_path / "whole")
    whole, one = tmp_path / "whole", tmp_path / "one"
    assert matplotlib.image.imread(whole / "show.png").shape[:2] == (2 * 5 - 1, 2 * 5 - 1)  # 4 images of 4x4 on a 2x2 grid
    final = _params(whole)["img"]
    np.testing.assert_array_equal(np.load(whole / "last.npz")["last"], final)  # at the end: the trained value
    np.testing.assert_allclose(np.load(whole / "each.npz")["each"], _sigmoid(final), rtol=1e-5)  # after the last epoch
    np.testing.assert_allclose(np.load(one / "each.npz")["each"], _sigmoid(_params(one)["img"]), rtol=1e-5)
    assert not np.allclose(np.load(one / "each.npz")["each"], np.load(whole / "each.npz")["each"])


def test_an_epoch_writer_writes_after_each_epoch_and_an_end_writer_once_at_the_end(cli, write_model, tmp_path, monkeypatch):
    path = write_model(MODEL.replace("WRITE", WRITE))
    _run(cli, path, tmp_path / "one", "--max-epochs", "1")
    _run(cli, path, tmp_path / "whole")
    parts = tmp_path / "parts"
    with monkeypatch.context() as m:
        _interrupt_after(m, 11)  # mid-epoch 2: epoch 1's writers have run, the end's have not
        status, _, err = cli("run", path, "--out", parts, "--backend", "fast", "--quiet")
    assert status == 130, err
    assert not (parts / "last.npz").exists()
    np.testing.assert_array_equal(np.load(parts / "each.npz")["each"], np.load(tmp_path / "one" / "each.npz")["each"])
    assert cli("run", "--resume", parts)[0] == 0
    for name in ("each", "last"):
        np.testing.assert_array_equal(np.load(parts / f"{name}.npz")[name], np.load(tmp_path / "whole" / f"{name}.npz")[name])


def test_the_older_keywords_are_writers_too(cli, write_model, tmp_path):
    path = write_model(MODEL.replace("WRITE", "tiles = show, filters = img"), "older.sdl")
    _run(cli, path, tmp_path / "older", "--max-epochs", "1")
    assert matplotlib.image.imread(tmp_path / "older" / "show.png").shape[:2] == (9, 9)
    assert (tmp_path / "older" / "filters.png").exists()  # img's 16 rows: 4x4 images of its 4 columns


def test_compile_lists_what_each_stage_writes(cli, write_model):
    status, out, _ = cli("compile", write_model(MODEL.replace("WRITE", WRITE)), "--backend", "fast")
    assert status == 0
    assert "stage 1: epochs(train) writes show.png (tiles of show, each epoch), each.npz (npz of show, each epoch), " in out
    assert "last.npz (npz of img, at the end)" in out


# (name, write = ..., code, column of the mistake, words)
MISTAKES = [
    ("a misspelt writer", 'write = [tile(show, "s.png")]', "E218", 50, "did you mean 'tiles'"),
    ("not a writer call", "write = show", "E332", 49, "got show"),
    ("a vector for tiles", "write = [tiles(w)]", "E333", 56, "square images [n, pixels] or [rows, columns, pixels], got w: f32[2]"),
    ("a function with inputs", "write = [npz(train)]", "E333", 54, "a function without inputs, got fn train"),
    ("a misspelt time", 'write = [npz(img, every = "epochs")]', "E334", 67, "did you mean 'epoch'"),
    ("a path outside the run", 'write = [npz(img, "../img.npz")]', "E335", 59, "plain name ending in .npz"),
    ("another suffix", 'write = [tiles(show, "show.jpg")]', "E335", 62, 'got "show.jpg"'),
]


@pytest.mark.parametrize("name,write,code,column,words", MISTAKES, ids=[m[0] for m in MISTAKES])
def test_a_bad_writer_gets_a_located_error(cli, write_model, name, write, code, column, words):
    check_fails_at(cli, write_model(MODEL.replace("WRITE", write)), f"12:{column}", code, words)
