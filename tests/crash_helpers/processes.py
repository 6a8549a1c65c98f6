"""Running the crash helpers: start one, wait for it, kill it, read what it left.

Shared by the crash tests and `benchmarks/soak_crash.py`.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


class HelperStartError(RuntimeError):
    """A crash helper exited or misbehaved before saying READY."""


def start(*args: str) -> subprocess.Popen:
    """``python -m ARGS`` from the repository root, once it printed READY."""
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    if proc.stdout.readline().strip() != "READY":
        raise HelperStartError(f"{' '.join(args)} did not start: {proc.stderr.read()}")
    return proc


def finish(proc: subprocess.Popen, timeout: float) -> tuple[str, str]:
    """Wait for ``proc``; its output. (Not communicate(): that reads the raw
    pipes and would miss lines already buffered by the READY readline.)"""
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise
    return proc.stdout.read(), proc.stderr.read()


def kill(proc: subprocess.Popen) -> bool:
    """SIGKILL ``proc``; True if it was still running (a real crash)."""
    proc.kill()
    proc.wait(30)
    proc.stdout.close()
    proc.stderr.close()
    return proc.returncode == -9


def read_only_db(state: Path) -> sqlite3.Connection:
    """The state directory's database, opened read-only."""
    return sqlite3.connect(f"file:{state / 'flowconsole.db'}?mode=ro", uri=True)


def read_lines(path: Path) -> list[str]:
    """The lines of ``path``, or none if it does not exist yet."""
    return path.read_text().splitlines() if path.exists() else []
