"""The one training loop: recipes as typed declarations, shuffling, alternating steps, exact resume."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from symdl.ir.recipes import SIGNATURES
from symdl.runtime.checkpoint import load_arrays
from symdl.runtime.recipes import RECIPES
from tests.test_errors import HEAD
from tests.test_resume import _interrupt_after

ROOT = Path(__file__).resolve().parents[1]
TRAIN = "fn f(x, y) -> mean(x) as cost\n"


def test_every_declared_recipe_configures_the_loop():
    assert set(RECIPES) == set(SIGNATURES)


# (name, run line, code, column, words): each mistake is located at the value or keyword it concerns
CASES = [
    ("a field for a dataset", "run epochs(f, data = d.x)\n", "E322", 22, "got the data field d.x"),
    ("a fraction for an integer", "run epochs(f, data = d, epochs = 2.5)\n", "E303", 34, "must be an integer"),
    ("a function for a number", "run early_stopping(f, f, data = d, patience = f)\n", "E303", 47, "got the function f"),
    ("a misspelt option", "run epochs(f, data = d, shufle = 1)\n", "E205", 25, "did you mean 'shuffle'"),
    ("a keyword given twice", "run epochs(f, train = f, data = d)\n", "E302", 15, "given twice"),
    ("a number for functions", "run layerwise(3, data = d)\n", "E318", 15, "functions in order"),
    ("an unknown recipe", "run epoch(f, data = d)\n", "E207", 1, "did you mean 'epochs'"),
    ("a draw with inputs and no data", "run mcmc(f)\n", "E301", 1, "'data'"),
]


@pytest.mark.parametrize("name,line,code,column,words", CASES, ids=[c[0] for c in CASES])
def test_a_run_line_is_checked_against_its_declaration(cli, write_model, name, line, code, column, words):
    path = write_model(HEAD + TRAIN + line)
    extra = ("--backend", "fast", "--quiet", "--out", path.parent / "run") if code == "E301" else ()
    status, _, err = cli("run" if extra else "check", path, *extra)
    assert status == 2, err
    assert f"{path}:7:{column}: error[{code}]" in err, err
    assert words in err and "Traceback" not in err and "DataField(" not in err


SHUFFLED = """model shuffled
hyper lr = 0.05, shuffle = 1
data d = dataset("gaussian_clouds", n = 64, seed = 3)
input x: f32[8, 2]
input y: f32[8]
param w: f32[2] ~ normal(1.0)
param b: f32 = 0
cost = mean((x @ w + b - y) ** 2)
fn train(x, y) -> cost:
    update sgd(cost, params, lr)
