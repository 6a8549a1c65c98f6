"""JSON-friendly copies: what event data and journals may hold.

Event data must be plain JSON values (str, int, float, bool, None, lists and
dicts with string keys). `plain_copy` makes such a deep copy of a value, or
returns `NOT_PLAIN` when the value holds anything else, so callers can leave
it out instead of publishing a live object.
"""

from __future__ import annotations

from typing import Any

SCALARS = frozenset({str, int, float, bool, type(None)})
NOT_PLAIN: Any = object()


def plain_copy(value: Any) -> Any:
    """A JSON-friendly deep copy of ``value``, or `NOT_PLAIN`."""
    kind = type(value)
    if kind in SCALARS:
        return value
    if kind is dict:
        copied = {}
        for key, item in value.items():
            if type(key) is not str:
                return NOT_PLAIN
            item = plain_copy(item)
            if item is NOT_PLAIN:
                return NOT_PLAIN
            copied[key] = item
        return copied
    if kind is list or kind is tuple:
        items = [plain_copy(item) for item in value]
        return NOT_PLAIN if any(item is NOT_PLAIN for item in items) else items
    if isinstance(value, str):
        # A `StrEnum` state (a dead letter's status, a workflow's kind) is its text.
        return str(value)
    return NOT_PLAIN


def plain_or_none(value: Any) -> Any:
    """`plain_copy` of ``value``, or None when it is not JSON-friendly."""
    copied = plain_copy(value)
    return None if copied is NOT_PLAIN else copied
