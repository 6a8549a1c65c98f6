"""The error the event bus raises for a subscription or event store asked for wrongly."""

from __future__ import annotations

from ..errors import FlowError


class SubscriptionError(FlowError, ValueError):
    """A subscription was asked for with an invalid pattern, mode or policy."""