run epochs(train, data = d, epochs = 3, shuffle = shuffle)
"""


def _params(run: Path) -> dict[str, np.ndarray]:
    return load_arrays(run / "params.npz")


def _resumed(cli, monkeypatch, path: Path, parts: Path, stop_at: int, *args: str) -> str:
    """Run `path` interrupted at the `stop_at`-th step boundary, then `--resume` it to the end (its stderr)."""
    with monkeypatch.context() as m:
        _interrupt_after(m, stop_at)
        status, _, err = cli("run", path, "--out", parts, "--backend", "fast", "--quiet", *args)
    assert status == 130 and f"--resume {parts}" in err, err
    status, _, err = cli("run", "--resume", parts)
    assert status == 0, err
    return err


def _same_params(a: Path, b: Path) -> None:
    first, second = _params(a), _params(b)
    assert set(first) == set(second)
    for name in first:
        np.testing.assert_array_equal(first[name], second[name], err_msg=name)


def test_a_shuffled_run_resumed_mid_epoch_ends_bit_identical(cli, write_model, tmp_path, monkeypatch):
    path = write_model(SHUFFLED)
    for name, shuffle in (("whole", "1"), ("ordered", "0")):
        assert cli("run", path, "--out", tmp_path / name, "--backend", "fast", "--quiet", "--set", f"shuffle={shuffle}")[0] == 0
    _resumed(cli, monkeypatch, path, tmp_path / "parts", 11)  # 8 minibatches an epoch: mid-epoch 2
    _same_params(tmp_path / "whole", tmp_path / "parts")
    assert not np.array_equal(_params(tmp_path / "whole")["w"], _params(tmp_path / "ordered")["w"])  # the order did change


def test_sample_chains_resumed_mid_stage_ends_bit_identical(cli, tmp_path, monkeypatch):
    from tests.test_resume import RUNS

    path = ROOT / "models" / "rbm.sdl"
    args = (*RUNS["rbm"], "--set", "n_samples=3")
    assert cli("run", path, "--out", tmp_path / "whole", "--backend", "fast", "--quiet", *args)[0] == 0
    _resumed(cli, monkeypatch, path, tmp_path / "parts", 22, *args)  # 2 epochs of 10 steps, then the 2nd sample
    _same_params(tmp_path / "whole", tmp_path / "parts")
    assert (tmp_path / "whole" / "samples.png").read_bytes() == (tmp_path / "parts" / "samples.png").read_bytes()


def test_mcmc_resumed_mid_stage_ends_bit_identical_and_writes_its_draws(cli, tmp_path, monkeypatch):
    path, args = ROOT / "models" / "hmc.sdl", ("--set", "burn_in=30", "--set", "n_samples=40", "--set", "n_steps=3")
    assert cli("run", path, "--out", tmp_path / "whole", "--backend", "fast", "--quiet", *args)[0] == 0
    _resumed(cli, monkeypatch, path, tmp_path / "parts", 50, *args)  # 20 samples kept when interrupted
    _same_params(tmp_path / "whole", tmp_path / "parts")
    whole, parts = (np.load(tmp_path / run / "draws.npz")["draws"] for run in ("whole", "parts"))
    assert whole.shape == (40, 3, 5)
    np.testing.assert_array_equal(whole, parts)
    summaries = [json.loads((tmp_path / run / "summary.json").read_text()) for run in ("whole", "parts")]
    assert summaries[0]["mean_abs_error"] == summaries[1]["mean_abs_error"]


def test_sequences_resumed_mid_epoch_ends_bit_identical(cli, tmp_path, monkeypatch):
    from tests.test_rnnrbm import TINY, _midi_pieces

    _midi_pieces(tmp_path / "midi", 6)
    model = ROOT / "models" / "rnnrbm.sdl"
    args = ("--data", tmp_path / "midi", "--max-epochs", "2", *[a for s in TINY for a in ("--set", s)])
    assert cli("run", model, "--out", tmp_path / "whole", "--backend", "fast", "--quiet", *args)[0] == 0
    err = _resumed(cli, monkeypatch, model, tmp_path / "parts", 5, *args)
    assert "epoch 2, batch 1" in err  # 4 training pieces an epoch: stopped after the first piece of epoch 2
    _same_params(tmp_path / "whole", tmp_path / "parts")


SCHEDULED = SHUFFLED.replace(
    "fn train(x, y) -> cost:\n    update sgd(cost, params, lr)\n",
    "state seen_step: f32 = 0\nstate seen_epoch: f32 = 0\n"
    "fn train(x, y) -> cost, lr * 0.5 ** epoch as rate:\n"
    "    update sgd(cost, params, lr * 0.5 ** epoch)\n"
    "    update seen_step = step\n"
    "    update seen_epoch = epoch\n",
)


def test_step_and_epoch_are_scalars_the_loop_sets(cli, write_model, tmp_path):
    out = tmp_path / "run"
    assert cli("run", write_model(SCHEDULED), "--out", out, "--backend", "fast", "--quiet")[0] == 0
    rates = [row.split(",")[2] for row in (out / "metrics.csv").read_text().splitlines()[1:]]
    assert [float(r) for r in rates] == pytest.approx([0.05, 0.025, 0.0125])
    values = _params(out)
    assert (values["seen_step"], values["seen_epoch"]) == (23, 2)  # the last call: step 23 of 3 epochs of 8, epoch 2 counted from 0


def test_a_models_own_step_shadows_the_built_in(cli, write_model):
    status, out, err = cli("compile", write_model(SHUFFLED.replace("shuffle = 1\n", "shuffle = 1, epoch = 7\n")), "--emit", "ir")
    assert status == 0, err
    assert "state epoch" not in out


def test_the_gan_learns_by_alternating_updates(cli, tmp_path):
    """models/gan.sdl on 640 images for 2 epochs against the same run with lr = 0. The C backend: `fast`
    evaluates this model's fused elementwise ops in Python, element by element (2 s a step here)."""
    import symdl
    from symdl.runtime.data import load_dataset

    model, runs = ROOT / "models" / "gan.sdl", {}
    for name, lr in (("trained", "0.05"), ("untrained", "0")):
        out = tmp_path / name
        args = ("--out", out, "--backend", "c", "--quiet", "--train-limit", "640", "--max-epochs", "2", "--set", f"lr={lr}")
        assert cli("run", model, *args)[0] == 0
        last = (out / "metrics.csv").read_text().splitlines()
        runs[name] = dict(zip(last[0].split(","), last[-1].split(",")))
        runs[name]["made"] = symdl.load(model, params=out, backend="c").fn.samples()
    gap = {k: float(r["d_step_real_score"]) - float(r["d_step_made_score"]) for k, r in runs.items()}
    assert gap["trained"] > gap["untrained"] + 0.3  # the discriminator tells real from made
    data_mean = load_dataset("fashion-mnist").splits["train"]["x"][:640].mean(axis=0)
    distance = {k: float(np.abs(r["made"].mean(axis=0) - data_mean).mean()) for k, r in runs.items()}
    assert distance["trained"] < 0.8 * distance["untrained"]  # the generator's images move toward the data's
    assert _png_size(tmp_path / "trained" / "samples.png") == (8 * 29 - 1, 8 * 29 - 1)  # 64 samples on an 8x8 grid


