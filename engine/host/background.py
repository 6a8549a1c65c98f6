"""A service that runs on one daemon thread of its own until stopped.

The watcher and the interval scheduler share this life cycle. `start` and
`stop` are called by their owner (the `Engine`), one at a time; the thread
reads only ``_stop``, a `threading.Event`, so no lock is needed.
"""

from __future__ import annotations

import threading


class BackgroundService:
    """Start and stop `_run` on a named daemon thread; `_run` watches ``_stop``."""

    thread_name = "flowconsole-background"

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Run on a thread of its own until `stop` (a second call does nothing)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=self.thread_name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait up to ``timeout`` seconds for it to end."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _run(self) -> None:
        raise NotImplementedError(f"{type(self).__name__} must define _run")
