"""The dead-letter browser state: letters, filter, grouping, marks, bulk targets."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.dlq import DlqView

T0 = 1_700_000_000.0


def letter(lid, *, workflow="shop", unit="charge", fp="fp1", status="dead", attempts=3, ts=T0, **extra):
    data = {"id": lid, "source": "task", "workflow": workflow, "unit": unit, "error_type": "IOError",
            "error": "gateway down", "traceback": "Traceback...", "attempts": attempts,
            "first_failure": ts, "last_failure": ts, "fingerprint": fp, "status": status,
            "payload": {"inputs": {"amount": 3}}, **extra}
    return Event("dlq.added", data, workflow=workflow, ts=ts)


def view_with(*events) -> DlqView:
    view = DlqView(FakeClock(T0 + 60))
    view.apply(events)
    return view


def test_added_letter_is_listed_with_its_age():
    view = view_with(letter("d1"))
    (row,) = view.rows()
    assert (row.id, row.unit, row.attempts, row.status) == ("d1", "charge", 3, "dead")
    assert view.age(row) == 60


def test_id_only_events_imply_their_status():
    view = view_with(letter("d1"), Event("dlq.retried", {"id": "d1", "actor": "ops"}, ts=T0 + 1))
    assert view.letters["d1"].status == "retrying"
    view.apply([Event("dlq.resolved", {"id": "d1"}, ts=T0 + 2)])
    assert view.letters["d1"].status == "resolved"


def test_actions_without_a_history_in_data_are_recorded():
    view = view_with(letter("d1"), Event("dlq.discarded", {"id": "d1", "reason": "dup", "actor": "ops"}, ts=T0 + 1))
    last = view.letters["d1"].history[-1]
    assert last["action"] == "discarded" and last["reason"] == "dup" and last["actor"] == "ops"


def test_letter_record_in_event_replaces_the_old_one():
    view = view_with(letter("d1", attempts=3))
    view.apply([letter("d1", attempts=4, ts=T0 + 5)])
    assert view.letters["d1"].attempts == 4


def test_filter_words_must_all_match():
    view = view_with(letter("d1", unit="charge"), letter("d2", unit="ship", workflow="ops"))
    view.set_filter("ship ops")
    assert [x.id for x in view.rows()] == ["d2"]


def test_field_filter_matches_only_that_field():
    view = view_with(letter("d1", unit="charge"), letter("d2", unit="ship"))
    view.set_filter("unit:char")
    assert [x.id for x in view.rows()] == ["d1"]


def test_grouping_puts_the_largest_fingerprint_group_first():
    view = view_with(letter("d1", fp="b", ts=T0 + 3), letter("d2", fp="a", ts=T0 + 2), letter("d3", fp="a", ts=T0 + 1))
    view.group_by_fingerprint = True
    assert [x.id for x in view.rows()] == ["d2", "d3", "d1"]


def test_bulk_targets_are_marked_rows_else_filtered_dead_rows():
    view = view_with(letter("d1"), letter("d2"), letter("d3", status="resolved"))
    assert view.bulk_targets() == ["d1", "d2"]
    view.toggle_mark("d2")
    assert view.bulk_targets() == ["d2"]


def test_resolving_a_marked_letter_unmarks_it():
    view = view_with(letter("d1"))
    view.toggle_mark("d1")
    view.apply([Event("dlq.resolved", {"id": "d1"}, ts=T0 + 1)])
    assert view.marked == set()


def test_evicted_letter_disappears():
    view = view_with(letter("d1"), Event("dlq.evicted", {"id": "d1"}, ts=T0 + 1))
    assert view.rows() == [] and view.evicted == 1


def test_letter_nested_under_letter_key_is_read():
    view = view_with(Event("dlq.added", {"letter": {"id": "n1", "unit": "u", "status": "dead"}}, ts=T0))
    assert view.letters["n1"].unit == "u"
