"""A minimal language-server client speaking JSON-RPC with Content-Length framing to `symdl lsp`.

Used by tests/test_lsp.py (end to end, against the real server process) and tools/lsp_latency.py.
"""

from __future__ import annotations

import json
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path


class LspClient:
    """Starts `python -m symdl lsp` and exchanges messages with it; notifications are queued by method."""

    def __init__(self, cwd: str | Path, env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "symdl", "lsp"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env or dict(os.environ),
        )
        self.next_id = 0
        self.responses: dict[int, queue.Queue] = {}
        self.notifications: queue.Queue = queue.Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def _send(self, message: dict) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.proc.stdin.flush()

    def _read(self) -> None:
        out = self.proc.stdout
        while True:
            length = None
            while True:
                line = out.readline()
                if not line:
                    return
                if line in (b"\r\n", b"\n"):
                    break
                name, _, value = line.decode().partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            message = json.loads(out.read(length))
            if "id" in message and "method" not in message:
                self.responses.setdefault(message["id"], queue.Queue()).put(message)
            elif "id" in message:  # a request from the server (e.g. window/workDoneProgress/create): accept it
                self._send({"id": message["id"], "result": None})
            else:
                self.notifications.put(message)

    def request(self, method: str, params: dict | None, timeout: float = 30) -> object:
        self.next_id += 1
        ident = self.next_id
        box = self.responses.setdefault(ident, queue.Queue())
        self._send({"id": ident, "method": method, "params": params})
        message = box.get(timeout=timeout)
        if "error" in message:
            raise RuntimeError(f"{method}: {message['error']}")
        return message.get("result")

    def notify(self, method: str, params: dict | None) -> None:
        self._send({"method": method, "params": params})

    def wait_for(self, method: str, uri: str | None = None, timeout: float = 30) -> dict:
        """The next notification `method` (for `uri`), skipping others."""
        deadline = time.monotonic() + timeout
        while True:
            message = self.notifications.get(timeout=max(0.01, deadline - time.monotonic()))
            if message["method"] == method and (uri is None or message["params"].get("uri") == uri):
                return message["params"]

    def initialize(self, root: Path) -> dict:
        result = self.request("initialize", {"processId": os.getpid(), "rootUri": root.resolve().as_uri(), "capabilities": {}})
        self.notify("initialized", {})
        return result

    def open(self, path: Path, text: str) -> str:
        uri = path.resolve().as_uri()
        self.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "sdl", "version": 1, "text": text}})
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        self.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": version}, "contentChanges": [{"text": text}]})

    def at(self, method: str, uri: str, line: int, character: int) -> object:
        return self.request(method, {"textDocument": {"uri": uri}, "position": {"line": line, "character": character}})

    def close(self) -> int:
        """shutdown, exit; the server's exit status."""
        self.request("shutdown", None)
        self.notify("exit", None)
        try:
            return self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
