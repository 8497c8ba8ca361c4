"""`symdl sweep` on a real local Ray (two workers): grids over logreg on a training subset, failures, resume, bad spaces."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from itertools import product

import pytest

from tests.conftest import MODELS, ROOT

pytest.importorskip("ray.tune", reason="symdl sweep needs the `sweep` extra (tools/setup.sh installs it)")

LOGREG = MODELS / "logreg.sdl"
FAST = ("--backend", "fast", "--train-limit", "600", "--max-epochs", "2", "--workers", "2")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray of two workers for the module (started as `symdl sweep` starts it); its address."""
    import ray

    from symdl.sweep.tuner import start_ray

    start_ray(2, None)
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def _csv(path) -> list[dict]:
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_bad_search_space_is_located_before_ray_starts(cli, tmp_path, monkeypatch):
    import ray

    def no_ray(*args, **kwargs):
        raise AssertionError("Ray started for a sweep whose space is wrong")

    monkeypatch.setattr(ray, "init", no_ray)
    status, _, err = cli("sweep", LOGREG, "--grid", "lr=0.1,fast", "--out", tmp_path / "a")
    assert status == 2 and "--grid:1:8: error[E501]" in err and "lr=0.1,fast\n" in err and "^^^^" in err
    status, _, err = cli("sweep", MODELS / "mlp.sdl", "--sample", "n_hiden=randint(100,500)", "--out", tmp_path / "b")
    assert status == 2 and "error[E204]" in err and "did you mean 'n_hidden'?" in err
    status, _, err = cli("sweep", LOGREG, "--sample", "lr=loguniform(0.1,0.01)", "--out", tmp_path / "c")
    assert status == 2 and "--sample:1:4: error[E723]" in err
    space = tmp_path / "space.txt"
    space.write_text("# logreg\nlr ~ loguniform(1e-3, 0.5)\nbatch = 50, 10O\n")
    status, _, err = cli("sweep", LOGREG, "--space", space, "--out", tmp_path / "d")
    assert status == 2 and f"{space}:3:13: error[E501]" in err and "batch" in err
    assert not any((tmp_path / d).exists() for d in "abcd")  # nothing written either


def test_a_grid_of_four_writes_four_run_directories_and_sweep_csv(cli, tmp_path, local_ray):
    out = tmp_path / "sweep"
    status, stdout, err = cli("sweep", LOGREG, "--grid", "lr=0.05,0.13", "--grid", "batch=50,100", *FAST, "--out", out)
    assert status == 0, err
    rows = _csv(out / "sweep.csv")
    assert [r["status"] for r in rows] == ["finished"] * 4
    assert {(r["lr"], r["batch"]) for r in rows} == set(product(("0.05", "0.13"), ("50", "100")))
    for r in rows:  # each trial an ordinary run directory, with the hypers it was given
        config = json.loads((out / r["trial"] / "config.json").read_text())
        assert (config["hypers"]["lr"], config["hypers"]["batch"]) == (float(r["lr"]), int(r["batch"]))
        assert (out / r["trial"] / "metrics.csv").is_file() and (out / r["trial"] / "curves.png").is_file()
        assert r["epochs"] == "2" and float(r["best_valid_errors"]) < 0.6  # chance is 0.9: every trial learned
    assert (out / "sweep-curves.png").is_file() and (out / "sweep-hypers.png").is_file()
    best = min(rows, key=lambda r: float(r["best_valid_errors"]))
    command = next(line for line in stdout.splitlines() if line.strip().startswith("symdl run"))
    assert f"best: {best['trial']}" in stdout and f"--set lr={best['lr']} --set batch={best['batch']}" in command
    status, again, _ = cli(*command.split()[1:], "--out", tmp_path / "again")  # the printed command reproduces the trial
    assert status == 0 and json.loads((tmp_path / "again" / "summary.json").read_text())["best_valid_error"] == pytest.approx(
        float(best["best_valid_errors"]), rel=1e-5
    )


def test_a_failing_trial_and_a_diverging_one_do_not_stop_the_sweep(cli, tmp_path, local_ray):
    out = tmp_path / "sweep"
    # batch 100000 is more than the 600 examples (the run fails); lr 1e38 overflows float32 (NaN)
    status, stdout, err = cli("sweep", LOGREG, "--grid", "lr=0.1,1e38", "--grid", "batch=100,100000", *FAST, "--out", out)
    assert status == 0, err
    rows = {(r["lr"], r["batch"]): r for r in _csv(out / "sweep.csv")}
    assert rows["0.1", "100"]["status"] == "finished" and rows["1e38", "100"]["status"] == "nan"
    for lr in ("0.1", "1e38"):
        assert rows[lr, "100000"]["status"] == "error" and "fewer than one batch" in rows[lr, "100000"]["note"]
    assert f"best: {rows['0.1', '100']['trial']}" in stdout


def test_an_interrupted_sweep_resumes_without_rerunning_finished_trials(cli, tmp_path, local_ray):
    out = tmp_path / "sweep"
    command = [sys.executable, "-m", "symdl", "sweep", str(LOGREG), "--grid", "lr=0.02,0.05,0.1,0.13", *FAST, "--out", str(out)]
    command[command.index("--workers") + 1] = "1"  # one trial at a time: the first finishes, the others wait
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    driver = subprocess.Popen([*command, "--address", local_ray], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while not (out / "trial-00000" / "summary.json").exists() and driver.poll() is None and time.monotonic() < deadline:
        time.sleep(0.2)
    driver.send_signal(signal.SIGINT)
    _, err = driver.communicate(timeout=120)
    assert driver.returncode == 130 and "symdl sweep --resume" in err, err
    finished = {p.parent.name: p.read_text() for p in out.glob("trial-*/metrics.csv") if (p.parent / "summary.json").exists()}
    assert "trial-00000" in finished and len(finished) < 4
    status, _, err = cli("sweep", "--resume", out)
    assert status == 0, err
    rows = _csv(out / "sweep.csv")
    assert sorted(r["lr"] for r in rows) == ["0.02", "0.05", "0.1", "0.13"] and {r["status"] for r in rows} == {"finished"}
    for name, metrics in finished.items():  # a finished trial was not run again
        assert (out / name / "metrics.csv").read_text() == metrics
        assert (out / name / "log.txt").read_text().count("model logreg,") == 1  # the headline each `symdl run` prints


def test_a_failed_trial_is_noted_by_its_error_not_by_a_path_that_says_error(tmp_path):
    from symdl.sweep.trial import LOG_FILE, error_line

    folder = tmp_path / "errors"
    folder.mkdir()
    failure = f"{folder}/m.sdl:3:1: error[E741]: the train split has 2 examples, fewer than one batch of 4"
    (folder / LOG_FILE).write_text(f"{folder}/m.sdl: model m, 1 stage(s)\n{failure}\n  hint: ...\n")
    assert error_line(folder) == failure
