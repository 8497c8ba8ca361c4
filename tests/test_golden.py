"""Golden files: each model's IR before and after the passes, compared as text.

Regenerate with `SYMDL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import check_golden

from symdl.ir.printer import format_program
from symdl.ir.verify import verify
from symdl.passes import run_passes
from symdl.pipeline import front_end

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = Path(__file__).parent / "golden"
MODELS = sorted(p.stem for p in (ROOT / "models").glob("*.sdl"))


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("stage", ["ir", "ir-opt"])
def test_ir_matches_golden(model, stage):
    compiled = front_end(ROOT / "models" / f"{model}.sdl")
    program = compiled.ir if stage == "ir" else compiled.optimized
    verify(program)
    text = format_program(program)
    check_golden(GOLDEN / f"{model}.{stage}", text)


@pytest.mark.parametrize("model", MODELS)
def test_verifier_holds_after_every_rule_sweep_and_pass(model):
    checked = []
    run_passes(front_end(ROOT / "models" / f"{model}.sdl").ir, after_each=lambda p: (verify(p), checked.append(p)))
    assert len(checked) >= 5  # canonicalize, stabilize and simplify sweeps, cse, dead code
