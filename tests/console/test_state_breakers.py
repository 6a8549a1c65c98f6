"""The breaker board state: tiles from events and snapshots, ordering, timers."""

from __future__ import annotations

from engine import Event, FakeClock

from console.state.breakers import SNAPSHOT_EVENT, BreakerBoardState

T0 = 1_700_000_000.0


def snapshot(name, *, state="closed", rate=0.0, window=0, calls=0, retry_after=None, timeline=None):
    ok, bad, rej = timeline or ([0] * 120, [0] * 120, [0] * 120)
    return {
        "name": name, "state": state, "override": None, "mode": "rate", "failure_rate": rate,
        "window_calls": window, "consecutive_failures": 0, "probes_in_flight": 0,
        "retry_after": retry_after, "calls": calls, "rejections": 2,
        "config": {"minimum_calls": 10, "half_open_max_calls": 3, "failure_threshold": 5},
        "latency": {"p50": 0.01, "p99": 0.2},
        "timeline": {"seconds": 120, "successes": ok, "failures": bad, "rejections": rej},
    }


def test_snapshot_fills_a_tile():
    board = BreakerBoardState(FakeClock(T0))
    board.apply_snapshots([snapshot("pay", rate=50.0, window=8, calls=40)])
    tile = board.tiles["pay"]
    assert (tile.failure_rate, tile.window_calls, tile.minimum_calls, tile.p99) == (50.0, 8, 10, 0.2)
    assert tile.half_open_max_calls == 3 and tile.rejections == 2


def test_tiles_sort_by_error_rate_then_volume():
    board = BreakerBoardState(FakeClock(T0))
    board.apply_snapshots([
        snapshot("a", rate=10.0, window=5), snapshot("b", rate=80.0, window=1),
        snapshot("c", rate=10.0, window=9),
    ])
    assert [t.name for t in board.ordered()] == ["b", "c", "a"]


def test_opened_event_sets_state_and_time_until_half_open():
    clock = FakeClock(T0)
    board = BreakerBoardState(clock)
    board.apply([Event("breaker.opened", {"breaker": "pay", "retry_after": 30.0, "reason": "rate"}, ts=T0)])
    clock.advance(10)
    tile = board.tiles["pay"]
    assert tile.state == "open"
    assert board.time_until_half_open(tile) == 20


def test_forced_event_records_override_and_actor():
    board = BreakerBoardState(FakeClock(T0))
    board.apply([Event("breaker.forced", {"breaker": "pay", "override": "forced_open", "state": "open",
                                          "actor": "ops", "reason": "maintenance"}, ts=T0)])
    tile = board.tiles["pay"]
    assert (tile.state, tile.override, tile.forced_by, tile.last_reason) == ("open", "forced_open", "ops", "maintenance")
    assert board.time_until_half_open(tile) is None


def test_closed_event_clears_the_timer():
    board = BreakerBoardState(FakeClock(T0))
    board.apply([
        Event("breaker.opened", {"breaker": "pay", "retry_after": 30.0}, ts=T0),
        Event("breaker.closed", {"breaker": "pay"}, ts=T0 + 31),
    ])
    assert board.tiles["pay"].retry_after_at is None


def test_outcomes_give_the_failure_share_per_second():
    board = BreakerBoardState(FakeClock(T0))
    board.apply([Event(SNAPSHOT_EVENT, snapshot("pay", timeline=([3, 0, 1], [1, 0, 0], [0, 0, 1])), ts=T0)])
    tile = board.tiles["pay"]
    assert board.outcomes(tile) == [0.25, 0.0, 0.5]
    assert board.volume(tile) == [4.0, 0.0, 2.0]
