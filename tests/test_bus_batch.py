"""Batched delivery (``mode="batch"``) and the bus's own count of what it publishes."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from engine import Event, EventBus
from engine.bus.batch_delivery import FLUSH_EVERY, BatchSubscription


def batches_of(bus: EventBus, pattern: str = "*") -> tuple[list[list[Event]], BatchSubscription]:
    batches: list[list[Event]] = []
    subscription = bus.subscribe(pattern, batches.append, mode="batch")
    assert isinstance(subscription, BatchSubscription)
    return batches, subscription


def test_a_batch_subscriber_gets_the_queued_events_as_one_list_on_drain() -> None:
    bus = EventBus()
    batches, subscription = batches_of(bus, "task.*")
    for i in range(3):
        bus.publish(Event("task.started", {"i": i}))
    bus.publish(Event("run.started"))
    assert batches == [] and subscription.pending == 3
    bus.drain()
    assert [[e.data["i"] for e in batch] for batch in batches] == [[0, 1, 2]]
    assert (subscription.pending, subscription.delivered) == (0, 3)


def test_publishers_hand_over_a_batch_every_flush_every_events() -> None:
    bus = EventBus()
    batches, subscription = batches_of(bus)
    for i in range(FLUSH_EVERY - 1):
        bus.publish(Event("tick", {"i": i}))
    assert batches == []
    bus.publish(Event("tick", {"i": FLUSH_EVERY - 1}))
    assert [len(batch) for batch in batches] == [FLUSH_EVERY]
    assert [e.data["i"] for e in batches[0]] == list(range(FLUSH_EVERY))


def test_a_failing_batch_handler_is_reported_as_handler_error() -> None:
    bus = EventBus()
    errors: list[Event] = []
    bus.subscribe("handler.error", errors.append)

    def broken(events: list[Event]) -> None:
        raise ValueError("bad batch")

    bus.subscribe("job.*", broken, mode="batch")
    bus.publish(Event("job.done"))
    bus.drain()
    assert [(e.data["event_type"], e.data["error"]) for e in errors] == [("job.done", "bad batch")]


def test_a_batch_handler_that_drains_the_bus_gets_what_came_meanwhile_next_time() -> None:
    bus = EventBus()
    batches: list[list[str]] = []
    seen_after_inner_drain: list[int] = []

    def handler(events: list[Event]) -> None:
        batches.append([e.type for e in events])
        if len(batches) == 1:
            bus.publish(Event("b"))
            bus.drain()  # neither waits for this very flush nor re-enters the handler
            seen_after_inner_drain.append(len(batches))

    bus.subscribe("*", handler, mode="batch")
    bus.publish(Event("a"))
    bus.drain()
    bus.drain()
    assert batches == [["a"], ["b"]] and seen_after_inner_drain == [1]


def test_unsubscribing_a_batch_subscriber_hands_over_what_it_had_queued() -> None:
    bus = EventBus()
    batches, subscription = batches_of(bus)
    bus.publish(Event("a"))
    assert bus.unsubscribe("*", subscription)
    bus.publish(Event("b"))
    bus.drain()
    assert [[e.type for e in batch] for batch in batches] == [["a"]]


def test_a_batch_subscriber_gets_every_event_of_many_publishing_threads_once() -> None:
    bus = EventBus()
    batches, _ = batches_of(bus)

    def publish(worker: int) -> None:
        for i in range(3 * FLUSH_EVERY):
            bus.publish(Event("tick", {"worker": worker, "i": i}))

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(publish, range(4)))
    bus.drain()
    seen = [(e.data["worker"], e.data["i"]) for batch in batches for e in batch]
    assert sorted(seen) == [(w, i) for w in range(4) for i in range(3 * FLUSH_EVERY)]
    for worker in range(4):
        assert [i for w, i in seen if w == worker] == list(range(3 * FLUSH_EVERY))


def test_the_bus_counts_what_it_publishes_by_type_but_not_replays() -> None:
    bus = EventBus(enable_event_sourcing=True)
    for etype in ("a", "b", "a"):
        bus.publish(Event(etype))
    bus.replay()
    assert bus.published_counts() == {"a": 2, "b": 1}


def test_events_published_by_handlers_are_counted_too() -> None:
    bus = EventBus()
    bus.subscribe("a", lambda event: bus.publish(Event("b")))
    bus.publish(Event("a"))
    assert bus.published_counts() == {"a": 1, "b": 1}
