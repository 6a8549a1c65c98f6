"""View state: pure reducers from engine events to what the console shows.

Each reducer takes a batch of events in ``apply(events)`` and returns whether
anything it shows changed, so the app refreshes only the views that need it.
Reducers never import textual; values that depend on the time ("3 s ago",
"events per second") read an injected `engine.Clock`, so tests are exact.
Reducers are used on the UI thread only and need no locks.
"""

from __future__ import annotations

from typing import Protocol, Sequence

from engine import Event


class ViewState(Protocol):
    """What the bridge feeds: a reducer of event batches."""

    def apply(self, events: Sequence[Event]) -> bool:
        """Fold ``events`` into the state; True when something shown changed."""
        ...


def ago(seconds: float) -> str:
    """A short "time ago" text: ``4s``, ``12m``, ``3h``, ``2d``."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < 86400:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // 86400)}d"


def duration(seconds: float | None) -> str:
    """A short duration: ``850ms``, ``2.31s``, ``4m05s``; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 1:
        return f"{seconds * 1000:.0f}ms"
    if seconds < 60:
        return f"{seconds:.2f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s"


def count(n: int, noun: str, plural: str | None = None) -> str:
    """``1 saga run``, ``2 saga runs``: ``n`` and the noun that agrees with it."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


__all__ = ["ViewState", "ago", "count", "duration"]
