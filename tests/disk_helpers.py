"""Real storage faults for tests: a tiny tmpfs, a read-only bind mount, a full disk.

Both mounts need root (CI runs as root); where mounting is not allowed the
test is skipped with the reason. Unmounting is lazy, so a file a failed test
left open never leaves a mount behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterator

import pytest


def _can_mount() -> None:
    if shutil.which("mount") is None or os.geteuid() != 0:
        pytest.skip("mounting needs root and mount(8): cannot make this storage fault here")


@contextlib.contextmanager
def tmpfs(path: Path, size: str = "4m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted on ``path`` (made if missing) for the block."""
    _can_mount()
    path.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mount -t tmpfs is not permitted here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (a file or a directory) bind-mounted read-only onto itself for the block.

    Root writes through file modes (chmod 444 stops only other users), so
    the kernel has to refuse the write: a read-only mount does.
    """
    _can_mount()
    done = subprocess.run(
        f"mount --bind '{path}' '{path}' && mount -o remount,ro,bind '{path}' '{path}'",
        shell=True, capture_output=True, text=True,
    )
    if done.returncode != 0:
        subprocess.run(["umount", "-l", str(path)], check=False, capture_output=True)
        pytest.skip(f"a read-only bind mount is not permitted here: {done.stderr.strip()}")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)], check=False)


def fill(path: Path) -> None:
    """Write zeros to the file ``path`` until its filesystem is full."""
    with path.open("wb", buffering=0) as handle:
        with contextlib.suppress(OSError):
            while True:
                handle.write(b"\0" * 4096)
