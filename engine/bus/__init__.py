"""The event bus: publish/subscribe that every part of the engine rides on.

Holds the bus (`event_bus`), its asynchronous and batched deliveries
(`async_delivery`, `batch_delivery`) and its errors (`errors`).
May import: the kernel (`engine.errors`, `engine.events`, `engine.tally`) only.
"""

from .event_bus import AsyncSubscription, EventBus, SubscriptionError

__all__ = [
    "AsyncSubscription",
    "EventBus",
    "SubscriptionError",
]