def _png_size(path: Path) -> tuple[int, int]:
    import struct

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return height, width


def test_a_data_kind_is_one_registry_entry(cli, write_model):
    """Registered once (name, options, fields, loader), a kind is known to `check`, its fields checked, and it loads."""
    from symdl.runtime.data import KINDS, DataKind, load_dataset, register

    register(DataKind("toy", {"n": 3}, ("x", "y"), lambda n: {"train": {"x": np.ones((n, 2)), "y": np.arange(n) % 2}}))
    head = HEAD.replace('dataset("gaussian_clouds", n = 8)', 'dataset("toy", n = 8)')
    try:
        assert cli("check", write_model(head + TRAIN + "run epochs(f, data = d)\n"))[0] == 0
        status, _, err = cli("check", write_model(head + "input z: f32[4]\nfn g(z) -> sum(z)\nrun epochs(g, data = d)\n"))
        assert status == 2 and "error[E208]: unknown data field 'z'" in err and "'toy' has fields x, y" in err
        assert load_dataset("toy", {"n": 5}).splits["train"]["x"].shape == (5, 2)
    finally:
        del KINDS["toy"]


def test_data_given_on_the_command_line_keeps_the_declarations_options(tmp_path):
    """A MIDI folder passed with --data is read on the grid the model's `data` line declares."""
    from types import SimpleNamespace

    from symdl.ir.nodes import DataSpec
    from symdl.runtime.config import RunConfig
    from symdl.runtime.session import Session
    from tests.test_rnnrbm import _midi_pieces

    _midi_pieces(tmp_path / "midi", 1)
    frames = {}
    for step in (1.0, 0.5):
        session = Session(model=SimpleNamespace(config=RunConfig(data=str(tmp_path / "midi"))))  # only data is read
        frames[step] = len(session.dataset(DataSpec("chorales", "bach-chorales", (("step", step),))).splits["train"]["x"])
    assert frames[0.5] == 2 * frames[1.0] == 20


def test_mcmc_without_data_when_draw_takes_no_inputs(cli, write_model, tmp_path):
    walk = (
        "model walk\nstate pos: f32[2, 3] = 0\nmoved = pos + normal(shape = [2, 3])\n"
        "fn draw() -> moved as position:\n    update pos = moved\nrun mcmc(draw, burn_in = 5, samples = 7)\n"
    )
    out = tmp_path / "run"
    status, _, err = cli("run", write_model(walk), "--out", out, "--backend", "fast", "--quiet")
    assert status == 0, err
    draws = np.load(out / "draws.npz")["draws"]
    assert draws.shape == (7, 2, 3) and np.array_equal(draws[-1], _params(out)["pos"])  # the last draw is where the chain is


def test_sequences_stop_early_on_the_patience_rule(cli, tmp_path):
    from tests.test_rnnrbm import TINY, _midi_pieces

    _midi_pieces(tmp_path / "midi", 6)  # 4 training pieces: an epoch is 4 steps
    out, run = tmp_path / "run", ROOT / "models" / "rnnrbm.sdl"
    args = ("--data", tmp_path / "midi", "--max-epochs", "6", *[a for s in TINY for a in ("--set", s)])
    model = tmp_path / "rnnrbm.sdl"
    model.write_text(run.read_text().replace("samples = n_generated,", "samples = n_generated, patience = 6,"))
    status, _, err = cli("run", model, "--out", out, "--backend", "fast", "--quiet", *args)
    assert status == 0, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["epochs"] == 2 and (out / "best.npz").exists()  # validated at step 3 (patience stays 6): stops at step 6, in epoch 2
    assert "best_valid" in (out / "metrics.csv").read_text().splitlines()[0]
