"""Faults in handlers that must not break delivery: errors that cannot be
printed, and exits or interrupts raised from inside a cascade."""

from __future__ import annotations

import pytest

from engine import Event, EventBus, EventDrivenWorkflow, Runtime
from engine.error_text import UNPRINTABLE, error_message


class StrRaises(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str for you")


class NothingPrints(Exception):
    def __str__(self) -> str:
        raise RuntimeError("no str")

    def __repr__(self) -> str:
        raise RuntimeError("no repr")


def test_an_error_whose_str_raises_is_shown_by_type_and_repr() -> None:
    assert error_message(StrRaises("secret")) == "StrRaises (str() failed): StrRaises('secret')"


def test_an_error_whose_str_and_repr_raise_gets_a_fixed_text() -> None:
    assert error_message(NothingPrints()) == f"NothingPrints: {UNPRINTABLE}"


@pytest.mark.parametrize("error", [StrRaises("x"), NothingPrints()])
def test_a_handler_error_that_cannot_be_printed_does_not_break_publish(error: Exception) -> None:
    bus = EventBus()
    later: list[Event] = []
    reported: list[Event] = []

    def bad(event: Event) -> None:
        raise error

    bus.subscribe("thing", bad)
    bus.subscribe("thing", later.append)
    bus.subscribe("handler.error", reported.append)
    bus.emit("thing", {})

    assert [e.type for e in later] == ["thing"]
    assert len(reported) == 1
    assert reported[0].data["error_type"] == type(error).__name__
    assert reported[0].data["error"] == error_message(error)


def test_event_driven_second_handler_runs_and_a_dead_letter_is_made_for_an_unprintable_error() -> None:
    runtime = Runtime()
    flow = EventDrivenWorkflow("orders", runtime=runtime)
    ran: list[str] = []

    @flow.on_event("order.created")
    def first(event: Event) -> None:
        raise StrRaises("boom")

    @flow.on_event("order.created")
    def second(event: Event) -> None:
        ran.append(event.data["id"])

    flow.emit("order.created", {"id": "o-1"})

    assert ran == ["o-1"]
    letters = runtime.dlq.list()
    assert [(letter.unit, letter.error) for letter in letters] == [
        (first.__qualname__, "StrRaises (str() failed): StrRaises('boom')")
    ]


@pytest.mark.parametrize("stop", [SystemExit, KeyboardInterrupt])
def test_an_exit_from_a_handler_leaves_no_cascade_for_a_later_publish(stop: type[BaseException]) -> None:
    bus = EventBus()
    seen: list[str] = []

    def cascade(event: Event) -> None:
        bus.emit("queued.by.cascade", {})
        raise stop()

    bus.subscribe("start", cascade)
    bus.subscribe("*", lambda event: seen.append(event.type))
    with pytest.raises(stop):
        bus.emit("start", {})
    seen.clear()

    bus.emit("unrelated", {})

    assert seen == ["unrelated"]
