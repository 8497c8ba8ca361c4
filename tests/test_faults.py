"""Faults a run survives: `kill -9` in the middle of writing a checkpoint leaves the previous one loadable."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from symdl.runtime.checkpoint import PAUSE_ENV, RESUME_KEY, load_arrays

MODELS = Path(__file__).resolve().parents[1] / "models"
ROOT = Path(__file__).resolve().parents[1]


def _env(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT), **extra}


def test_kill_9_while_a_checkpoint_is_written_leaves_the_previous_one(tmp_path):
    out = tmp_path / "run"
    command = [sys.executable, "-m", "symdl", "run", str(MODELS / "linear.sdl"), "--backend", "fast", "--quiet", "--out", str(out)]
    run = subprocess.Popen(command, env=_env(**{PAUSE_ENV: "5"}), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 300  # the first compile is most of it
        while not (out / "params.npz.paused").exists():
            assert run.poll() is None, run.stderr.read().decode()
            assert time.monotonic() < deadline, "the run never reached its fifth checkpoint"
            time.sleep(0.05)
        half_written = [p for p in out.iterdir() if p.name.startswith(".params.npz.")]
        assert half_written and half_written[0].stat().st_size > 0  # the kill lands with a partial file on disk
        run.send_signal(signal.SIGKILL)
        assert run.wait(timeout=30) == -signal.SIGKILL
    finally:
        if run.poll() is None:
            run.kill()
        run.stderr.close()

    arrays = load_arrays(out / "params.npz", with_resume=True)  # the fourth checkpoint, whole
    record = json.loads(str(arrays[RESUME_KEY]))
    assert record["progress"]["epochs"] == 4 and record["position"]["epoch"] == 5  # 4 epochs done, the 5th next
    assert {"w", "b"} <= set(arrays)

    resumed = subprocess.run(
        [sys.executable, "-m", "symdl", "run", "--resume", str(out), "--max-epochs", "6", "--quiet"],
        env=_env(),
        capture_output=True,
        text=True,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert "epoch 5" in resumed.stderr  # it continued from the checkpoint the kill left
    assert json.loads((out / "summary.json").read_text())["epochs"] == 6
