"""Commands: intent written into the store, carried out once by the owner."""

from __future__ import annotations

import threading

import pytest

from engine import Engine, EventBus, FakeClock, Runtime
from engine.host.commands import CommandServer
from engine.store import CommandBook, CommandStatus, Store


@pytest.fixture
def book(tmp_path):
    state = tmp_path / "state"
    Store.open(state).close()
    return CommandBook(state)


def test_a_submitted_command_is_pending_until_claimed(book):
    command = book.submit("dlq.retry", {"id": "dl-1"}, actor="ana", reason="fixed", now=100.0, timeout=5)
    stored = book.get(command.id)
    assert stored.status == CommandStatus.PENDING
    assert (stored.kind, stored.args, stored.actor, stored.reason) == ("dlq.retry", {"id": "dl-1"}, "ana", "fixed")
    assert stored.deadline == 105.0


def test_only_one_of_two_claimers_wins_a_command(book):
    book.submit("run.cancel", {"run_id": "r"}, actor="a", reason=None, now=100.0, timeout=5)
    won: list[object] = []
    barrier = threading.Barrier(2)

    def claim(owner: str) -> None:
        barrier.wait()
        won.extend(book.claim(owner, 101.0))

    threads = [threading.Thread(target=claim, args=(name,)) for name in ("one", "two")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(won) == 1 and won[0].status == CommandStatus.ACCEPTED


def test_a_command_past_its_deadline_is_never_claimed(book):
    command = book.submit("run.cancel", {"run_id": "r"}, actor="a", reason=None, now=100.0, timeout=5)
    assert book.claim("owner", 105.0) == []
    assert book.expire(105.0) == 1
    assert book.get(command.id).status == CommandStatus.EXPIRED


def test_a_new_owner_fails_what_a_dead_owner_accepted_and_expires_what_is_overdue(book):
    accepted = book.submit("dlq.retry", {"id": "a"}, actor="a", reason=None, now=100.0, timeout=60)
    book.claim("dead-owner", 101.0)
    overdue = book.submit("dlq.retry", {"id": "b"}, actor="a", reason=None, now=100.0, timeout=5)
    waiting = book.submit("dlq.retry", {"id": "c"}, actor="a", reason=None, now=150.0, timeout=60)
    assert book.settle_after_restart(160.0) == (1, 1)
    assert book.get(accepted.id).status == CommandStatus.FAILED
    assert "outcome is unknown" in book.get(accepted.id).error
    assert book.get(overdue.id).status == CommandStatus.EXPIRED
    assert book.get(waiting.id).status == CommandStatus.PENDING


def test_an_outcome_is_recorded_once(book):
    command = book.submit("run.cancel", {"run_id": "r"}, actor="a", reason=None, now=100.0, timeout=5)
    book.claim("owner", 101.0)
    book.finish(command.id, now=102.0, result={"cancelled": True})
    book.finish(command.id, now=103.0, error="late second outcome")
    ended = book.get(command.id)
    assert (ended.status, ended.result, ended.error, ended.finished) == (CommandStatus.DONE, {"cancelled": True}, None, 102.0)


def _server(tmp_path, clock):
    runtime = Runtime(EventBus(), clock)
    engine = Engine(None, runtime=runtime, watch=False, schedules=False)
    state = tmp_path / "state"
    store = Store.open(state).attach(runtime)
    return engine, store, CommandServer(engine, CommandBook(state), "test-owner", clock=clock.time)


def _serve(server, book, command_id):
    server.serve_once()
    server.stop()
    return book.get(command_id)


def test_an_unknown_command_kind_fails_with_a_message_naming_it(tmp_path):
    clock = FakeClock(start=1000.0)
    engine, store, server = _server(tmp_path, clock)
    book = CommandBook(tmp_path / "state")
    command = book.submit("dlq.explode", {}, actor="a", reason=None, now=clock.time(), timeout=5)
    ended = _serve(server, book, command.id)
    store.close()
    assert ended.status == CommandStatus.FAILED and "unknown command kind 'dlq.explode'" in ended.error


def test_a_command_for_a_letter_that_does_not_exist_fails_naming_it(tmp_path):
    clock = FakeClock(start=1000.0)
    engine, store, server = _server(tmp_path, clock)
    book = CommandBook(tmp_path / "state")
    command = book.submit("dlq.retry", {"id": "dl-missing"}, actor="a", reason=None, now=clock.time(), timeout=5)
    ended = _serve(server, book, command.id)
    store.close()
    assert ended.status == CommandStatus.FAILED and "dl-missing" in ended.error


def test_a_command_missing_an_argument_fails_and_the_server_keeps_serving(tmp_path):
    clock = FakeClock(start=1000.0)
    engine, store, server = _server(tmp_path, clock)
    book = CommandBook(tmp_path / "state")
    bad = book.submit("breaker.reset", {}, actor="a", reason=None, now=clock.time(), timeout=5)
    engine.runtime.breakers.get_or_create("payments")
    good = book.submit("breaker.reset", {"name": "payments"}, actor="a", reason=None, now=clock.time(), timeout=5)
    server.serve_once()
    server.stop()
    store.close()
    assert "missing argument 'name'" in book.get(bad.id).error
    assert book.get(good.id).status == CommandStatus.DONE


def test_a_malformed_command_row_fails_with_a_message(tmp_path):
    clock = FakeClock(start=1000.0)
    engine, store, server = _server(tmp_path, clock)
    book = CommandBook(tmp_path / "state")
    command = book.submit("run.cancel", {"run_id": "r"}, actor="a", reason=None, now=clock.time(), timeout=5)
    with book._conn() as conn:
        conn.execute("UPDATE commands SET args = '[1, 2' WHERE id = ?", (command.id,))
    ended = _serve(server, book, command.id)
    store.close()
    assert ended.status == CommandStatus.FAILED and "malformed command row" in ended.error


def test_a_discard_without_a_reason_fails(tmp_path):
    clock = FakeClock(start=1000.0)
    engine, store, server = _server(tmp_path, clock)
    letter = engine.runtime.dlq.add(source="task", unit="charge", error=ValueError("x"), workflow="billing")
    book = CommandBook(tmp_path / "state")
    command = book.submit("dlq.discard", {"id": letter.id}, actor="a", reason=None, now=clock.time(), timeout=5)
    ended = _serve(server, book, command.id)
    store.close()
    assert ended.status == CommandStatus.FAILED and "needs a reason" in ended.error
