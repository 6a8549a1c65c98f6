"""flowconsole's workflow engine: the public API.

Everything importable from here is public; every other module is private by
default. The engine never imports the console, textual or rich.
"""

from .bus import AsyncSubscription, EventBus, SubscriptionError
from .clock import Clock, FakeClock, SystemClock
from .errors import FlowError
from .event_driven import EventDrivenWorkflow
from .events import Event
from .retry import RetryPolicy, RetryPolicyError, RetryStrategy, backoff_delay
from .runtime import Runtime, current_runtime, use_runtime

__version__ = "0.1.0"

__all__ = [
    "AsyncSubscription",
    "Clock",
    "Event",
    "EventBus",
    "EventDrivenWorkflow",
    "FakeClock",
    "FlowError",
    "RetryPolicy",
    "RetryPolicyError",
    "RetryStrategy",
    "Runtime",
    "SubscriptionError",
    "SystemClock",
    "__version__",
    "backoff_delay",
    "current_runtime",
    "use_runtime",
]
