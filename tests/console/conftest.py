"""Fixtures for the console tests: recorded events with fixed ids and times,
a fake engine that records the commands it gets, and an app factory with
animations and cursor blinking off (deterministic screens)."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from engine import Event, EventBus, FakeClock

T0 = 1_700_000_000.0

ETL_TASKS = {
    "extract": [],
    "validate": ["extract"],
    "transform": ["validate"],
    "enrich": ["extract"],
    "load": ["transform", "enrich"],
    "report": ["load"],
    "notify": ["extract"],
}


class Recorder:
    """Builds events with fixed seq, ts and ids, so screens are deterministic."""

    def __init__(self, start_seq: int = 1) -> None:
        self.seq = start_seq
        self.events: list[Event] = []

    def add(self, type_: str, data: dict[str, Any] | None = None, *, at: float = 0.0, **fields: Any) -> Event:
        event = Event(type_, data or {}, id=f"ev-{self.seq:04d}", seq=self.seq, ts=T0 + at, **fields)
        self.seq += 1
        self.events.append(event)
        return event


def workflow_loaded(rec: Recorder, name: str, kind: str, spec: dict, *, at: float = 0.0, **extra: Any) -> Event:
    data = {
        "name": name,
        "kind": kind,
        "file": f"sample_workflows/{name}.py",
        "line": 12,
        "generation": 1,
        "description": f"The {name} workflow.",
        "tags": ["sample"],
        "spec": spec,
        **extra,
    }
    return rec.add("workflow.loaded", data, at=at, workflow=name)


def recorded_session() -> list[Event]:
    """A console's worth of history: three workflows, one load error, two ETL runs."""
    rec = Recorder()
    workflow_loaded(rec, "etl", "dag", {"tasks": ETL_TASKS})
    workflow_loaded(rec, "deploy", "state_machine", {"initial": "idle", "states": ["idle", "done"], "final": ["done"], "transitions": []})
    rec.add(
        "workflow.load_failed",
        {
            "file": "sample_workflows/broken.py",
            "line": 7,
            "message": "SyntaxError: invalid syntax",
            "traceback": 'File "sample_workflows/broken.py", line 7\n    def oops(:\n            ^\nSyntaxError: invalid syntax',
            "last_good_active": False,
            "name": "broken",
        },
        at=0.5,
    )
    run = {"workflow": "etl", "run_id": "run-0001"}
    rec.add("run.started", {"tasks": ETL_TASKS}, at=1.0, **run)
    for task in ETL_TASKS:
        rec.add("task.started", {"task": task, "attempt": 1}, at=1.1, **run)
        rec.add("task.completed", {"task": task, "attempt": 1, "duration": 0.25, "result_preview": f"{task}: ok"}, at=1.4, **run)
    rec.add("run.completed", {}, at=2.0, **run)
    run = {"workflow": "etl", "run_id": "run-0002"}
    rec.add("run.started", {"tasks": ETL_TASKS}, at=10.0, **run)
    rec.add("task.started", {"task": "extract", "attempt": 1}, at=10.1, **run)
    rec.add("task.completed", {"task": "extract", "attempt": 1, "duration": 0.42, "result_preview": "[{'id': 1}, {'id': 2}]"}, at=10.5, **run)
    rec.add("task.started", {"task": "validate", "attempt": 1}, at=10.6, **run)
    rec.add("task.retrying", {"task": "validate", "attempt": 1, "error_type": "TimeoutError", "error": "upstream slow"}, at=10.9, **run)
    rec.add("task.started", {"task": "validate", "attempt": 2}, at=11.0, **run)
    rec.add(
        "task.failed",
        {
            "task": "validate",
            "attempt": 3,
            "duration": 1.25,
            "error_type": "ValueError",
            "error": "row 17: amount is negative",
            "traceback": 'Traceback (most recent call last):\n  File "sample_workflows/etl.py", line 30, in validate\n    raise ValueError("row 17: amount is negative")\nValueError: row 17: amount is negative',
        },
        at=12.0,
        **run,
    )
    rec.add("task.skipped", {"task": "transform", "reason": "upstream failed"}, at=12.0, **run)
    rec.add("task.started", {"task": "enrich", "attempt": 1}, at=10.6, **run)
    rec.add("task.started", {"task": "notify", "attempt": 1}, at=10.6, **run)
    rec.add("task.completed", {"task": "notify", "attempt": 1, "duration": 0.05, "result_preview": "sent"}, at=10.7, **run)
    return rec.events


class FakeEngine:
    """Stands in for `engine.host.Engine`: records commands, publishes run events."""

    def __init__(self, bus: EventBus | None = None) -> None:
        self.bus = bus if bus is not None else EventBus(enable_event_sourcing=True)
        self.calls: list[tuple] = []
        self.called = threading.Event()
        self._runs = 0

    def _record(self, *call: Any) -> None:
        self.calls.append(call)
        self.called.set()

    def workflow_names(self) -> list[str]:
        return ["etl"]

    def start_run(self, name: str) -> str:
        self._runs += 1
        run_id = f"run-new-{self._runs}"
        self._record("start_run", name)
        self.bus.publish(Event("run.started", {"tasks": ETL_TASKS}, workflow=name, run_id=run_id, ts=T0 + 100))
        self.bus.publish(Event("task.started", {"task": "extract", "attempt": 1}, workflow=name, run_id=run_id, ts=T0 + 100))
        return run_id

    def rerun_from(self, name: str, run_id: str, task_id: str) -> str:
        self._record("rerun_from", name, run_id, task_id)
        return "run-rerun"

    def cancel_run(self, run_id: str) -> bool:
        self._record("cancel_run", run_id)
        return True

    def reload(self) -> None:
        self._record("reload")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=T0 + 15.0)


@pytest.fixture
def session_events() -> list[Event]:
    return recorded_session()


def quiet(app: Any) -> Any:
    """Animations off, for deterministic screens."""
    app.animation_level = "none"
    return app


async def type_into(pilot: Any, selector: str, text: str) -> None:
    """Put ``text`` in the focused input ``selector`` and press enter (typing key by key is slow)."""
    field = pilot.app.query_one(selector)
    field.value = text
    await pilot.press("enter")


async def command(pilot: Any, text: str) -> None:
    """Enter ``text`` on the ``:`` command line."""
    await pilot.press("colon")
    await type_into(pilot, "#command-line", text)


async def wait_until(pilot: Any, predicate: Any, timeout: float = 5.0) -> None:
    """Let the app run until ``predicate()`` holds (messages may take several hops)."""
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition never became true")
        await pilot.pause(0.02)


def count_painted(widget) -> list[int]:
    """The lines Textual asks ``widget`` to paint from now on (it asks only for dirty ones)."""
    painted: list[int] = []
    render_line = widget.render_line

    def counting(y):
        painted.append(y)
        return render_line(y)

    widget.render_line = counting
    return painted
