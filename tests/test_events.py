"""The event value."""

from __future__ import annotations

import dataclasses
from datetime import datetime

import pytest

from engine import Event


def test_event_is_built_like_the_seeds() -> None:
    event = Event("order.created", {"order_id": "o-1"})
    assert event.type == "order.created"
    assert event.data == {"order_id": "o-1"}
    assert event.id
    assert datetime.fromisoformat(event.timestamp).tzinfo is not None


def test_event_keeps_an_id_and_timestamp_given_to_it() -> None:
    event = Event("x", {}, timestamp="2024-01-01T00:00:00+00:00", id="evt-1")
    assert (event.id, event.timestamp) == ("evt-1", "2024-01-01T00:00:00+00:00")


def test_event_is_immutable() -> None:
    event = Event("x", {})
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.type = "y"  # type: ignore[misc]


def test_event_is_a_slotted_frozen_dataclass() -> None:
    assert dataclasses.is_dataclass(Event)
    assert not hasattr(Event("x"), "__dict__")


def test_sequence_numbers_increase_with_creation() -> None:
    first, second = Event("a"), Event("b")
    assert second.seq > first.seq


def test_ids_are_unique() -> None:
    assert len({Event("a").id for _ in range(1000)}) == 1000


def test_correlation_fields_are_carried() -> None:
    event = Event("task.started", {"task": "t"}, workflow="etl", run_id="r1", trace_id="ab" * 16)
    assert (event.workflow, event.run_id, event.trace_id) == ("etl", "r1", "ab" * 16)


def test_as_replay_keeps_identity_and_marks_replay() -> None:
    event = Event("x", {"k": 1})
    replayed = event.as_replay()
    assert replayed.replay and not event.replay
    assert (replayed.id, replayed.seq, replayed.ts, replayed.data) == (event.id, event.seq, event.ts, event.data)


def test_to_dict_is_json_ready() -> None:
    import json

    event = Event("x", {"k": [1, 2]}, workflow="w")
    decoded = json.loads(json.dumps(event.to_dict()))
    assert decoded["type"] == "x" and decoded["data"] == {"k": [1, 2]} and decoded["workflow"] == "w"


def test_an_event_made_on_the_engines_fast_path_is_a_frozen_event_like_any_other() -> None:
    from engine.events import correlated_event

    fast = correlated_event("task.started", {"task": "t"}, ("etl", "r1", "ab" * 16, "cd" * 8))
    slow = Event("task.started", {"task": "t"}, workflow="etl", run_id="r1", trace_id="ab" * 16, span_id="cd" * 8)
    assert type(fast) is Event
    assert fast.to_dict() | {"id": None, "seq": None, "timestamp": None, "ts": None} == (
        slow.to_dict() | {"id": None, "seq": None, "timestamp": None, "ts": None}
    )
    assert fast.seq < slow.seq
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast.type = "y"  # type: ignore[misc]
