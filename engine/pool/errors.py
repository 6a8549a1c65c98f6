"""The errors a worker pool raises: no room for more work, or settings that cannot work."""

from __future__ import annotations

from ..errors import FlowError


class QueueFull(FlowError):
    """A bounded pool had no room for more work (at once, or within the timeout)."""

    def __init__(self, pool: str, capacity: int, timeout: float | None) -> None:
        waited = f" after waiting {timeout}s" if timeout else ""
        super().__init__(f"pool {pool!r} is full ({capacity} queued){waited}")
        self.pool = pool
        self.capacity = capacity
        self.timeout = timeout


class PoolConfigError(FlowError, ValueError):
    """A pool was given settings that cannot work."""
