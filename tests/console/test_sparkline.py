"""Sparklines: buckets of a fixed stretch of time, so a quiet series draws the same line."""

from __future__ import annotations

from console.state.metrics import History
from console.widgets.breaker_board import sparkline


def _drawn(history: History, width: int = 4) -> str:
    return "".join(c for c, _ in sparkline(list(history), width, capacity=history.limit, dropped=history.dropped))


def _history(values: list[float], limit: int = 12) -> History:
    history = History(limit)
    for value in values:
        history.append(value)
    return history


def test_a_history_counts_every_value_it_was_given_and_what_it_dropped() -> None:
    history = _history(list(range(15)))
    assert (len(history), history.recorded, history.dropped, history[-1]) == (12, 15, 3, 14.0)


def test_without_a_capacity_the_values_split_into_the_width_as_they_are() -> None:
    assert [top for _, top in sparkline([1, 2, 3, 4], 2)] == [2, 4]


def test_each_bucket_holds_a_fixed_share_of_the_capacity_while_the_history_fills() -> None:
    # 12 values over 4 bars: 3 a bar, from the first value on.
    assert [top for _, top in sparkline([5, 1, 1, 7], 4, capacity=12)] == [0.0, 0.0, 5, 7]


def test_a_spike_stays_in_its_bar_as_reads_arrive_until_its_bar_scrolls_by_whole() -> None:
    history = _history([0.0] * 12)
    history.append(8.0)
    drawn = []
    for _ in range(3):
        drawn.append(_drawn(history))
        history.append(0.0)
    # The spike's bar is the newest until three reads have filled it, then it moves left by a whole bar.
    assert drawn[0] == drawn[1] == drawn[2] == "   █"
    assert _drawn(history) == "  █ "


def test_a_bar_partly_dropped_from_the_history_is_not_drawn() -> None:
    history = _history([0.0, 9.0] + [1.0] * 11)
    # Reads 0-2 make a bar; read 0 is gone, so the 9 in read 1 is not drawn (nor scales the rest).
    tops = [top for _, top in sparkline(list(history), 4, capacity=12, dropped=history.dropped)]
    assert 9.0 not in tops and _drawn(history) == "████"


def test_a_quiet_series_draws_the_same_line_from_one_read_to_the_next() -> None:
    history = _history([0.0] * 30)
    before = _drawn(history)
    history.append(0.0)
    assert _drawn(history) == before
