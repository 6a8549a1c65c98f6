"""How events become rows: encoded on the publishing thread, spans stored compactly,
a task's start and end folded into one journal row, and nothing lost to bad data."""

from __future__ import annotations

import json

import pytest

from engine import Event, Runtime
from engine.dag.workflow import DAGWorkflow
from engine.store import Store, journal
from engine.store.event_log import event_row


@pytest.fixture
def store(tmp_path):
    opened = Store.open(tmp_path / "state")
    yield opened
    opened.close()


def _stored_text(store: Store, seq: int) -> str:
    with store.reader() as conn:
        return conn.execute("SELECT data FROM events WHERE seq = ?", (seq,)).fetchone()[0]


def _span_event(runtime: Runtime) -> Event:
    seen: list[Event] = []
    runtime.bus.subscribe("span.finished", seen.append)
    with runtime.tracer.start_span("work", {"workflow": "w", "rows": 3}) as span:
        span.add_event("retry", {"attempt": 2})
    return seen[0]


def test_a_finished_span_reads_back_exactly_as_published(store, runtime):
    published = _span_event(runtime)
    store.append(published, wait=True)
    [stored] = store.events()
    assert dict(stored.data) == dict(published.data)


def test_a_finished_span_is_stored_as_an_array_without_the_columns_it_repeats(store, runtime):
    published = _span_event(runtime)
    store.append(published, wait=True)
    text = _stored_text(store, 1)
    assert isinstance(json.loads(text), list)
    assert published.trace_id not in text and published.span_id not in text


def test_span_data_of_another_shape_is_stored_as_published(store):
    custom = Event("span.finished", {"name": "imported", "trace_id": "t"}, trace_id="t", span_id="s")
    store.append(custom, wait=True)
    assert json.loads(_stored_text(store, 1)) == {"name": "imported", "trace_id": "t"}
    assert dict(store.events()[0].data) == {"name": "imported", "trace_id": "t"}


def test_span_data_disagreeing_with_its_columns_is_stored_as_published(store, runtime):
    published = _span_event(runtime)
    moved = Event("span.finished", dict(published.data), trace_id="0" * 32, span_id=published.span_id)
    store.append(moved, wait=True)
    assert dict(store.events()[0].data) == dict(published.data)


def test_data_that_contains_itself_is_logged_as_its_repr(store):
    loop: list = []
    loop.append(loop)
    store.append(Event("odd", {"loop": loop}), wait=True)
    assert store.events()[0].data == {"unencodable": "{'loop': [[...]]}"}


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("no text")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


def test_data_whose_values_cannot_be_shown_is_logged_by_its_type(store):
    store.append(Event("odd", {"value": _Unprintable()}), wait=True)
    assert store.events()[0].data == {"unencodable": "<dict>"}


def test_event_row_is_built_from_the_events_fields():
    event = Event("e", {"k": 1}, workflow="w", run_id="r", trace_id="t", span_id="s")
    assert event_row(event) == (event.id, "e", event.ts, "w", "r", "t", "s", '{"k":1}')


def _task(run: str, type_: str, ts: float, **data) -> Event:
    return Event(type_, {"task": "a", **data}, run_id=run, workflow="w", ts=ts)


def _journal_after(store: Store, events: list[Event]):
    store.write(lambda conn: journal.apply(conn, [journal.entry(e) for e in events]), wait=True)
    return store.tasks("r")["a"]


@pytest.mark.parametrize(
    "ending",
    [
        ("task.completed", {"attempt": 1, "result": {"n": 1}}),
        ("task.failed", {"error_type": "ValueError", "error": "bad"}),
        ("task.retrying", {"attempt": 1, "error_type": "KeyError", "error": "k"}),
    ],
)
def test_start_and_end_in_one_batch_journal_as_if_written_one_by_one(tmp_path, ending):
    type_, data = ending
    events = [_task("r", "run.started", 1.0), _task("r", "task.started", 2.0, attempt=1),
              _task("r", type_, 3.0, **data)]
    with Store.open(tmp_path / "together") as together, Store.open(tmp_path / "apart") as apart:
        folded = _journal_after(together, events)
        _journal_after(apart, events[:2])
        one_by_one = _journal_after(apart, events[2:])
    assert folded == one_by_one
    assert folded.attempts == 1 and folded.started == 2.0 and folded.finished == 3.0


def test_a_retried_task_counts_every_attempt_when_all_are_in_one_batch(store):
    events = [
        _task("r", "task.started", 1.0, attempt=1),
        _task("r", "task.retrying", 2.0, attempt=1, error_type="E", error="x"),
        _task("r", "task.started", 3.0, attempt=2),
        _task("r", "task.completed", 4.0, attempt=2, result=7),
    ]
    record = _journal_after(store, events)
    assert (record.status, record.attempts, record.result, record.error_type) == ("completed", 2, 7, "E")


def test_a_dag_run_journals_every_task_once_with_its_result(store):
    runtime = Runtime()
    store.attach(runtime)
    workflow = DAGWorkflow("w", runtime=runtime, max_parallel=4)
    for i in range(50):
        workflow.add_task(f"t{i}", lambda i=i, **_: i, [f"t{i - 1}"] if i else [])
    workflow.execute()
    store.flush()
    [run] = store.runs()
    tasks = store.tasks(run.run_id)
    assert {name: (t.status, t.attempts, t.result) for name, t in tasks.items()} == {
        f"t{i}": ("completed", 1, i) for i in range(50)
    }
