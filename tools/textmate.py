"""Write the VS Code extension's TextMate grammar from symdl's word lists (run after changing the grammar).

python tools/textmate.py      # writes editors/vscode/syntaxes/symdl.tmLanguage.json
"""

from __future__ import annotations

import json
from pathlib import Path

from symdl.highlight import textmate_grammar

TARGET = Path(__file__).resolve().parents[1] / "editors" / "vscode" / "syntaxes" / "symdl.tmLanguage.json"


def main() -> None:
    TARGET.write_text(json.dumps(textmate_grammar(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {TARGET}")


if __name__ == "__main__":
    main()
