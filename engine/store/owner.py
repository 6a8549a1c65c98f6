"""Who owns a state directory: the exclusive lock an engine holds for its life.

One engine at a time owns a state directory ``D``: it holds an exclusive
``flock`` on ``D/owner.lock`` from `OwnerLock.acquire` to `OwnerLock.release`,
and says who it is in ``D/owner.json`` (pid, host, start time, version,
workflow directory), written atomically once the lock is held. Only the owner
runs work, recovers, compacts, resets interrupted dead-letter retries and
carries out commands; any other process reads the store and writes commands.

The kernel releases a ``flock`` when its holder dies, kill -9 included, so
liveness needs no heartbeat: `read_owner` probes the lock with a shared,
non-blocking ``flock`` and reports the owner only while the lock is held.
A probe holds its shared lock for microseconds; `OwnerLock.acquire` retries
for ``wait`` seconds so that a probe running at that moment does not turn an
engine away.

The lock's descriptor is close-on-exec, so a child process started with
``exec`` (the workflow check, a Dask worker) never inherits the lock.
"""

from __future__ import annotations

import errno
import fcntl
import importlib.metadata
import json
import os
import socket
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from .errors import StoreError, StoreReadOnlyError, StoreUnavailableError

LOCK_NAME = "owner.lock"
INFO_NAME = "owner.json"


@dataclass(frozen=True, slots=True)
class OwnerInfo:
    """The engine that owns a state directory, as it described itself."""

    pid: int
    host: str
    started_at: float
    version: str
    workflow_dir: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def label(self) -> str:
        """``pid@host``, as the console's header and the CLI name the owner."""
        return f"{self.pid}@{self.host}"


class StateDirBusyError(StoreError):
    """Another live engine owns the state directory; ``owner`` says which."""

    def __init__(self, state_dir: Path, owner: OwnerInfo | None) -> None:
        who = f"engine pid {owner.pid} on {owner.host}" if owner is not None else "another engine"
        super().__init__(f"{state_dir}: already owned by {who}", state_dir)
        self.state_dir = state_dir
        self.owner = owner


class OwnerLock:
    """The exclusive lock on one state directory, held by the engine that owns it.

    Not thread-safe by itself: the engine acquires it in ``start`` and
    releases it in ``stop``, both serialised by the engine.
    """

    def __init__(self, state_dir: Path, fd: int, info: OwnerInfo) -> None:
        self.state_dir = state_dir
        self.info = info
        self._fd: int | None = fd

    @classmethod
    def acquire(
        cls,
        state_dir: str | Path,
        *,
        workflow_dir: str | Path | None = None,
        version: str = "",
        wait: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> OwnerLock:
        """Own ``state_dir`` or raise `StateDirBusyError` naming its live owner."""
        state_dir = Path(state_dir)
        _make_private_dir(state_dir)
        fd = _open_lock(state_dir)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise StateDirBusyError(state_dir, _read_info(state_dir)) from None
                sleep(0.02)
        info = OwnerInfo(
            pid=os.getpid(),
            host=socket.gethostname(),
            started_at=time.time(),
            version=version,
            workflow_dir=str(Path(workflow_dir).resolve()) if workflow_dir is not None else None,
        )
        try:
            _write_info(state_dir, info)
        except OSError as exc:
            os.close(fd)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StoreUnavailableError(
                    f"{state_dir}: no space left for the store: cannot record its owner ({exc.strerror})", state_dir, exc
                ) from exc
            raise StoreError(f"{state_dir / INFO_NAME}: cannot record the owner ({exc.strerror})", state_dir) from exc
        return cls(state_dir, fd, info)

    @property
    def held(self) -> bool:
        return self._fd is not None

    def release(self) -> None:
        """Give the state directory up (idempotent); ``owner.json`` stays as history."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)

    def __enter__(self) -> OwnerLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def flowconsole_version() -> str:
    """The installed distribution's version, as an owner records it."""
    try:
        return importlib.metadata.version("flowconsole")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def read_owner(state_dir: str | Path) -> OwnerInfo | None:
    """The live owner of ``state_dir``, or None when no engine holds its lock."""
    state_dir = Path(state_dir)
    try:
        fd = os.open(state_dir / LOCK_NAME, os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            return _read_info(state_dir) or OwnerInfo(0, "unknown", 0.0, "", None)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None
    finally:
        os.close(fd)


def _make_private_dir(state_dir: Path) -> None:
    """Create ``state_dir`` as 0700: whoever can write it can command the engine."""
    try:
        state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise StoreError(f"{state_dir}: exists and is not a directory", state_dir) from exc
    except OSError as exc:
        raise StoreError(f"{state_dir}: cannot create the state directory ({exc.strerror})", state_dir) from exc
    if not state_dir.is_dir():
        raise StoreError(f"{state_dir}: exists and is not a directory", state_dir)


def _open_lock(state_dir: Path) -> int:
    try:
        return os.open(state_dir / LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
            raise StoreReadOnlyError(
                f"{state_dir}: the state directory is read-only: cannot take its owner lock ({exc.strerror})", state_dir
            ) from exc
        raise StoreError(f"{state_dir / LOCK_NAME}: cannot open the owner lock ({exc.strerror})", state_dir) from exc


def _write_info(state_dir: Path, info: OwnerInfo) -> None:
    tmp = state_dir / f".{INFO_NAME}.{info.pid}"
    try:
        tmp.write_text(json.dumps(info.to_dict()), encoding="utf-8")
        os.replace(tmp, state_dir / INFO_NAME)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise


def _read_info(state_dir: Path) -> OwnerInfo | None:
    try:
        raw = json.loads((state_dir / INFO_NAME).read_text(encoding="utf-8"))
        return OwnerInfo(
            pid=int(raw["pid"]),
            host=str(raw["host"]),
            started_at=float(raw["started_at"]),
            version=str(raw.get("version", "")),
            workflow_dir=raw.get("workflow_dir"),
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
