"""Helpers for tests that drive a real external tool (Prometheus, promtool, Chromium).

A missing tool skips its tests on a developer's machine, with the package to
install in the reason; under CI (``CI`` set) it fails them, since `.ci/run`
installs every such package.
"""

from __future__ import annotations

import os
import shutil
import socket
import time
from typing import Callable, TypeVar

import pytest

T = TypeVar("T")


def require_tool(name: str, package: str) -> str:
    """The path of executable ``name``; skip (fail under CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{name} is not installed; .ci/run must install the Debian package {package!r}")
        pytest.skip(f"{name} is not installed (apt-get install {package}); CI runs this test")
    return path


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listened on a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(probe: Callable[[], T | None], timeout: float, what: str, interval: float = 0.1) -> T:
    """Poll ``probe`` until it returns something other than None or False.

    A real process answers in its own time: this is the one place these tests
    wait on the wall clock, and ``timeout`` only bounds a failure.
    """
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            found = probe()
        except Exception as exc:  # noqa: BLE001 - not ready yet; kept for the failure message
            last_error = exc
        else:
            if found is not None and found is not False:
                return found
        time.sleep(interval)
    pytest.fail(f"timed out after {timeout:g}s waiting for {what} (last error: {last_error!r})")
