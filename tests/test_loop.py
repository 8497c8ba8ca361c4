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
    ("a field for a dataset", "run epochs(f, data = d.x)\n", "E303", 22, "got the data field d.x"),
    ("a fraction for an integer", "run epochs(f, data = d, epochs = 2.5)\n", "E303", 34, "must be an integer"),
    ("a function for a number", "run early_stopping(f, f, data = d, patience = f)\n", "E303", 47, "got the function f"),
    ("a misspelt option", "run epochs(f, data = d, shufle = 1)\n", "E205", 25, "did you mean 'shuffle'"),
    ("a keyword given twice", "run epochs(f, train = f, data = d)\n", "E302", 15, "given twice"),
    ("a number for functions", "run layerwise(3, data = d)\n", "E303", 15, "functions in order"),
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
