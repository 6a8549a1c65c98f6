"""The engine's exceptions: one root, `FlowError`, and a subclass per failure.

Errors carry their evidence as attributes (the cycle, the task, the field), so
callers and the console can show more than a message. Where the basic API raised
`ValueError`, the subclass is also a `ValueError`, so the basic API's callers keep
working.
"""

from __future__ import annotations


class FlowError(Exception):
    """The root of every error the engine raises on purpose."""
