"""The dead-letter queue: records, operator actions, events, capacity."""

from __future__ import annotations

import threading

import pytest

from engine import (
    DeadLetter,
    DeadLetterBusyError,
    DeadLetterCountChanged,
    DeadLetterFilterError,
    DeadLetterNotFound,
    DeadLetterPayloadError,
    DeadLetterQueue,
    DeadLetterStateError,
    Event,
    FlowError,
    NoRetrierError,
)
from engine.resilience.dlq.letter import InMemoryDeadLetterStore


class PaymentDeclined(Exception):
    pass


def charge(amount: int) -> None:
    raise PaymentDeclined(f"card declined for {amount}")


def raised(func, *args) -> BaseException:
    try:
        func(*args)
    except Exception as exc:  # noqa: BLE001 - the tests need the raised error
        return exc
    raise AssertionError("did not raise")


def add(queue: DeadLetterQueue, **overrides) -> DeadLetter:
    fields = dict(
        source="task", unit="charge", error=raised(charge, 5), payload={"inputs": {"amount": 5}},
        workflow="orders", definition_version=2, attempts=3, run_id="run-1", trace_id="t" * 32,
        span_id="s" * 16,
    )
    fields.update(overrides)
    return queue.add(**fields)


def events(runtime, prefix: str = "dlq.") -> list[Event]:
    return [e for e in runtime.bus.event_store if e.type.startswith(prefix)]


# -- the record -------------------------------------------------------------------


def test_a_letter_records_what_an_operator_needs(runtime, fake_clock) -> None:
    letter = add(runtime.dlq)
    assert letter.id.startswith("dl-")
    assert (letter.source, letter.unit, letter.workflow, letter.definition_version) == (
        "task", "charge", "orders", 2,
    )
    assert letter.payload == {"inputs": {"amount": 5}}
    assert letter.error_type.endswith("PaymentDeclined") and letter.error == "card declined for 5"
    assert "in charge" in letter.traceback and "PaymentDeclined" in letter.traceback
    assert letter.attempts == 3
    assert letter.first_failure == letter.last_failure == fake_clock.time()
    assert (letter.run_id, letter.trace_id, letter.span_id) == ("run-1", "t" * 32, "s" * 16)
    assert letter.status == "dead"
    assert letter.location.endswith("test_dlq.py:charge")
    assert [a.action for a in letter.history] == ["added"]


def test_alike_failures_share_a_fingerprint_and_others_do_not(runtime) -> None:
    first = add(runtime.dlq)
    second = add(runtime.dlq, error=raised(charge, 99))
    other = add(runtime.dlq, error=raised(int, "x"))
    assert first.fingerprint == second.fingerprint
    assert other.fingerprint != first.fingerprint


def test_letters_are_immutable_values(runtime) -> None:
    letter = add(runtime.dlq)
    with pytest.raises(AttributeError):
        letter.status = "resolved"  # type: ignore[misc]


def test_the_payload_is_detached_from_the_callers_objects(runtime) -> None:
    inputs = {"items": [1, 2]}
    letter = add(runtime.dlq, payload=inputs)
    inputs["items"].append(3)
    assert runtime.dlq.get(letter.id).payload == {"items": [1, 2]}


def test_a_payload_that_is_not_json_is_kept_as_its_repr(runtime) -> None:
    letter = add(runtime.dlq, payload={"when": object})
    assert letter.payload == {"when": repr(object)} and letter.payload_exact is False


def test_to_dict_and_from_dict_round_trip(runtime) -> None:
    letter = add(runtime.dlq, event=Event("order.created", {"id": 1}))
    assert DeadLetter.from_dict(letter.to_dict()) == letter


def test_adding_publishes_dlq_added_with_correlation(runtime) -> None:
    letter = add(runtime.dlq)
    [event] = events(runtime)
    assert event.type == "dlq.added"
    assert event.data["id"] == letter.id and event.data["source"] == "task"
    assert (event.workflow, event.run_id, event.trace_id) == ("orders", "run-1", "t" * 32)


# -- reading ----------------------------------------------------------------------


