"""Event-driven workflows: handlers that react to events and emit more.

The seed's `EventDrivenWorkflow` API: ``on_event`` registers a handler,
``emit`` publishes, ``state`` is a dict the handlers share, and
``event_bus`` is an event-sourced bus that can be replayed. Cascades are
delivered breadth-first by the bus, so a long chain of handlers that emit
never recurses.
"""

from __future__ import annotations

from typing import Any, Callable

from .bus import EventBus, Handler
from .events import Event


class EventDrivenWorkflow:
    """Loosely coupled handlers joined by an event-sourced bus.

    By default the workflow has a bus of its own with event sourcing on, as in
    the seed. Pass ``bus=`` to share one (the engine's), so its events show up
    wherever that bus is watched. ``subscriptions`` lists the (pattern,
    handler) pairs registered, so a loader can detach them on unload.
    """

    def __init__(self, name: str | None = None, bus: EventBus | None = None) -> None:
        self.name = name
        self.event_bus = bus if bus is not None else EventBus(enable_event_sourcing=True)
        self.state: dict[str, Any] = {}
        self.subscriptions: list[tuple[str, Handler]] = []

    def on_event(self, event_type: str) -> Callable[[Handler], Handler]:
        """Decorator: run the decorated function for every matching event."""

        def decorator(func: Handler) -> Handler:
            self.event_bus.subscribe(event_type, func)
            self.subscriptions.append((event_type, func))
            return func

        return decorator

    def emit(self, event_type: str, data: dict[str, Any] | None = None) -> Event:
        """Publish an event of ``event_type`` carrying ``data``."""
        event = Event(event_type, data if data is not None else {}, workflow=self.name)
        self.event_bus.publish(event)
        return event

    def detach(self) -> None:
        """Unsubscribe every handler this workflow registered."""
        for pattern, handler in self.subscriptions:
            self.event_bus.unsubscribe(pattern, handler)
        self.subscriptions.clear()
