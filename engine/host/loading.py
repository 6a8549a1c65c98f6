"""Loading workflow files into the `Engine`: scan, check, install, publish.

`WorkflowLoading` is the part of `engine.host.engine.Engine` that turns files into
registered workflows. `reload` rescans the whole directory; the watcher calls
``_on_files_changed`` with the paths it saw change, each loaded once writes to
it have paused. A changed file is checked in a child process
(`check_files_in_child`, unless ``check_timeout`` is None), loaded in this
process and installed in the `Registry`; what that changed is published as
``workflow.loaded`` / ``workflow.reloaded`` / ``workflow.unloaded`` and the
file's triggers follow it. A file that fails to load is remembered by digest
(not retried until it changes, or until `reload`) and published as
``workflow.load_failed``; the names of its last good version stay served.
An entry that is not a readable regular file (`engine.host.workflow_entries`) is
reported the same way, on line 0, once per reason; a directory that cannot
be listed unloads nothing.

Locks: loading runs holding the engine's ``_reload_lock`` (one load at a
time, whoever asks); its ``_lock`` guards ``_failed``. Loading code and
publishing run outside ``_lock``.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

from ..events import Event
from .load_check import check_files_in_child
from .loader import LoadProblem, WorkflowLoadError, digest_of, discover, load_source, read_source
from .registry import Definition, FileChange, Registry, WorkflowNameConflict, spec_changes
from ..runtime import Runtime
from .triggers import Triggers
from .watcher import Watcher
from .kinds import teardown, teardown_obj
from .workflow_entries import entry_path

log = logging.getLogger("engine.host")


class WorkflowLoading:
    """Loading, reloading and unloading of workflow files (mixed into `Engine`, which owns the state)."""

    # Provided by Engine.
    workflow_dir: Path | None
    runtime: Runtime
    bus: Any
    registry: Registry
    triggers: Triggers
    check_timeout: float | None
    settle: float
    _lock: threading.Lock
    _reload_lock: threading.RLock
    _failed: dict[str, str]
    _watcher: Watcher | None
    _stopped: threading.Event

    def reload(self) -> None:
        """Rescan the directory now: load what changed, unload what is gone.

        Files whose last load failed are tried again even if unchanged (a
        load can fail for reasons outside the file, such as a slow machine).
        """
        if self.workflow_dir is None:
            return
        with self._reload_lock:
            try:
                present = set(map(str, discover(self.workflow_dir))) if self.workflow_dir.exists() else set()
            except WorkflowLoadError as exc:
                # An unreadable directory unloads nothing: what was good stays served.
                self._load_failed(exc.problem.file, exc.problem.message.encode(), exc.problem)
                return
            with self._lock:
                known = set(self.registry.files()) | set(self._failed)
            self._load_files(sorted(present), retry_failed=True)
            for file in sorted(known - present):
                self._remove_file(file)

    def _on_files_changed(self, paths: set[Path]) -> None:
        with self._reload_lock:
            if self._stopped.is_set():
                return
            present, gone = [], []
            for path in sorted(paths):
                (present if self._settled(path) else gone).append(str(entry_path(path)))
            self._load_files(present)
            for file in gone:
                self._remove_file(file)

    def _settled(self, path: Path) -> bool:
        """Whether ``path`` exists once writes to it have paused for ``settle`` seconds."""
        stopping = self._watcher.stopping if self._watcher is not None else self._stopped
        previous = None
        while True:
            current = _signature(path)
            if current == previous:
                return current is not None
            previous = current
            if stopping.wait(self.settle):
                return current is not None

    def _load_files(self, files: list[str], *, retry_failed: bool = False) -> None:
        sources: dict[str, bytes] = {}
        for file in files:
            try:
                source = read_source(file)
            except FileNotFoundError:
                self._remove_file(file)
                continue
            except WorkflowLoadError as exc:
                # Not a readable regular file: reported once per reason, as a
                # broken file is once per content.
                reason = exc.problem.message.encode()
                with self._lock:
                    known = self._failed.get(file)
                if retry_failed or known != digest_of(reason):
                    self._load_failed(file, reason, exc.problem)
                continue
            digest = digest_of(source)
            with self._lock:
                failed_digest = None if retry_failed else self._failed.get(file)
            if digest in (self.registry.digest(file), failed_digest):
                continue
            sources[file] = source
        if not sources:
            return
        problems: dict[str, list[LoadProblem]] = {}
        if self.check_timeout is not None:
            checked = check_files_in_child(sources, self.check_timeout)
            problems = {file: found for file, (found, _) in checked.items()}
        for file, source in sources.items():
            if problems.get(file):
                self._load_failed(file, source, problems[file][0])
            else:
                self._load_in_process(file, source)

    def _load_in_process(self, file: str, source: bytes) -> None:
        try:
            built = load_source(file, source, self.runtime)
        except WorkflowLoadError as exc:
            self._load_failed(file, source, exc.problem)
            return
        try:
            change = self.registry.install(file, digest_of(source), built)
        except WorkflowNameConflict as exc:
            for b in built:
                teardown(b)
            line = next((b.line for b in built if b.name == exc.name), 1)
            self._load_failed(file, source, LoadProblem(file, line, str(exc), workflow=exc.name, field="name"))
            return
        with self._lock:
            self._failed.pop(file, None)
        self._publish_change(change)

    def _remove_file(self, file: str) -> None:
        with self._lock:
            self._failed.pop(file, None)
        self._publish_change(self.registry.remove_file(file))

    def _load_failed(self, file: str, source: bytes, problem: LoadProblem) -> None:
        with self._lock:
            self._failed[file] = digest_of(source)
        active = [d.name for d in self.registry.definitions() if d.file == file]
        log.warning("workflow file failed to load: %s", problem.format())
        self.bus.publish(Event(
            "workflow.load_failed",
            {**problem.to_dict(), "last_good_active": bool(active), "active": active},
            workflow=problem.workflow,
        ))

    def _publish_change(self, change: FileChange) -> None:
        for new in change.loaded:
            self.triggers.set(new.name, new.meta)
            self.bus.publish(Event("workflow.loaded", new.event_data(), workflow=new.name))
        for old, new in change.reloaded:
            teardown_obj(old.kind, old.obj)
            self.triggers.set(new.name, new.meta)
            data = {**new.event_data(), "previous_generation": old.generation, "changes": spec_changes(old, new)}
            self.bus.publish(Event("workflow.reloaded", data, workflow=new.name))
        for old in change.retiring:
            self.triggers.clear(old.name)
            teardown_obj(old.kind, old.obj)
        for old in change.unloaded:
            self._unloaded(old)

    def _unloaded(self, old: Definition) -> None:
        self.triggers.clear(old.name)
        teardown_obj(old.kind, old.obj)
        self.bus.publish(Event(
            "workflow.unloaded",
            {"name": old.name, "kind": old.kind, "file": old.file, "generation": old.generation},
            workflow=old.name,
        ))


def _signature(path: Path) -> tuple[int, int, int] | None:
    """What `_settled` compares: the entry's type, size and mtime; None when it is gone.

    A link that leads nowhere (or to itself) is still an entry: its own
    ``lstat`` stands in, so it is loaded (and reported), not unloaded.
    """
    for follow in (True, False):
        try:
            st = os.stat(path, follow_symlinks=follow)
        except OSError:
            continue
        return st.st_mode, st.st_size, st.st_mtime_ns
    return None
