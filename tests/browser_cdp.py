"""Headless Chromium (Debian's ``chromium``) driven over the Chrome DevTools Protocol.

`Chromium` starts the browser with a fresh profile and
``--remote-debugging-port=0``; the port it picked is read from the
``DevToolsActivePort`` file it writes into that profile. `Page` speaks CDP
to one tab over a websocket (``websocket-client``): `Page.call` sends a
command and returns its result, skipping the events in between.
"""

from __future__ import annotations

import base64
import itertools
import json
import time
import os
import shutil
import subprocess
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import websocket

from tests.real_tools import wait_for

FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
)


class CDPError(Exception):
    """Chromium answered a DevTools command with an error."""


class Page:
    """One tab, spoken to over its DevTools websocket."""

    def __init__(self, ws_url: str) -> None:
        # Chromium refuses a DevTools websocket whose Origin it was not told to allow.
        self._ws = websocket.create_connection(ws_url, timeout=30, suppress_origin=True)
        self._ids = itertools.count(1)

    def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send ``method`` and return its result."""
        call_id = next(self._ids)
        self._ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(self._ws.recv())
            if message.get("id") == call_id:
                if "error" in message:
                    raise CDPError(f"{method}: {message['error']}")
                return message.get("result", {})

    def evaluate(self, expression: str) -> Any:
        """The value of a JavaScript expression in the page."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise CDPError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def press(self, key: str) -> None:
        """Type one printable key, as a keyboard would."""
        for kind in ("keyDown", "char", "keyUp"):
            extra = {"text": key} if kind != "keyUp" else {}
            self.call("Input.dispatchKeyEvent", type=kind, key=key, **extra)

    def screenshot(self, path: Path) -> bytes:
        """A PNG of the page, also written to ``path``."""
        png = base64.b64decode(self.call("Page.captureScreenshot", format="png")["data"])
        path.write_bytes(png)
        return png

    def close(self) -> None:
        self._ws.close()


class Chromium:
    """A headless Chromium with a profile of its own, until `close`."""

    def __init__(self, binary: str, width: int = 1400, height: int = 900) -> None:
        # Chromium's helper processes may still write the profile for a moment after
        # the browser exits: its removal retries, then gives up quietly.
        self._profile = tempfile.TemporaryDirectory(prefix="flowconsole-chromium-", ignore_cleanup_errors=True)
        profile = Path(self._profile.name)
        self.process = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0",
             f"--window-size={width},{height}", "about:blank"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        active = profile / "DevToolsActivePort"
        port = wait_for(lambda: active.is_file() and active.read_text().split("\n")[0], 60, "Chromium's DevTools port")
        self.devtools = f"http://127.0.0.1:{port}"

    def page(self) -> Page:
        """The first tab."""
        def first_page() -> str | None:
            with urllib.request.urlopen(f"{self.devtools}/json/list", timeout=5) as response:
                targets = json.load(response)
            pages = [t["webSocketDebuggerUrl"] for t in targets if t["type"] == "page"]
            return pages[0] if pages else None

        return Page(wait_for(first_page, 30, "Chromium's first tab"))

    def close(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        for _ in range(10):
            shutil.rmtree(self._profile.name, ignore_errors=True)
            if not os.path.exists(self._profile.name):
                break
            time.sleep(0.2)
        self._profile.cleanup()
