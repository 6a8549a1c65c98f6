"""W3C trace-context ids: 32 hex digits for a trace, 16 for a span.

Ids are drawn from a `random.Random` per thread, seeded from `os.urandom`:
as unpredictable across processes as `secrets`, but a fraction of its cost,
which matters because every span takes one or two. Each thread has its own
generator so no lock is needed and no two threads share a sequence. A
forked child drops every generator and re-seeds on first use, so parent and
child never produce the same ids.
"""

from __future__ import annotations

import os
import random
import threading

_INVALID_TRACE_ID = "0" * 32
_INVALID_SPAN_ID = "0" * 16


_local = threading.local()


def _forget_generators() -> None:
    global _local
    _local = threading.local()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_generators)


def _bits():
    try:
        return _local.getrandbits
    except AttributeError:
        bits = _local.getrandbits = random.Random(os.urandom(32)).getrandbits
        return bits


def new_trace_id() -> str:
    """A fresh trace id: 32 lowercase hex digits, never all zeros."""
    bits = _bits()
    value = bits(128)
    while not value:
        value = bits(128)
    return f"{value:032x}"


def new_span_id() -> str:
    """A fresh span id: 16 lowercase hex digits, never all zeros."""
    bits = _bits()
    value = bits(64)
    while not value:
        value = bits(64)
    return f"{value:016x}"


def is_trace_id(value: object) -> bool:
    """True for a valid W3C trace id (32 lowercase hex digits, not all zeros)."""
    return _is_hex(value, 32) and value != _INVALID_TRACE_ID


def is_span_id(value: object) -> bool:
    """True for a valid W3C span id (16 lowercase hex digits, not all zeros)."""
    return _is_hex(value, 16) and value != _INVALID_SPAN_ID


def _is_hex(value: object, length: int) -> bool:
    if not isinstance(value, str) or len(value) != length:
        return False
    return all(c in "0123456789abcdef" for c in value)
