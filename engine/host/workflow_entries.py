"""Reading the entries of a workflow directory without trusting them.

A directory entry named like a workflow file may be anything: a FIFO (whose
``read`` blocks until someone writes), a directory, a device, a symbolic link
to nothing or to itself, a file nobody may read. `read_entry` loads only
regular files and never blocks: the file is opened non-blocking and checked
with ``fstat`` on the open descriptor (so what is read is what was checked).
Anything else is an `UnreadableEntryError` that names the entry and says
why, never an ``OSError``; the loader reports it as a problem on line 0 (there
is no line to point at).
`entry_path` is the absolute path of an entry, resolved through symbolic
links when they lead somewhere.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import FlowError

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
)
_CHUNK = 1 << 16


def entry_path(path: Path | str) -> Path:
    """The absolute path of ``path``, resolved when its symbolic links lead to something."""
    try:
        return Path(path).resolve(strict=True)
    except (OSError, RuntimeError):  # a dangling link, a loop, a directory we may not search
        return Path(os.path.abspath(path))


class UnreadableEntryError(FlowError):
    """An entry of a workflow directory is not a regular file that can be read."""

    def __init__(self, file: str, reason: str) -> None:
        super().__init__(f"{file}: {reason}")
        self.file = file
        self.reason = reason


def unreadable(file: str, reason: str) -> UnreadableEntryError:
    """The error for an entry that cannot be loaded as a workflow file."""
    return UnreadableEntryError(file, reason)


def os_reason(exc: OSError) -> str:
    """Why an ``OSError`` happened, in words (no traceback, no errno number)."""
    if exc.errno == errno.ELOOP:
        return "a loop of symbolic links"
    if exc.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return exc.strerror or type(exc).__name__


def read_entry(file: str) -> bytes:
    """The bytes of the regular file ``file``.

    Raises `FileNotFoundError` when there is no entry at all (it was
    deleted), `UnreadableEntryError` when the entry exists but is not a
    readable regular file.
    """
    try:
        fd = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        if not os.path.lexists(file):
            raise
        raise unreadable(file, "cannot read the file: a symbolic link to nothing") from None
    except OSError as exc:
        raise unreadable(file, f"cannot read the file: {os_reason(exc)}") from None
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
            raise unreadable(file, f"not loaded: {kind}, and only regular files are workflow files")
        chunks = []
        while chunk := os.read(fd, _CHUNK):
            chunks.append(chunk)
        return b"".join(chunks)
    except OSError as exc:
        raise unreadable(file, f"cannot read the file: {os_reason(exc)}") from None
    finally:
        os.close(fd)
