"""Text of an exception that never fails to be made.

An exception's ``__str__`` is workflow code: it may raise, or return
something that is not a string. Everything that reports an error (the bus's
``handler.error``, dead letters, retry events, log records) takes its
message from `error_message`, so reporting one failure can never become a
second one.
"""

from __future__ import annotations

from typing import Callable

UNPRINTABLE = "<the error could not be formatted>"


def error_message(exc: BaseException) -> str:
    """``str(exc)``; if that fails, the type name and ``repr``; then a fixed text."""
    text = _rendered(str, exc)
    if text is not None:
        return text
    shown = _rendered(repr, exc)
    if shown is not None:
        return f"{_type_name(exc)} (str() failed): {shown}"
    return f"{_type_name(exc)}: {UNPRINTABLE}"


def _rendered(render: Callable[[object], object], exc: BaseException) -> str | None:
    try:
        text = render(exc)
    except Exception:  # noqa: BLE001 - any failure of __str__/__repr__ means: try the next form
        return None
    return text if isinstance(text, str) else None


def error_line(exc: BaseException) -> str:
    """``"Type: message"`` for ``exc``, never failing."""
    return f"{_type_name(exc)}: {error_message(exc)}"


def _type_name(exc: BaseException) -> str:
    name = getattr(type(exc), "__name__", None)
    return name if isinstance(name, str) else "Exception"
