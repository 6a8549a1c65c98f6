"""Hot reload: watch a directory of workflow files and report settled changes.

`Watcher` runs one thread that reads batches of changes from a *change
source* and hands the changed workflow files to ``on_change``. The default
source is `watchfiles.watch`, whose ``step``/``debounce`` group a burst of
writes (an editor's save, a script writing twenty times) into one batch; a
test injects its own source (any callable returning an iterable of path
sets) to drive the watcher deterministically.

What counts as a change is decided later, by content: the engine compares
each file's hash with the version it has, so a batch that changes nothing is
cheap and a file written twenty times is loaded a handful of times, not
twenty.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import Callable, Iterable

import watchfiles

from .background import BackgroundService
from .loader import is_workflow_file
from .workflow_entries import entry_path

log = logging.getLogger("engine.watcher")

ChangeSource = Callable[[threading.Event], Iterable[set[Path]]]


class Watcher(BackgroundService):
    """Calls ``on_change(paths)`` for every settled batch of changes.

    ``root`` is a directory, or a single workflow file (its directory is
    watched, filtered to that file). ``debounce_ms``, ``step_ms`` and
    ``force_polling`` go to watchfiles. ``on_change`` runs on the watcher
    thread. Nothing one entry or one batch does ends the thread: an
    exception in ``on_change`` (or in sorting out a batch) is logged and the
    watcher goes on; a change source that fails is logged and started again
    after ``restart_delay`` seconds.
    """

    thread_name = "flowconsole-watcher"

    def __init__(
        self,
        root: Path,
        on_change: Callable[[set[Path]], None],
        *,
        debounce_ms: int = 1600,
        step_ms: int = 100,
        force_polling: bool | None = None,
        source: ChangeSource | None = None,
        restart_delay: float = 1.0,
    ) -> None:
        root = Path(root).resolve()
        self.root = root
        self._only = root if root.is_file() else None
        self._dir = root.parent if self._only else root
        self._on_change = on_change
        self._debounce_ms = debounce_ms
        self._step_ms = step_ms
        self._force_polling = force_polling
        self._source = source if source is not None else self._watchfiles
        self._restart_delay = restart_delay
        super().__init__()
        self.batches = 0

    def _wanted(self, path: Path) -> bool:
        if self._only is not None:
            return path == self._only
        return path.parent == self._dir and is_workflow_file(path)

    def _watchfiles(self, stop: threading.Event) -> Iterable[set[Path]]:
        for changes in watchfiles.watch(
            self._dir,
            watch_filter=lambda _change, path: self._wanted(Path(path)),
            debounce=self._debounce_ms,
            step=self._step_ms,
            stop_event=stop,
            rust_timeout=500,
            yield_on_timeout=False,
            raise_interrupt=False,
            force_polling=self._force_polling,
            poll_delay_ms=100,
            recursive=False,
        ):
            yield {Path(path) for _, path in changes}

    @property
    def stopping(self) -> threading.Event:
        """Set when the watcher is asked to stop (waits can use it)."""
        return self._stop

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for paths in self._source(self._stop):
                    if self._stop.is_set():
                        return
                    self._batch(paths)
                return
            except Exception:  # noqa: BLE001 - hot reload must outlive its change source
                log.exception("watching %s failed; watching again in %gs", self._dir, self._restart_delay)
                self._stop.wait(self._restart_delay)

    def _batch(self, paths: set[Path]) -> None:
        try:
            wanted = {p for p in paths if self._wanted(entry_path(p))}
            if not wanted:
                return
            self.batches += 1
            self._on_change(wanted)
        except Exception:  # noqa: BLE001 - a bad reload must not end hot reload
            log.exception("reloading %s failed", sorted(map(str, paths)))
