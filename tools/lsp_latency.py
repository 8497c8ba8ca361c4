"""Latency of `symdl lsp` as an editor sees it: didChange -> publishDiagnostics, and hover.

    python tools/lsp_latency.py [models/rnnrbm.sdl] [--rounds 20]

The diagnostics figure includes the server's debounce (symdl.lsp.server.DEBOUNCE_S), which an
editor waits for too; the check alone is printed beside it.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from lsp_client import LspClient  # noqa: E402

from symdl.lsp.analysis import analyse  # noqa: E402
from symdl.lsp.server import DEBOUNCE_S  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=str(ROOT / "models" / "rnnrbm.sdl"))
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    path = Path(args.model).resolve()
    text = path.read_text()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    client = LspClient(path.parent, env)
    client.initialize(path.parent)
    uri = client.open(path, text)
    client.wait_for("textDocument/publishDiagnostics", uri)
    diagnostics, hovers, checks = [], [], []
    line, char = _product(text)
    for k in range(args.rounds):
        edited = text + "\n" * (k % 2)  # a real change each time
        started = time.perf_counter()
        client.change(uri, k + 2, edited)
        client.wait_for("textDocument/publishDiagnostics", uri)
        diagnostics.append(time.perf_counter() - started)
        started = time.perf_counter()
        shown = client.at("textDocument/hover", uri, line, char)
        hovers.append(time.perf_counter() - started)
        started = time.perf_counter()
        analyse(edited, str(path))
        checks.append(time.perf_counter() - started)
    published = _burst(client, uri, text, args.rounds + 2)
    client.close()
    print(f"{path.name}: {len(text.splitlines())} lines, {args.rounds} rounds (median, max)")
    print(f"  didChange -> publishDiagnostics  {_ms(diagnostics)}  (debounce {DEBOUNCE_S * 1000:.0f} ms included)")
    print(f"  the check alone (in-process)     {_ms(checks)}")
    what = shown["contents"]["value"].splitlines()[1] if shown else "nothing"
    print(f"  10 changes 20 ms apart -> {published} publishDiagnostics (the debounce merges a burst of typing)")
    print(f"  hover on a matrix product        {_ms(hovers)}  (line {line + 1}: {what})")


def _burst(client: LspClient, uri: str, text: str, version: int) -> int:
    """How many diagnostics a burst of 10 quick changes brings."""
    for k in range(10):
        client.change(uri, version + k, text + " " * (k % 2))
        time.sleep(0.02)
    published = 0
    while True:
        params = client.wait_for("textDocument/publishDiagnostics", uri, timeout=5)
        published += 1
        if params["version"] == version + 9:
            return published


def _product(text: str) -> tuple[int, int]:
    for k, line in enumerate(text.split("\n")):
        if " @ " in line and not line.lstrip().startswith("#"):
            return k, line.index(" @ ") + 1
    return 0, 0


def _ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:7.1f} ms  {max(samples) * 1000:7.1f} ms"


if __name__ == "__main__":
    main()