def test_get_of_an_unknown_id_raises_naming_it(runtime) -> None:
    with pytest.raises(DeadLetterNotFound) as info:
        runtime.dlq.get("dl-nope")
    assert "dl-nope" in str(info.value) and info.value.letter_id == "dl-nope"
    assert isinstance(info.value, KeyError) and isinstance(info.value, FlowError)


def test_list_filters_by_every_field(runtime) -> None:
    a = add(runtime.dlq)
    b = add(runtime.dlq, workflow="billing", source="handler", error=raised(int, "x"))
    q = runtime.dlq
    assert q.list() == [a, b]
    assert q.list(workflow="billing") == [b]
    assert q.list(source="task") == [a]
    assert q.list(error_type="ValueError") == [b]
    assert q.list(fingerprint=a.fingerprint) == [a]
    assert q.list(status="dead", workflow=None) == [a, b]
    assert q.count_matching(workflow="orders") == 1


def test_an_unknown_filter_is_refused_with_the_known_ones(runtime) -> None:
    with pytest.raises(DeadLetterFilterError, match="colour"):
        runtime.dlq.list(colour="red")


# -- retry ------------------------------------------------------------------------


def test_retry_success_resolves_the_letter_with_events(runtime) -> None:
    runs: list[dict] = []
    runtime.dlq.register_retrier("task", lambda letter: runs.append(letter.payload))
    letter = add(runtime.dlq)
    done = runtime.dlq.retry(letter.id, actor="alice", reason="fixed the card check")
    assert runs == [{"inputs": {"amount": 5}}]
    assert done.status == "resolved" and runtime.dlq.get(letter.id) == done
    assert [e.type for e in events(runtime)] == ["dlq.added", "dlq.retried", "dlq.resolved"]
    retried = events(runtime)[1]
    assert (retried.data["actor"], retried.data["reason"]) == ("alice", "fixed the card check")
    assert [a.action for a in done.history] == ["added", "retry", "resolved"]


def test_retry_failure_puts_the_letter_back_with_one_more_attempt(runtime, fake_clock) -> None:
    runtime.dlq.register_retrier("task", lambda letter: int("still broken"))
    letter = add(runtime.dlq)
    fake_clock.advance(30)
    back = runtime.dlq.retry(letter.id)
    assert back.status == "dead" and back.attempts == letter.attempts + 1
    assert back.error_type == "ValueError" and "still broken" in back.error
    assert back.last_failure == letter.first_failure + 30 and back.first_failure == letter.first_failure
    assert [e.type for e in events(runtime)][-1] == "dlq.retry_failed"


def test_a_letter_being_retried_cannot_be_retried_again_at_the_same_time(runtime) -> None:
    inside = threading.Event()
    release = threading.Event()

    def slow(letter: DeadLetter) -> None:
        inside.set()
        release.wait(5)

    runtime.dlq.register_retrier("task", slow)
    letter = add(runtime.dlq)
    worker = threading.Thread(target=runtime.dlq.retry, args=(letter.id,))
    worker.start()
    try:
        assert inside.wait(5)
        assert runtime.dlq.get(letter.id).status == "retrying"
        with pytest.raises(DeadLetterBusyError):
            runtime.dlq.retry(letter.id)
        with pytest.raises(DeadLetterBusyError):
            runtime.dlq.discard(letter.id, "no")
    finally:
        release.set()
        worker.join(5)
    assert runtime.dlq.get(letter.id).status == "resolved"


def test_concurrent_retries_run_the_unit_once(runtime) -> None:
    runs: list[str] = []
    gate = threading.Event()

    def retrier(letter: DeadLetter) -> None:
        runs.append(letter.id)
        gate.wait(5)

    runtime.dlq.register_retrier("task", retrier)
    letter = add(runtime.dlq)
    barrier = threading.Barrier(8)
    outcomes: list[str] = []

    def attempt() -> None:
        barrier.wait(5)
        try:
            runtime.dlq.retry(letter.id)
            outcomes.append("ran")
        except DeadLetterBusyError:
            outcomes.append("busy")
        except DeadLetterStateError:
            outcomes.append("done")

    threads = [threading.Thread(target=attempt) for _ in range(8)]
    for t in threads:
        t.start()
    while not runs and any(t.is_alive() for t in threads):
        threading.Event().wait(0.001)
    gate.set()
    for t in threads:
        t.join(5)
    assert runs == [letter.id]
    assert outcomes.count("ran") == 1


