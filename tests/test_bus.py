"""The event bus: patterns, ordering, failures, threads, async delivery, replay."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from engine import Event, EventBus, FlowError, SubscriptionError


def collect(bus: EventBus, pattern: str) -> list[Event]:
    seen: list[Event] = []
    bus.subscribe(pattern, seen.append)
    return seen


def test_exact_pattern_receives_only_its_type() -> None:
    bus = EventBus()
    seen = collect(bus, "task.failed")
    bus.publish(Event("task.failed"))
    bus.publish(Event("task.started"))
    assert [e.type for e in seen] == ["task.failed"]


def test_prefix_pattern_receives_every_type_below_it() -> None:
    bus = EventBus()
    seen = collect(bus, "saga.*")
    for t in ("saga.started", "saga.step.failed", "sagas.other", "task.started"):
        bus.publish(Event(t))
    assert [e.type for e in seen] == ["saga.started", "saga.step.failed"]


def test_star_pattern_receives_everything() -> None:
    bus = EventBus()
    seen = collect(bus, "*")
    bus.publish(Event("a"))
    bus.publish(Event("b.c"))
    assert [e.type for e in seen] == ["a", "b.c"]


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[Event] = []
    bus.subscribe("a", seen.append)
    assert bus.unsubscribe("a", seen.append)
    bus.publish(Event("a"))
    assert seen == []


def test_unsubscribe_of_unknown_handler_says_so() -> None:
    assert EventBus().unsubscribe("a", print) is False


def test_subscribe_rejects_a_non_callable_handler() -> None:
    with pytest.raises(SubscriptionError, match="not callable"):
        EventBus().subscribe("a", "nope")  # type: ignore[arg-type]


def test_subscribe_rejects_an_empty_pattern() -> None:
    with pytest.raises(SubscriptionError):
        EventBus().subscribe("", print)


def test_one_raising_handler_of_a_hundred_does_not_stop_the_others() -> None:
    bus = EventBus()
    delivered: list[int] = []
    errors = collect(bus, "handler.error")
    for i in range(100):
        if i == 50:
            def boom(event: Event) -> None:
                raise RuntimeError("boom")
            bus.subscribe("work", boom)
        else:
            bus.subscribe("work", lambda e, i=i: delivered.append(i))
    bus.publish(Event("work"))
    assert len(delivered) == 99
    assert len(errors) == 1
    assert errors[0].data["error_type"] == "RuntimeError"
    assert errors[0].data["error"] == "boom"
    assert errors[0].data["handler"].endswith("boom")


def test_failing_handler_error_handler_is_logged_not_republished(caplog) -> None:
    bus = EventBus()
    calls: list[Event] = []

    def bad_error_handler(event: Event) -> None:
        calls.append(event)
        raise RuntimeError("again")

    def bad(event: Event) -> None:
        raise ValueError("first")

    bus.subscribe("handler.error", bad_error_handler)
    bus.subscribe("work", bad)
    bus.publish(Event("work"))
    assert len(calls) == 1
    assert "again" in caplog.text


def test_ten_thousand_deep_cascade_does_not_recurse() -> None:
    bus = EventBus()
    depth = 10_000
    seen: list[int] = []

    def step(event: Event) -> None:
        n = event.data["n"]
        seen.append(n)
        if n < depth:
            bus.publish(Event("step", {"n": n + 1}))

    bus.subscribe("step", step)
    bus.publish(Event("step", {"n": 1}))
    assert seen == list(range(1, depth + 1))


def test_events_published_by_a_handler_come_after_the_current_event_reaches_all() -> None:
    bus = EventBus()
    order: list[str] = []
    bus.subscribe("a", lambda e: (order.append("a1"), bus.publish(Event("b"))))
    bus.subscribe("a", lambda e: order.append("a2"))
    bus.subscribe("b", lambda e: order.append("b"))
    bus.publish(Event("a"))
    assert order == ["a1", "a2", "b"]


def test_eight_threads_publishing_lose_nothing_and_keep_their_order() -> None:
    bus = EventBus()
    seen: list[Event] = []
    lock = threading.Lock()

    def record(event: Event) -> None:
        with lock:
            seen.append(event)

    bus.subscribe("*", record)
    per_thread = 5_000
    barrier = threading.Barrier(8)

    def publisher(tid: int) -> None:
        barrier.wait()
        for i in range(per_thread):
            bus.publish(Event("n", {"t": tid, "i": i}))

    threads = [threading.Thread(target=publisher, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 8 * per_thread
    for tid in range(8):
        assert [e.data["i"] for e in seen if e.data["t"] == tid] == list(range(per_thread))


def test_async_subscriber_never_blocks_publishers_and_drops_oldest_when_full() -> None:
    bus = EventBus()
    gate = threading.Event()
    got: list[int] = []

    def slow(event: Event) -> None:
        gate.wait(5)
        got.append(event.data["i"])

    sub = bus.subscribe("*", slow, mode="async", queue_size=100)
    started = time.monotonic()
    for i in range(20_000):
        bus.publish(Event("flood", {"i": i}))
    publish_time = time.monotonic() - started
    gate.set()
    assert bus.drain(5)
    # The dispatcher held at most one batch (<= 100) while the flood arrived;
    # the queue kept the newest 100 and counted the rest as dropped.
    assert sub.dropped + len(got) == 20_000
    assert got[-100:] == list(range(19_900, 20_000))
    assert sub.dropped >= 20_000 - 200
    assert publish_time < 5  # never waited on the gate
    bus.close()


def test_async_drop_newest_policy_keeps_the_oldest() -> None:
    bus = EventBus()
    gate = threading.Event()
    got: list[int] = []
    sub = bus.subscribe(
        "*", lambda e: (gate.wait(5), got.append(e.data["i"])), mode="async",
        queue_size=10, overflow="drop_newest",
    )
    for i in range(1000):
        bus.publish(Event("flood", {"i": i}))
    gate.set()
    bus.drain(5)
    assert sub.dropped + len(got) == 1000
    assert got == sorted(got) and got[0] == 0
    assert got[-1] < 20
    bus.close()


def test_async_block_policy_delivers_everything() -> None:
    bus = EventBus()
    got: list[int] = []
    sub = bus.subscribe("*", lambda e: got.append(e.data["i"]), mode="async",
                        queue_size=8, overflow="block")
    for i in range(2000):
        bus.publish(Event("x", {"i": i}))
    bus.drain(5)
    assert got == list(range(2000)) and sub.dropped == 0
    bus.close()


def test_async_subscription_rejects_an_unknown_policy() -> None:
    with pytest.raises(SubscriptionError, match="overflow"):
        EventBus().subscribe("*", print, mode="async", overflow="explode")  # type: ignore[arg-type]


def test_async_handler_failure_becomes_handler_error() -> None:
    bus = EventBus()
    errors = collect(bus, "handler.error")

    def bad(event: Event) -> None:
        raise KeyError("k")

    bus.subscribe("x", bad, mode="async")
    bus.publish(Event("x"))
    bus.drain(5)
    assert [e.data["error_type"] for e in errors] == ["KeyError"]
    bus.close()


def test_event_store_keeps_events_when_sourcing_is_on() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("a"))
    assert [e.type for e in bus.event_store] == ["a"]


def test_event_store_stays_empty_when_sourcing_is_off() -> None:
    bus = EventBus()
    bus.publish(Event("a"))
    assert len(bus.event_store) == 0


def test_event_store_is_bounded_and_counts_evictions() -> None:
    bus = EventBus(enable_event_sourcing=True, store_size=10)
    for i in range(25):
        bus.publish(Event("a", {"i": i}))
    assert [e.data["i"] for e in bus.event_store] == list(range(15, 25))
    assert bus.evicted == 15


def test_replay_redelivers_marked_events_without_storing_them_again() -> None:
    bus = EventBus(enable_event_sourcing=True)
    for i in range(3):
        bus.publish(Event("a", {"i": i}))
    seen = collect(bus, "a")
    assert bus.replay(1) == 2
    assert [(e.data["i"], e.replay) for e in seen] == [(1, True), (2, True)]
    assert len(bus.event_store) == 3


def test_events_published_during_a_replay_are_not_stored() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("a"))
    bus.subscribe("a", lambda e: bus.publish(Event("derived")))
    bus.replay()
    assert [e.type for e in bus.event_store] == ["a"]


def test_events_handlers_publish_during_a_replay_are_marked_replay() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("order.placed"))
    bus.subscribe("order.placed", lambda e: bus.publish(Event("email.sent")))
    sent = collect(bus, "email.sent")
    bus.replay()
    assert [e.replay for e in sent] == [True]
    assert bus.published_counts() == {"order.placed": 1}


def test_an_async_handler_of_a_replayed_event_publishes_as_part_of_the_replay() -> None:
    bus = EventBus(enable_event_sourcing=True)
    bus.publish(Event("order.placed"))
    bus.subscribe("order.placed", lambda e: bus.publish(Event("email.sent")), mode="async")
    sent = collect(bus, "email.sent")
    bus.replay()
    assert bus.drain(5)
    assert [e.replay for e in sent] == [True]
    assert [e.type for e in bus.event_store] == ["order.placed"]
    bus.close()


def test_replay_without_event_sourcing_is_an_error() -> None:
    with pytest.raises(FlowError, match="not enabled"):
        EventBus().replay()


def test_replay_positions_are_absolute_after_eviction() -> None:
    bus = EventBus(enable_event_sourcing=True, store_size=5)
    for i in range(8):
        bus.publish(Event("a", {"i": i}))
    seen = collect(bus, "a")
    bus.replay(6)
    assert [e.data["i"] for e in seen] == [6, 7]


def test_stored_positions_stay_exact_while_other_threads_publish() -> None:
    bus = EventBus(enable_event_sourcing=True, store_size=50)
    stop = threading.Event()
    published = [0, 0, 0]

    def publish(k: int) -> None:
        while not stop.is_set():
            bus.publish(Event("a"))
            published[k] += 1

    threads = [threading.Thread(target=publish, args=(k,)) for k in range(3)]
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible, between any two appends
    for thread in threads:
        thread.start()
    position: dict[str, int] = {}
    try:
        for _ in range(2000):
            events, first = bus._stored_snapshot()
            for offset, event in enumerate(events):
                # An event keeps one absolute position, whichever copy saw it.
                assert position.setdefault(event.id, first + offset) == first + offset
    finally:
        stop.set()
        for thread in threads:
            thread.join()
        sys.setswitchinterval(interval)
    assert bus.evicted + len(bus.event_store) == sum(published)


def test_subscribers_view_lists_patterns() -> None:
    bus = EventBus()
    bus.subscribe("a", print)
    bus.subscribe("b.*", print)
    assert set(bus.subscribers) == {"a", "b.*"}


class _Unprintable(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no text for this error")


def test_an_async_dispatcher_survives_a_handler_failure_it_cannot_report() -> None:
    bus = EventBus()
    got: list[int] = []

    def handler(event: Event) -> None:
        if event.data["i"] == 0:
            raise _Unprintable()
        if event.data["i"] == 1:
            raise SystemExit(1)
        got.append(event.data["i"])

    sub = bus.subscribe("x", handler, mode="async")
    for i in range(3):
        bus.publish(Event("x", {"i": i}))
    assert bus.drain(5)
    assert got == [2]
    assert sub._thread.is_alive()
    bus.close()
