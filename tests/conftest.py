"""Shared fixtures. The repository root is first on sys.path (tests/ is a
package), so `engine` and `console` are this repository's, never an
unrelated installed distribution of the same name."""

from __future__ import annotations

import pytest

from engine import EventBus, FakeClock, Runtime


@pytest.fixture
def fake_clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def runtime(fake_clock: FakeClock):
    rt = Runtime(EventBus(enable_event_sourcing=True), fake_clock)
    yield rt
    rt.bus.close()


@pytest.fixture
def rt():
    """A runtime on the real clock, event sourcing on (for threads and timeouts)."""
    runtime = Runtime(EventBus(enable_event_sourcing=True))
    yield runtime
    runtime.bus.close()
