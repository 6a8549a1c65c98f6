"""The registry of loaded workflows: versions, atomic replacement, retirement.

Each load of a file installs all of its workflows at once as new versions
(`Definition`, numbered by the runtime's `DefinitionTable` generation). A run
takes the current version with `acquire` and gives it back with `release`;
the version it holds is an immutable value, so a reload while it runs never
changes what it runs, and new runs get the new version.

A workflow that disappears (its file deleted, or its declaration removed)
*retires*: new runs are refused at once, and it is unregistered when its last
in-flight run is released.

``_lock`` guards ``_current``, ``_files``, ``_inflight`` and ``_retiring``;
nothing slow runs under it.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

from ..errors import FlowError
from ..runtime import Runtime
from .workflow_file import WorkflowMeta
from .kinds import BuiltWorkflow, WorkflowKind


class UnknownWorkflowError(FlowError, KeyError):
    """No workflow of that name is loaded (or it is being unloaded)."""

    def __init__(self, name: str, known: list[str], retiring: bool = False) -> None:
        reason = "is being unloaded" if retiring else "is not loaded"
        super().__init__(f"workflow {name!r} {reason}; loaded: {', '.join(known) or 'none'}")
        self.name = name
        self.known = known

    def __str__(self) -> str:
        return str(self.args[0])


class WorkflowNameConflict(FlowError, ValueError):
    """A file declares a workflow name another file already declares."""

    def __init__(self, name: str, file: str, other_file: str) -> None:
        super().__init__(f"workflow name {name!r} is already declared in {other_file}")
        self.name = name
        self.file = file
        self.other_file = other_file


@dataclass(frozen=True, slots=True)
class Definition:
    """One version of a loaded workflow."""

    name: str
    kind: WorkflowKind
    obj: Any
    meta: WorkflowMeta
    file: str
    line: int
    generation: int
    spec: dict[str, Any]
    digest: str

    def event_data(self) -> dict[str, Any]:
        """The ``workflow.loaded`` data: the workflow spec of common.md."""
        return {
            "name": self.name,
            "kind": str(self.kind),
            "file": self.file,
            "line": self.line,
            "generation": self.generation,
            "description": self.meta.description,
            "tags": list(self.meta.tags),
            "trigger": self.meta.trigger_json(),
            "spec": self.spec,
        }


@dataclass(slots=True)
class FileChange:
    """What installing or removing a file did."""

    loaded: list[Definition] = field(default_factory=list)
    reloaded: list[tuple[Definition, Definition]] = field(default_factory=list)
    retiring: list[Definition] = field(default_factory=list)
    unloaded: list[Definition] = field(default_factory=list)


def _diff_lists(old: list[Any], new: list[Any]) -> dict[str, list[Any]]:
    return {
        "added": [x for x in new if x not in old],
        "removed": [x for x in old if x not in new],
    }


def _diff_mapping(old: dict[str, Any], new: dict[str, Any]) -> dict[str, list[str]]:
    return {
        "added": [k for k in new if k not in old],
        "removed": [k for k in old if k not in new],
        "changed": [k for k in new if k in old and new[k] != old[k]],
    }


def _transition_key(t: dict[str, Any]) -> str:
    guard = f" [{t['guard']}]" if t.get("guard") else ""
    return f"{t['from']} --{t['event']}--> {t['to']}{guard}"


def spec_changes(old: Definition, new: Definition) -> dict[str, Any]:
    """What changed between two versions: tasks, states, steps... and a summary."""
    changes: dict[str, Any] = {}
    if old.kind != new.kind:
        changes["kind"] = {"from": old.kind, "to": new.kind}
    else:
        a, b = old.spec, new.spec
        if new.kind == "dag":
            changes["tasks"] = _diff_mapping(a.get("tasks", {}), b.get("tasks", {}))
        elif new.kind == "state_machine":
            changes["states"] = _diff_lists(list(a.get("states", [])), list(b.get("states", [])))
            changes["transitions"] = _diff_lists(
                [_transition_key(t) for t in a.get("transitions", [])],
                [_transition_key(t) for t in b.get("transitions", [])],
            )
        elif new.kind in ("saga", "choreography"):
            changes["steps"] = _diff_lists(list(a.get("steps", [])), list(b.get("steps", [])))
        elif new.kind == "event_driven":
            changes["handlers"] = _diff_lists(
                [h["event"] for h in a.get("handlers", [])], [h["event"] for h in b.get("handlers", [])]
            )
        else:
            changes["jobs"] = _diff_lists(
                [j["name"] for j in a.get("jobs", [])], [j["name"] for j in b.get("jobs", [])]
            )
    if old.meta != new.meta:
        changes["metadata"] = sorted(
            key for key in WorkflowMeta.model_fields
            if getattr(old.meta, key) != getattr(new.meta, key)
        )
    changes["summary"] = _summary(changes)
    return changes


def _summary(changes: dict[str, Any]) -> str:
    parts: list[str] = []
    if "kind" in changes:
        parts.append(f"kind {changes['kind']['from']} -> {changes['kind']['to']}")
    for what, diff in changes.items():
        if what in ("kind", "metadata") or not isinstance(diff, dict):
            continue
        for verb in ("added", "removed", "changed"):
            items = diff.get(verb) or []
            if items:
                parts.append(f"{what} {verb}: {', '.join(map(str, items))}")
    if changes.get("metadata"):
        parts.append(f"metadata changed: {', '.join(changes['metadata'])}")
    return "; ".join(parts) or "code changed, shape unchanged"


class Registry:
    """The current version of every loaded workflow, and who is running it."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self._lock = threading.Lock()
        self._current: dict[str, Definition] = {}
        self._files: dict[str, tuple[str, list[str]]] = {}
        self._inflight: dict[str, int] = {}
        self._retiring: set[str] = set()

    # -- reading -------------------------------------------------------

    def get(self, name: str) -> Definition | None:
        """The current version of ``name`` (retiring ones included), or None."""
        with self._lock:
            return self._current.get(name)

    def names(self) -> list[str]:
        """Every workflow that accepts new runs, sorted."""
        with self._lock:
            return sorted(n for n in self._current if n not in self._retiring)

    def definitions(self) -> list[Definition]:
        """The current version of every workflow that accepts new runs."""
        with self._lock:
            return [d for n, d in sorted(self._current.items()) if n not in self._retiring]

    def digest(self, file: str) -> str | None:
        """The content hash of the version of ``file`` installed, or None."""
        with self._lock:
            entry = self._files.get(file)
        return entry[0] if entry else None

    def files(self) -> list[str]:
        """Every file with an installed version."""
        with self._lock:
            return sorted(self._files)

    def inflight(self, name: str) -> int:
        """How many runs of ``name`` are in flight."""
        with self._lock:
            return self._inflight.get(name, 0)

    # -- changing ------------------------------------------------------

    def install(self, file: str, digest: str, built: list[BuiltWorkflow]) -> FileChange:
        """Make ``built`` the current versions of the workflows of ``file``.

        All or nothing: raises `WorkflowNameConflict` (installing nothing)
        when another file owns one of the names.
        """
        change = FileChange()
        with self._lock:
            for b in built:
                owner = self._current.get(b.name)
                if owner is not None and owner.file != file and b.name not in self._retiring:
                    raise WorkflowNameConflict(b.name, file, owner.file)
            previous = self._files.get(file, ("", []))[1]
            for b in built:
                generation = self.runtime.definitions.register(b.name, b.obj)
                new = Definition(b.name, b.kind, b.obj, b.meta, b.file, b.line, generation, b.spec, digest)
                old = self._current.get(b.name)
                self._current[b.name] = new
                self._retiring.discard(b.name)
                if old is None:
                    change.loaded.append(new)
                else:
                    change.reloaded.append((old, new))
            names = [b.name for b in built]
            self._files[file] = (digest, names)
            for name in previous:
                if name not in names:
                    self._retire(name, change)
        return change

    def remove_file(self, file: str) -> FileChange:
        """Retire every workflow of ``file`` (which no longer exists)."""
        change = FileChange()
        with self._lock:
            _, names = self._files.pop(file, ("", []))
            for name in names:
                self._retire(name, change)
        return change

    def _retire(self, name: str, change: FileChange) -> None:
        definition = self._current.get(name)
        if definition is None:
            return
        if self._inflight.get(name, 0):
            self._retiring.add(name)
            change.retiring.append(definition)
        else:
            self._unregister(name)
            change.unloaded.append(definition)

    def _unregister(self, name: str) -> None:
        self._current.pop(name, None)
        self._retiring.discard(name)
        self._inflight.pop(name, None)
        self.runtime.definitions.unregister(name)

    # -- runs ----------------------------------------------------------

    def acquire(self, name: str) -> Definition:
        """The current version of ``name``, counted as in flight until `release`."""
        with self._lock:
            definition = self._current.get(name)
            if definition is None or name in self._retiring:
                known = sorted(n for n in self._current if n not in self._retiring)
                raise UnknownWorkflowError(name, known, retiring=definition is not None)
            self._inflight[name] = self._inflight.get(name, 0) + 1
            return definition

    def release(self, name: str) -> Definition | None:
        """End one in-flight run of ``name``; returns the version unregistered, if any."""
        with self._lock:
            count = self._inflight.get(name, 0) - 1
            self._inflight[name] = max(count, 0)
            if count <= 0 and name in self._retiring:
                definition = self._current.get(name)
                self._unregister(name)
                return definition
        return None

    def clear(self) -> list[Definition]:
        """Unregister everything (engine stop); returns what was registered."""
        with self._lock:
            gone = list(self._current.values())
            for name in list(self._current):
                self._unregister(name)
            self._files.clear()
        return gone
