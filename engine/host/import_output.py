"""What a workflow file prints while the engine loads it, kept off the engine's streams.

A file that prints at import (or in a builder) must not write into the
engine's stdout, where ``flowconsole run --json`` writes one event per line.
`capturing` routes ``sys.stdout`` and ``sys.stderr`` writes *of the calling
thread* into a buffer for as long as it is active, and logs what was written
as one record of ``engine.host.loader`` afterwards; other threads (a run printing
its events, the console) keep writing to the real streams. Only Python-level
writes are caught in process: the child-process check (`engine.host.load_check`)
catches writes to the file descriptors too.

The proxies are installed while at least one capture is active and removed
after the last, unless something else replaced the stream meanwhile.
``_lock`` guards ``_active``, ``_saved`` and the installing and removing;
the proxies read ``_active`` without it (one dict lookup per write).
"""

from __future__ import annotations

import io
import logging
import sys
import threading
from contextlib import contextmanager
from typing import Any, Iterator, TextIO

log = logging.getLogger("engine.loader")

OUTPUT_LIMIT = 16_000

_lock = threading.Lock()
_active: dict[int, io.StringIO] = {}
_saved: dict[str, TextIO] = {}


class _Routed(io.TextIOBase):
    """A stream that sends a capturing thread's writes to its buffer, the rest to ``real``."""

    def __init__(self, real: TextIO) -> None:
        super().__init__()
        self.real = real

    def _target(self) -> TextIO:
        buffer = _active.get(threading.get_ident())
        return buffer if buffer is not None else self.real

    def write(self, text: str) -> int:
        return self._target().write(text)

    def flush(self) -> None:
        self._target().flush()

    def writable(self) -> bool:
        return True

    @property
    def buffer(self) -> Any:
        """The binary side: the capture's for a capturing thread, else the real stream's."""
        buffer = _active.get(threading.get_ident())
        return _BinarySink(buffer) if buffer is not None else self.real.buffer

    def fileno(self) -> int:
        return self.real.fileno()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    def isatty(self) -> bool:
        return self.real.isatty()

    @property
    def encoding(self) -> str:
        return getattr(self.real, "encoding", "utf-8")


class _BinarySink:
    """``sys.stdout.buffer`` of a capturing thread: bytes decoded into its capture."""

    def __init__(self, text: io.StringIO) -> None:
        self._text = text

    def write(self, data: bytes) -> int:
        self._text.write(bytes(data).decode(errors="replace"))
        return len(data)

    def flush(self) -> None:
        return None


def _install() -> None:
    for name in ("stdout", "stderr"):
        current = getattr(sys, name)
        if not isinstance(current, _Routed):
            _saved[name] = current
            setattr(sys, name, _Routed(current))


def _remove() -> None:
    for name, real in list(_saved.items()):
        current = getattr(sys, name)
        if isinstance(current, _Routed) and current.real is real:
            setattr(sys, name, real)
        del _saved[name]


@contextmanager
def capturing(file: str) -> Iterator[io.StringIO]:
    """Catch what this thread prints while loading ``file``; log it afterwards."""
    buffer = io.StringIO()
    ident = threading.get_ident()
    with _lock:
        # A nested load on this thread: the outer capture already catches it.
        outer = ident in _active
        if not outer:
            _active[ident] = buffer
            _install()
    if outer:
        yield buffer
        return
    try:
        yield buffer
    finally:
        with _lock:
            del _active[ident]
            if not _active:
                _remove()
        text = buffer.getvalue()
        if text:
            if len(text) > OUTPUT_LIMIT:
                text = f"{text[:OUTPUT_LIMIT]}... ({len(text) - OUTPUT_LIMIT} more characters)"
            log.info("workflow file %s wrote while loading: %s", file, text)
