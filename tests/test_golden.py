"""Golden files: each model's IR before and after the passes, compared as text.

Regenerate with `SYMDL_UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py` and review the diff.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from symdl.ir.printer import format_program
from symdl.ir.verify import verify
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
    path = GOLDEN / f"{model}.{stage}"
    if os.environ.get("SYMDL_UPDATE_GOLDEN") or not path.exists():
        path.write_text(text)
    assert text == path.read_text()