def test_an_interrupted_retry_puts_the_letter_back(runtime) -> None:
    def interrupt(letter: DeadLetter) -> None:
        raise KeyboardInterrupt

    runtime.dlq.register_retrier("task", interrupt)
    letter = add(runtime.dlq)
    with pytest.raises(KeyboardInterrupt):
        runtime.dlq.retry(letter.id)
    back = runtime.dlq.get(letter.id)
    assert back.status == "dead" and "interrupted" in back.error


def test_a_unit_failing_again_inside_its_retry_is_not_dead_lettered_twice(runtime) -> None:
    def retrier(letter: DeadLetter) -> None:
        error = raised(charge, 7)
        runtime.dlq.add(source="task", unit="charge", error=error, payload=letter.payload)
        raise error

    runtime.dlq.register_retrier("task", retrier)
    letter = add(runtime.dlq)
    back = runtime.dlq.retry(letter.id)
    assert len(runtime.dlq) == 1 and back.status == "dead" and back.error == "card declined for 7"


def test_retry_without_a_retrier_names_the_source_and_changes_nothing(runtime) -> None:
    letter = add(runtime.dlq, source="pool")
    with pytest.raises(NoRetrierError, match="'pool'"):
        runtime.dlq.retry(letter.id)
    assert runtime.dlq.get(letter.id).status == "dead"


def test_a_resolved_letter_cannot_be_retried_again(runtime) -> None:
    runtime.dlq.register_retrier("task", lambda letter: None)
    letter = add(runtime.dlq)
    runtime.dlq.retry(letter.id)
    with pytest.raises(DeadLetterStateError, match="resolved"):
        runtime.dlq.retry(letter.id)


def test_retry_of_an_unknown_id_raises_not_found(runtime) -> None:
    with pytest.raises(DeadLetterNotFound):
        runtime.dlq.retry("dl-missing")


# -- discard and edit ---------------------------------------------------------------


def test_discard_keeps_the_letter_marked_with_who_and_why(runtime) -> None:
    letter = add(runtime.dlq)
    gone = runtime.dlq.discard(letter.id, "duplicate order", actor="bob")
    assert gone.status == "discarded"
    assert (gone.history[-1].actor, gone.history[-1].reason) == ("bob", "duplicate order")
    event = events(runtime)[-1]
    assert event.type == "dlq.discarded" and event.data["reason"] == "duplicate order"


def test_edit_payload_then_retry_uses_the_edited_inputs(runtime) -> None:
    seen: list[dict] = []
    runtime.dlq.register_retrier("task", lambda letter: seen.append(letter.payload))
    letter = add(runtime.dlq)
    runtime.dlq.edit_payload(letter.id, {"inputs": {"amount": 4}}, actor="carol", reason="typo")
    runtime.dlq.retry(letter.id)
    assert seen == [{"inputs": {"amount": 4}}]
    assert "dlq.edited" in [e.type for e in events(runtime)]


def test_edit_payload_refuses_what_json_cannot_hold(runtime) -> None:
    letter = add(runtime.dlq)
    with pytest.raises(DeadLetterPayloadError, match=letter.id):
        runtime.dlq.edit_payload(letter.id, {"x": object()})
    assert runtime.dlq.get(letter.id).payload == {"inputs": {"amount": 5}}


# -- bulk -------------------------------------------------------------------------


def test_retry_matching_retries_every_dead_match_and_reports(runtime) -> None:
    runtime.dlq.register_retrier("task", lambda letter: letter.payload["ok"] or int("x"))
    good = add(runtime.dlq, payload={"ok": True})
    bad = add(runtime.dlq, payload={"ok": False})
    other = add(runtime.dlq, workflow="billing", payload={"ok": True})
    assert runtime.dlq.count_matching(workflow="orders") == 2
    outcome = runtime.dlq.retry_matching(workflow="orders", expect=2, actor="ops")
    assert outcome.matched == 2
    assert outcome.succeeded == (good.id,) and outcome.failed == (bad.id,)
    assert runtime.dlq.get(other.id).status == "dead"


