"""The `Engine`: workflow files in, runs and events out.

One object an application (the console, the CLI, a test) holds: it loads a
directory of workflow files (`engine.host.loader`), keeps their versions
(`engine.host.registry`), reloads them when they change (`engine.host.watcher`), starts
runs by hand, on schedules (`engine.host.schedule`) and on bus events, and routes
state-machine events to instances. Everything it does is published on
``engine.bus.event_bus``:

* ``workflow.loaded`` / ``workflow.reloaded`` (with ``changes``) /
  ``workflow.unloaded``: data is the workflow spec (`Definition.event_data`).
* ``workflow.load_failed``: ``file``, ``line``, ``message``, ``traceback``,
  ``workflow``, ``field``, ``last_good_active`` and ``active`` (the names
  still served from the file's last good version).
* ``workflow.schedule_fired``: ``name``, ``interval``, ``run_id`` (None and
  ``skipped`` when the previous scheduled run is still going).
* ``workflow.event_fired``: ``name``, ``pattern``, ``event`` (its type),
  ``event_id``, ``run_id``: a bus event started a run of ``name``.
* ``workflow.schedule_failed``: ``name``, ``error``, ``scheduled``.

Loading files (`reload`, the watcher's callback, the events above except
``workflow.schedule_fired`` and ``workflow.event_fired``) is done here too; starting a run of each kind is
`engine.host.runs`.

Locks: ``_reload_lock`` serialises loading (the watcher thread, `reload`,
`start`); ``_lock`` guards ``_runs``, ``_active`` and ``_failed``. Runs
start and finish outside both.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor, wait
from concurrent.futures import TimeoutError as FutureTimeout
from pathlib import Path
from typing import Any

from ..events import Event
from ..executors.threads import Executor, current_executor, use_executor
from ..observe.metrics_http import MetricsServer, parse_metrics_addr
from ..runtime import Runtime
from ..store.commands import CommandBook
from ..store.owner import OwnerLock, flowconsole_version
from .commands import CommandServer
from .errors import EngineStoppedError, UnknownRunError, WorkflowKindError
from .kinds import teardown, teardown_obj
from .load_check import check_files_in_child
from .loader import (
    DEFAULT_CHECK_TIMEOUT,
    LoadProblem,
    WorkflowLoadError,
    digest_of,
    discover,
    load_source,
    read_source,
)
from .registry import Definition, FileChange, Registry, UnknownWorkflowError, WorkflowNameConflict, spec_changes
from .run_timeout import RunTimeoutError, stall_reason, unfinished_tasks
from .runs import RunLauncher, RunRecord
from .triggers import Triggers
from .watcher import ChangeSource, Watcher
from .workflow_entries import entry_path

log = logging.getLogger("engine.host")

MAX_RUN_RECORDS = 500


class Engine:
    """Runs the workflows of a directory (or one file) and reloads them live.

    ``state_dir``: keep events, dead letters and the run journal in a SQLite
    store there, and recover interrupted work on `start`. ``watch``: hot
    reload. ``schedules``: interval triggers. ``check_timeout``: seconds a
    file may take to load in its child-process check (None: skip the check,
    only for trusted files). ``debounce_ms``, ``step_ms``, ``force_polling``,
    ``change_source`` and ``settle`` tune the watcher (see `Watcher`).
    ``executor``: where DAG tasks and pool work run (e.g. a `DaskExecutor`;
    default: the one set by `use_executor` when the engine is made, else
    threads); the caller shuts it down. ``metrics_addr`` (``"HOST:PORT"``, off
    by default): serve ``runtime.metrics`` at ``/metrics`` there from `start`
    to `stop` (see `engine.observe.metrics_http`; ``metrics_server.address`` is the
    address bound). ``retention``: the store's `engine.store.Retention`
    (default: `engine.store.DEFAULT_RETENTION`).
    """

    def __init__(
        self,
        workflow_dir: str | Path | None = None,
        *,
        state_dir: str | Path | None = None,
        runtime: Runtime | None = None,
        watch: bool = True,
        schedules: bool = True,
        check_timeout: float | None = DEFAULT_CHECK_TIMEOUT,
        debounce_ms: int = 1600,
        step_ms: int = 100,
        force_polling: bool | None = None,
        change_source: ChangeSource | None = None,
        settle: float = 0.05,
        max_concurrent_runs: int = 32,
        executor: Executor | None = None,
        metrics_addr: str | tuple[str, int] | None = None,
        retention: Any = None,
    ) -> None:
        self.workflow_dir = Path(workflow_dir).resolve() if workflow_dir is not None else None
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self.runtime = runtime if runtime is not None else Runtime()
        self.bus = self.runtime.bus
        self.registry = Registry(self.runtime)
        self.check_timeout = check_timeout
        self.settle = settle
        self.store: Any = None
        self._owner: OwnerLock | None = None
        self._commands: CommandServer | None = None
        self._retention = retention
        self._schedules_on = schedules
        self._lock = threading.Lock()
        self._reload_lock = threading.RLock()
        self._runs: OrderedDict[str, RunRecord] = OrderedDict()
        self._active: set[str] = set()
        self._failed: dict[str, str] = {}
        self._executor = ThreadPoolExecutor(max_concurrent_runs, thread_name_prefix="flowconsole-run")
        self.task_executor = executor if executor is not None else current_executor()
        self._launcher = RunLauncher(self.runtime, self._executor, self.task_executor)
        self.triggers = Triggers(self.bus, self.runtime.clock, self._start, self._is_active)
        self.scheduler = self.triggers.scheduler
        self._watcher: Watcher | None = None
        if watch and self.workflow_dir is not None:
            self._watcher = Watcher(
                self.workflow_dir, self._on_files_changed, debounce_ms=debounce_ms,
                step_ms=step_ms, force_polling=force_polling, source=change_source,
            )
        self._started = False
        self._stopped = threading.Event()
        self.metrics_addr = parse_metrics_addr(metrics_addr) if isinstance(metrics_addr, str) else metrics_addr
        self.metrics_server: MetricsServer | None = None

    # -- lifecycle -----------------------------------------------------

    def start(self) -> None:
        """Open the store, load every file, then start hot reload and schedules."""
        if self._started:
            return
        if self.metrics_addr is not None:
            # First: an address that cannot be bound leaves nothing started.
            self.metrics_server = MetricsServer(self.runtime.metrics, self.metrics_addr)
        if self.state_dir is not None:
            try:
                self._open_state_dir(self.state_dir)
            except BaseException:
                if self.metrics_server is not None:
                    self.metrics_server.close()
                    self.metrics_server = None
                raise
        self._started = True
        if self.workflow_dir is not None:
            self.reload()
        if self.store is not None:
            self.store.recover(self.runtime)
            self._commands = CommandServer(self, CommandBook(self.state_dir), self._owner.info.label())
            self._commands.start()
        if self._watcher is not None:
            self._watcher.start()
        if self._schedules_on:
            self.triggers.start()

    def _open_state_dir(self, state_dir: Path) -> None:
        """Own ``state_dir`` (or raise `StateDirBusyError`), then open its store."""
        from ..store import Store

        self._owner = OwnerLock.acquire(state_dir, workflow_dir=self.workflow_dir, version=flowconsole_version())
        try:
            self.store = Store.open(state_dir, retention=self._retention).attach(self.runtime)
        except BaseException:
            self._owner.release()
            raise

    def stop(self, timeout: float = 5.0) -> None:
        """Stop hot reload and schedules, let in-flight runs finish, release every thread."""
        if self._stopped.is_set():
            return
        if self._commands is not None:
            self._commands.stop(timeout)
        # Schedules and hot reload go first: a schedule firing after starts
        # are refused would log a failed start for every due workflow.
        if self._watcher is not None:
            self._watcher.stop(timeout)
        self.triggers.stop(timeout)
        self._stopped.set()
        if not self.wait_idle(timeout):
            self._cancel_active(timeout)
        self._executor.shutdown(wait=self.wait_idle(0), cancel_futures=True)
        for definition in self.registry.clear():
            teardown_obj(definition.kind, definition.obj)
        if self.store is not None:
            self.store.close(timeout)
        if self.metrics_server is not None:
            self.metrics_server.close()
        if self._owner is not None:
            self._owner.release()

    def _cancel_active(self, timeout: float) -> None:
        """Cancel the runs that outlived ``stop``'s grace period, and say which."""
        with self._lock:
            late = [r for r in self._runs.values() if r.run_id in self._active]
        for record in late:
            cancel = getattr(record.handle, "cancel", None)
            if callable(cancel):
                cancel()
        if not self.wait_idle(timeout):
            with self._lock:
                left = sorted(f"{r.name}:{r.run_id}" for r in self._runs.values() if r.run_id in self._active)
            log.warning("engine stopped with runs still going (their threads are abandoned): %s", ", ".join(left))

    def __enter__(self) -> Engine:
        self.start()
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()

    # -- runs ----------------------------------------------------------

    def workflow_names(self) -> list[str]:
        """The names of every workflow that accepts new runs."""
        return self.registry.names()

    def definition(self, name: str) -> Definition:
        """The current version of ``name``; raises `UnknownWorkflowError`."""
        found = self.registry.get(name)
        if found is None:
            raise UnknownWorkflowError(name, self.registry.names())
        return found

    def start_run(self, name: str, *, inputs: dict[str, Any] | None = None) -> str:
        """Start a run of ``name`` on the current version; returns its run id at once."""
        return self._start(name, inputs, "manual")

    def _start(self, name: str, inputs: dict[str, Any] | None, trigger: str) -> str:
        if self._stopped.is_set():
            raise EngineStoppedError(name)
        definition = self.registry.acquire(name)
        try:
            record = self._launcher.launch(definition, inputs, trigger)
        except BaseException:
            self._release(name)
            raise
        self._track(record)
        return record.run_id

    def _track(self, record: RunRecord) -> None:
        with self._lock:
            self._runs[record.run_id] = record
            self._active.add(record.run_id)
            while len(self._runs) > MAX_RUN_RECORDS:
                oldest = next(iter(self._runs))
                if oldest in self._active:
                    break
                self._runs.popitem(last=False)
        record.future.add_done_callback(lambda _f: self._finished(record))

    def _finished(self, record: RunRecord) -> None:
        with self._lock:
            self._active.discard(record.run_id)
        self.triggers.run_finished(record.name, record.run_id)
        self._release(record.name)

    def _is_active(self, run_id: str) -> bool:
        with self._lock:
            return run_id in self._active

    def _release(self, name: str) -> None:
        gone = self.registry.release(name)
        if gone is not None:
            self._unloaded(gone)

    def run(self, name: str, *, timeout: float | None = None, inputs: dict[str, Any] | None = None) -> Any:
        """Run ``name`` to the end and return its result (raises its error).

        With ``timeout``, `RunTimeoutError` after that many seconds names what
        the run still waits for (the run itself goes on).
        """
        run_id = self.start_run(name, inputs=inputs)
        record = self.run_record(run_id)
        try:
            return record.future.result(timeout)
        except FutureTimeout:
            if record.future.done():
                raise  # the run's own error is a TimeoutError: it is the answer
            raise RunTimeoutError(
                name, run_id, timeout or 0.0, unfinished_tasks(record.handle), stall_reason(self.task_executor)
            ) from None

    def run_record(self, run_id: str) -> RunRecord:
        """The record of a run started by this engine (recent runs only)."""
        with self._lock:
            record = self._runs.get(run_id)
        if record is None:
            raise UnknownRunError(run_id)
        return record

    def wait_idle(self, timeout: float | None = None) -> bool:
        """Wait until no run is in flight; True if none is."""
        with self._lock:
            futures = [r.future for r in self._runs.values() if r.run_id in self._active]
        return not wait(futures, timeout=timeout).not_done

    def rerun_from(self, name: str, run_id: str, task_id: str) -> str:
        """Rerun DAG ``name`` from ``task_id`` on the current version, reusing ``run_id``'s results."""
        previous = self.run_record(run_id).handle
        definition = self.registry.acquire(name)
        try:
            if definition.kind != "dag":
                raise self._wrong_kind(definition, "dag")
            with use_executor(self.task_executor):
                dag_run = definition.obj.rerun_from(task_id, previous)
            future = self._executor.submit(dag_run.wait)
        except BaseException:
            self._release(name)
            raise
        record = RunRecord(dag_run.run_id, definition, future, dag_run, "rerun", {"from": task_id, "previous": run_id})
        self._track(record)
        return record.run_id

    def cancel_run(self, run_id: str) -> bool:
        """Ask a run to stop; False when it cannot be cancelled or already ended."""
        with self._lock:
            record = self._runs.get(run_id)
            active = run_id in self._active
        cancel = getattr(record.handle, "cancel", None) if record is not None else None
        if not active or not callable(cancel):
            return False
        cancel()
        return True

    def _wrong_kind(self, definition: Definition, wanted: str) -> WorkflowKindError:
        of_kind = [d.name for d in self.registry.definitions() if d.kind == wanted]
        return WorkflowKindError(definition.name, definition.kind, wanted, of_kind)

    def fire(self, machine: str, instance_id: str, event: str) -> bool:
        """Send ``event`` to instance ``instance_id`` of state machine ``machine``.

        The instance may belong to an earlier version of the machine (it
        keeps running on the version it was created with). Returns what
        ``trigger`` returns: False when a guard refused; raises when the
        machine or instance is unknown or no transition matches.
        """
        instance = self._instance(machine, instance_id)
        return bool(instance.trigger(event))

    def _instance(self, machine: str, instance_id: str) -> Any:
        with self._lock:
            record = self._runs.get(instance_id)
        if record is not None and record.name == machine and record.definition.kind == "state_machine":
            return record.handle
        definition = self.definition(machine)
        if definition.kind != "state_machine":
            raise self._wrong_kind(definition, "state_machine")
        table = getattr(definition.obj, "definition", definition.obj)
        return table.instance(instance_id)

    # -- loading, reloading and unloading workflow files ----------------------

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
