"""docs/notebook.ipynb runs top to bottom in a real kernel (nbclient), and what it shows is what it says."""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import symdl
from symdl.diagnostics.errors import UserError
from symdl.runtime.results import read_run

ROOT = Path(__file__).resolve().parents[1]


def _outputs(cell) -> tuple[dict, str]:
    """A cell's rich outputs (mime type -> data) and its printed text."""
    data: dict = {}
    text = ""
    for out in cell.outputs:
        data.update(out.get("data", {}))
        if out.output_type == "stream" and out.name == "stdout":
            text += out.text
    return data, text


def test_the_notebook_runs_and_draws(monkeypatch):
    monkeypatch.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    )  # the kernel's symdl is this tree's
    notebook = nbformat.read(ROOT / "docs" / "notebook.ipynb", as_version=4)
    NotebookClient(notebook, timeout=180, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "docs")}}).execute()
    code = [c for c in notebook.cells if c.cell_type == "code"]

    model, _ = _outputs(code[0])
    assert "<svg" in model["text/html"] and "<td><code>W</code></td><td>param</td><td>f32</td><td>784 x 10</td>" in model["text/html"]
    function, printed = _outputs(code[1])
    assert "fn train(x, y) -&gt; nll" in function["text/html"] and "<svg" in function["text/html"]
    assert "{'W': (784, 10), 'b': (10,)}" in printed

    _, printed = _outputs(code[2])
    before, after = map(float, re.search(r"validation error ([\d.]+) -> ([\d.]+)", printed).groups())
    assert after < before - 0.2  # 20 steps of SGD learn: from chance (0.9) to well below it

    assert "image/png" in _outputs(code[3])[0]  # the hand-drawn cost curve
    assert _outputs(code[4])[0]["image/png"]  # the run's curves
    summary = ast.literal_eval(_outputs(code[5])[1].splitlines()[0])  # the dict the notebook printed
    assert summary["epochs"] == 3 and summary["test_error"] < 0.6


def test_a_directory_without_a_run_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not a run directory"):
        read_run(tmp_path)


def test_a_failed_run_raises(tmp_path):
    with pytest.raises(RuntimeError, match="exit status 2(.|\n)*unknown hyperparameter .no_such_hyper."):
        symdl.train(ROOT / "models" / "logreg.sdl", out=tmp_path / "run", backend="fast", no_such_hyper=1)
