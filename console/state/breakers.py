"""View state of the circuit-breaker board (after the Hystrix dashboard).

Breakers publish an event only when their state changes (``breaker.opened``,
``breaker.half_opened``, ``breaker.closed``, ``breaker.forced``); the
per-call counters, latency percentiles and the 120-second outcome timeline
live in ``CircuitBreaker.snapshot()``. The board polls the registry's
public ``snapshots()`` about once a second off the UI thread and hands the
result to `BreakerBoardState.apply_snapshots`; recorded sessions carry the
same dicts as ``console.breaker.snapshot`` events (a console-only type,
never published on an engine bus). Only the UI thread calls the reducers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

from engine.clock import SYSTEM_CLOCK, Clock
from engine.events import Event

SNAPSHOT_EVENT = "console.breaker.snapshot"

_STATE_OF_EVENT = {"breaker.opened": "open", "breaker.half_opened": "half_open", "breaker.closed": "closed"}


@dataclass(slots=True)
class BreakerTile:
    """What one tile shows."""

    name: str
    state: str = "closed"
    override: str | None = None
    mode: str = "consecutive"
    failure_rate: float = 0.0
    window_calls: int = 0
    minimum_calls: int | None = None
    failure_threshold: int | None = None
    consecutive_failures: int = 0
    calls: int = 0
    rejections: int = 0
    probes_in_flight: int = 0
    half_open_max_calls: int | None = None
    retry_after: float | None = None
    retry_after_at: float | None = None
    p50: float | None = None
    p99: float | None = None
    successes_timeline: list[int] = field(default_factory=list)
    failures_timeline: list[int] = field(default_factory=list)
    rejections_timeline: list[int] = field(default_factory=list)
    last_change: float | None = None
    last_reason: str | None = None
    forced_by: str | None = None


class BreakerBoardState:
    """Breaker tiles folded from state-change events and polled snapshots."""

    def __init__(self, clock: Clock | None = None) -> None:
        self.clock = clock or SYSTEM_CLOCK
        self.tiles: dict[str, BreakerTile] = {}

    def _tile(self, name: str) -> BreakerTile:
        tile = self.tiles.get(name)
        if tile is None:
            tile = self.tiles[name] = BreakerTile(name)
        return tile

    def apply(self, events: Iterable[Event]) -> bool:
        """Fold a batch of events; True when anything this view shows changed."""
        changed = False
        for event in events:
            kind = event.type
            if kind == SNAPSHOT_EVENT:
                self._on_snapshot(event.data, event.ts)
                changed = True
            elif kind.startswith("breaker."):
                changed |= self._on_breaker(event)
        return changed

    def apply_snapshots(self, snapshots: Sequence[Mapping[str, Any]]) -> bool:
        """Fold the registry's ``snapshots()`` read just now."""
        now = self.clock.time()
        for snapshot in snapshots:
            self._on_snapshot(snapshot, now)
        return bool(snapshots)

    def _on_breaker(self, event: Event) -> bool:
        data = event.data
        name = data.get("breaker", data.get("name"))
        if name is None:
            return False
        tile = self._tile(str(name))
        kind = event.type
        if kind in _STATE_OF_EVENT:
            tile.state = _STATE_OF_EVENT[kind]
            if kind == "breaker.opened" and isinstance(data.get("retry_after"), (int, float)):
                tile.retry_after = float(data["retry_after"])
                tile.retry_after_at = event.ts + tile.retry_after
            elif kind != "breaker.opened":
                tile.retry_after = tile.retry_after_at = None
            if kind == "breaker.half_opened" and isinstance(data.get("max_probes"), int):
                tile.half_open_max_calls = data["max_probes"]
        elif kind == "breaker.forced":
            tile.override = _opt_str(data.get("override"))
            if data.get("state") is not None:
                tile.state = str(data["state"])
            tile.forced_by = _opt_str(data.get("actor"))
        else:
            return False
        tile.last_change = event.ts
        tile.last_reason = _opt_str(data.get("reason"))
        return True

    def _on_snapshot(self, snap: Mapping[str, Any], now: float) -> None:
        name = snap.get("name")
        if name is None:
            return
        tile = self._tile(str(name))
        config = snap.get("config") if isinstance(snap.get("config"), Mapping) else {}
        latency = snap.get("latency") if isinstance(snap.get("latency"), Mapping) else {}
        timeline = snap.get("timeline") if isinstance(snap.get("timeline"), Mapping) else {}
        tile.state = str(snap.get("state", tile.state))
        tile.override = _opt_str(snap.get("override"))
        tile.mode = str(snap.get("mode", tile.mode))
        tile.failure_rate = _num(snap.get("failure_rate"), 0.0)
        tile.window_calls = int(_num(snap.get("window_calls"), 0))
        tile.consecutive_failures = int(_num(snap.get("consecutive_failures"), 0))
        tile.calls = int(_num(snap.get("calls"), 0))
        tile.rejections = int(_num(snap.get("rejections"), 0))
        tile.probes_in_flight = int(_num(snap.get("probes_in_flight"), 0))
        tile.minimum_calls = _opt_int(config.get("minimum_calls"))
        tile.failure_threshold = _opt_int(config.get("failure_threshold"))
        tile.half_open_max_calls = _opt_int(config.get("half_open_max_calls")) or tile.half_open_max_calls
        retry_after = snap.get("retry_after")
        if isinstance(retry_after, (int, float)):
            tile.retry_after = float(retry_after)
            tile.retry_after_at = now + float(retry_after)
        else:
            tile.retry_after = tile.retry_after_at = None
        tile.p50 = _opt_float(latency.get("p50"))
        tile.p99 = _opt_float(latency.get("p99"))
        tile.successes_timeline = _ints(timeline.get("successes"))
        tile.failures_timeline = _ints(timeline.get("failures"))
        tile.rejections_timeline = _ints(timeline.get("rejections"))

    # -- questions the board asks -------------------------------------------

    def ordered(self) -> list[BreakerTile]:
        """Tiles by error rate, then volume (calls in the window), then name."""
        return sorted(self.tiles.values(), key=lambda t: (-t.failure_rate, -t.window_calls, -t.calls, t.name))

    def time_until_half_open(self, tile: BreakerTile) -> float | None:
        """Seconds until an open breaker may let a probe through, if it is open."""
        if tile.state != "open" or tile.retry_after_at is None or tile.override == "forced_open":
            return None
        return max(0.0, tile.retry_after_at - self.clock.time())

    def outcomes(self, tile: BreakerTile) -> list[float]:
        """Per-second failure share of calls (0..1) for the sparkline; rejections count as failures."""
        points: list[float] = []
        for ok, bad, rejected in zip(tile.successes_timeline, tile.failures_timeline, tile.rejections_timeline):
            total = ok + bad + rejected
            points.append(0.0 if total == 0 else (bad + rejected) / total)
        return points

    def volume(self, tile: BreakerTile) -> list[float]:
        """Calls per second over the timeline (for the sparkline's height)."""
        return [float(a + b + c) for a, b, c in zip(
            tile.successes_timeline, tile.failures_timeline, tile.rejections_timeline)]


def _num(value: Any, default: float) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return default


def _opt_float(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _opt_int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _ints(value: Any) -> list[int]:
    return [int(v) for v in value if isinstance(v, (int, float))] if isinstance(value, list) else []