def test_a_bulk_action_does_nothing_when_the_count_changed(runtime) -> None:
    add(runtime.dlq)
    add(runtime.dlq)
    with pytest.raises(DeadLetterCountChanged) as info:
        runtime.dlq.discard_matching("cleanup", workflow="orders", expect=1)
    assert (info.value.expected, info.value.found) == (1, 2)
    assert runtime.dlq.count_matching(status="dead") == 2


def test_discard_matching_by_fingerprint(runtime) -> None:
    a = add(runtime.dlq)
    add(runtime.dlq, error=raised(int, "x"))
    outcome = runtime.dlq.discard_matching("known issue", fingerprint=a.fingerprint, actor="ops")
    assert outcome.succeeded == (a.id,)
    assert runtime.dlq.count_matching(status="discarded") == 1


# -- capacity -----------------------------------------------------------------------


def test_past_capacity_the_oldest_letter_is_evicted_with_an_event(runtime) -> None:
    queue = DeadLetterQueue(runtime, capacity=2)
    first = add(queue)
    add(queue)
    add(queue)
    assert len(queue) == 2 and queue.evicted == 1
    evicted = [e for e in events(runtime) if e.type == "dlq.evicted"]
    assert [e.data["id"] for e in evicted] == [first.id]


def test_settled_letters_are_evicted_before_dead_ones(runtime) -> None:
    queue = DeadLetterQueue(runtime, capacity=2)
    dead = add(queue)
    settled = add(queue)
    queue.discard(settled.id, "noise")
    add(queue)
    assert [e.data["id"] for e in events(runtime) if e.type == "dlq.evicted"] == [settled.id]
    assert queue.get(dead.id).status == "dead"


def test_a_letter_being_retried_is_never_evicted(runtime) -> None:
    queue = DeadLetterQueue(runtime, capacity=1)
    letter = add(queue)

    def retrier(current: DeadLetter) -> None:
        add(queue, unit="other")

    queue.register_retrier("task", retrier)
    assert queue.retry(letter.id).status == "resolved"
    assert queue.get(letter.id).status == "resolved"


# -- the seed's API and the store interface -------------------------------------------------


def test_seed_send_and_get_messages(runtime, fake_clock) -> None:
    queue = DeadLetterQueue(runtime)
    queue.send({"call": 1, "error": "API call failed"})
    messages = queue.get_messages()
    assert messages == [{"message": {"call": 1, "error": "API call failed"}, "timestamp": fake_clock.time()}]
    assert queue.list()[0].error == "API call failed"


def test_a_queue_over_a_store_sees_the_letters_already_in_it(runtime) -> None:
    store = InMemoryDeadLetterStore()
    first = DeadLetterQueue(runtime, store=store)
    letter = add(first)
    second = DeadLetterQueue(runtime, store=store)
    assert second.get(letter.id) == letter and len(second) == 1


def test_runtime_dlq_is_one_queue_for_the_runtime(runtime) -> None:
    assert runtime.dlq is runtime.dlq and runtime.dlq.runtime is runtime


def test_capacity_must_be_positive(runtime) -> None:
    with pytest.raises(FlowError, match="capacity"):
        DeadLetterQueue(runtime, capacity=0)


def test_an_unknown_status_filter_names_the_statuses(runtime) -> None:
    with pytest.raises(DeadLetterFilterError, match="resolved"):
        runtime.dlq.list(status="done")


def test_bulk_actions_apply_to_dead_letters_only(runtime) -> None:
    with pytest.raises(DeadLetterStateError, match="dead letters only"):
        runtime.dlq.retry_matching(status="resolved")


def test_a_letter_left_retrying_by_a_crashed_process_is_dead_again_on_restart(runtime) -> None:
    store = InMemoryDeadLetterStore()
    first = DeadLetterQueue(runtime, store=store)
    letter = add(first)
    store.put(DeadLetter.from_dict({**letter.to_dict(), "status": "retrying"}))
    restarted = DeadLetterQueue(runtime, store=store)
    recovered = restarted.get(letter.id)
    assert recovered.status == "dead" and recovered.history[-1].action == "recovered"
    restarted.register_retrier("task", lambda current: None)
    assert restarted.retry(letter.id).status == "resolved"
