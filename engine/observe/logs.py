"""Structured logging: one JSON object per line, through the stdlib `logging`.

The basic API's ``StructuredLogger.log(level, message, **kwargs)`` works, called on
the class or on an instance, and writes one JSON object per line. It goes
through `logging` like every other record, so lines that workflow code
writes with plain ``logging.getLogger(...).info(...)`` come out the same way
once `install_json_logging` has put a `JsonFormatter` handler in place.

* `ContextFilter` stamps every record with the current ``run_id``,
  ``trace_id`` and ``span_id`` (from `engine.observe.tracing`'s ContextVars), so a
  log line can be found from its trace and the other way round.
* `BusLogHandler` publishes records as ``log.record`` events, so the console
  can show a run's logs beside its trace.

This module is named ``logs`` rather than ``logging`` so it never shadows the
standard library inside the package.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import traceback
from typing import IO, TYPE_CHECKING, Any

from ..events import Event
from ..visible_text import json_escaped, visible
from .trace_context import _current_run, _current_span
from ..error_text import error_message
from .errors import LogLevelError

if TYPE_CHECKING:
    from ..runtime import Runtime

LOG_RECORD = "log.record"
DEFAULT_LOGGER = "flowconsole.workflow"
# Every attribute a plain LogRecord has; anything else on a record was given
# through ``extra=`` and belongs in the JSON object.
_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", (), None).__dict__
) | {"message", "asctime", "fields", "run_id", "trace_id", "span_id", "workflow"}


def level_number(level: str | int) -> int:
    """The numeric level of ``"info"``, ``"WARNING"``, ``logging.ERROR``..."""
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str):
        number = logging.getLevelName(level.strip().upper())
        if isinstance(number, int):
            return number
    raise LogLevelError(level)


class ContextFilter(logging.Filter):
    """Adds ``run_id``, ``trace_id`` and ``span_id`` from context to each record.

    Attach it to a handler (handler filters see records from every logger
    that reaches the handler). Values already on the record (given through
    ``extra=``) are kept.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        span = _current_span.get()
        if getattr(record, "run_id", None) is None:
            record.run_id = _current_run.get()
        if getattr(record, "trace_id", None) is None:
            record.trace_id = span.trace_id if span is not None else None
        if getattr(record, "span_id", None) is None:
            record.span_id = span.span_id if span is not None else None
        if getattr(record, "workflow", None) is None:
            record.workflow = span.workflow if span is not None else None
        return True


def record_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The structured fields of a record: ``StructuredLogger`` kwargs and ``extra=``."""
    fields: dict[str, Any] = {}
    for key, value in record.__dict__.items():
        if key not in _STANDARD_ATTRS and not key.startswith("_"):
            fields[key] = value
    given = record.__dict__.get("fields")
    if given:
        fields.update(given)
    return fields


class _StructuredMessage:
    """A `StructuredLogger` record's message: its text, and its fields after it
    for formatters that print only ``%(message)s`` (a plain ``basicConfig``)."""

    __slots__ = ("text", "fields")

    def __init__(self, text: str, fields: dict[str, Any]) -> None:
        self.text = text
        self.fields = fields

    def __str__(self) -> str:
        if not self.fields:
            return self.text
        return f"{self.text} {json.dumps(self.fields, default=str, ensure_ascii=False)}"


def record_dict(record: logging.LogRecord) -> dict[str, Any]:
    """A record as a plain dict: the basic API's keys, the ids, the fields, the error."""
    span = _current_span.get()
    msg = record.msg
    entry: dict[str, Any] = {
        "timestamp": record.created,
        "level": record.levelname,
        "logger": record.name,
        "message": msg.text if isinstance(msg, _StructuredMessage) else record.getMessage(),
        "run_id": getattr(record, "run_id", None) or _current_run.get(),
        "trace_id": getattr(record, "trace_id", None) or (span.trace_id if span else None),
        "span_id": getattr(record, "span_id", None) or (span.span_id if span else None),
    }
    workflow = getattr(record, "workflow", None)
    if workflow is not None:
        entry["workflow"] = workflow
    if record.exc_info and record.exc_info[1] is not None:
        exc_type, exc, tb = record.exc_info
        entry["error_type"] = exc_type.__name__ if exc_type else type(exc).__name__
        entry["error"] = error_message(exc)
        entry["traceback"] = "".join(traceback.format_exception(exc_type, exc, tb))
    entry.update(record_fields(record))
    return entry


class JsonFormatter(logging.Formatter):
    """Formats each record as one line of JSON (values JSON cannot hold become strings).

    Control, C1 and bidi characters are written as ``\\u`` escapes: the
    line stays valid JSON and sends no raw control byte to a terminal.
    """

    def format(self, record: logging.LogRecord) -> str:
        return json_escaped(json.dumps(record_dict(record), default=str, ensure_ascii=False))


class PlainFormatter(logging.Formatter):
    """The stdlib's text format, with every control character made visible.

    A message or traceback carrying an error or name from a workflow file
    (``workflow file failed to load: ...``) can hold terminal escapes; they
    are shown as `engine.visible_text.visible` shows them (ESC as ``␛``),
    keeping the newlines of a traceback.
    """

    def format(self, record: logging.LogRecord) -> str:
        return visible(super().format(record), multiline=True)


def install_json_logging(
    logger: logging.Logger | str | None = None,
    *,
    level: str | int = logging.INFO,
    stream: IO[str] | None = None,
) -> logging.Handler:
    """Send ``logger``'s records (root by default) to ``stream`` as JSON lines.

    Returns the handler, for `uninstall_handler`. The stream defaults to
    stderr.
    """
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    handler = logging.StreamHandler(stream if stream is not None else sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(ContextFilter())
    target.addHandler(handler)
    number = level_number(level)
    if target.level == logging.NOTSET or target.level > number:
        target.setLevel(number)
    return handler


def uninstall_handler(handler: logging.Handler, logger: logging.Logger | str | None = None) -> None:
    """Remove a handler that `install_json_logging` or `attach_bus_logging` added."""
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    target.removeHandler(handler)
    handler.close()


class BusLogHandler(logging.Handler):
    """Publishes each record it handles as a ``log.record`` event.

    Records of the bus's own logger (``engine.bus.event_bus``) are not published: a
    failing ``log.record`` subscriber is logged there, and publishing that
    record would fail again, forever. A record logged while this handler is
    publishing on the same thread (by a subscriber) is not published either,
    for the same reason. ``_local`` holds that per-thread flag.
    """

    def __init__(self, runtime: Runtime | None = None, level: int | str = logging.NOTSET) -> None:
        super().__init__(level_number(level))
        if runtime is None:
            from ..runtime import current_runtime

            runtime = current_runtime()
        self.runtime = runtime
        self._local = threading.local()
        self.addFilter(ContextFilter())

    def emit(self, record: logging.LogRecord) -> None:
        if record.name == "engine.bus" or getattr(self._local, "busy", False):
            return
        self._local.busy = True
        try:
            data = json.loads(json.dumps(record_dict(record), default=str))
            self.runtime.bus.publish(
                Event(
                    LOG_RECORD,
                    data,
                    workflow=data.get("workflow"),
                    run_id=data.get("run_id"),
                    trace_id=data.get("trace_id"),
                    span_id=data.get("span_id"),
                )
            )
        except Exception:  # noqa: BLE001 - logging must never raise into the caller
            self.handleError(record)
        finally:
            self._local.busy = False


def attach_bus_logging(
    runtime: Runtime | None = None,
    logger: logging.Logger | str | None = None,
    *,
    level: str | int = logging.INFO,
) -> BusLogHandler:
    """Publish ``logger``'s records (root by default) on ``runtime``'s bus."""
    target = logger if isinstance(logger, logging.Logger) else logging.getLogger(logger)
    handler = BusLogHandler(runtime, level)
    target.addHandler(handler)
    number = level_number(level)
    if target.level == logging.NOTSET or target.level > number:
        target.setLevel(number)
    return handler


def _writes_elsewhere(logger: logging.Logger | None) -> bool:
    """Whether a handler that writes records (not a fallback, not a bus
    handler) is in ``logger``'s hierarchy: logging is configured."""
    while logger is not None:
        for handler in logger.handlers:
            if not isinstance(handler, (BusLogHandler, _FallbackHandler)):
                return True
        logger = logger.parent if logger.propagate else None
    return False


def _level_is_set(logger: logging.Logger) -> bool:
    """Whether a level was chosen for ``logger``, an ancestor, or the root
    (the root's default WARNING is not a choice)."""
    current: logging.Logger | None = logger
    while current is not None:
        if current.level != logging.NOTSET:
            return current.parent is not None or current.level != logging.WARNING
        current = current.parent
    return False


class _FallbackHandler(logging.StreamHandler):
    """Writes a record only when no other writing handler would see it."""

    def handle(self, record: logging.LogRecord) -> bool:
        if _writes_elsewhere(logging.getLogger(record.name)):
            return False
        return super().handle(record)


class _ClassOrInstance:
    """Makes ``log`` callable on the class (as the basic API does) and on instances."""

    def __init__(self, func: Any) -> None:
        self.func = func

    def __get__(self, instance: Any, owner: type) -> Any:
        target = instance if instance is not None else owner._default()
        return self.func.__get__(target, owner)


class StructuredLogger:
    """The basic API's structured logger, writing through `logging`.

    ``StructuredLogger.log("INFO", "order placed", order_id=7)`` writes
    ``{"timestamp": ..., "level": "INFO", "message": "order placed",
    "order_id": 7, "run_id": ..., "trace_id": ..., "span_id": ...}`` as one
    line. The record goes to the logger ``name``. A fallback handler on that
    logger writes it to ``stream`` (stdout) as long
    as logging is not configured, so the line is never lost; once any other
    handler that writes records (not a `BusLogHandler`) is in the logger's
    hierarchy, the fallback stays quiet and the configured handlers decide.
    Levels are the user's: once logging is configured (a writing handler, or
    a level set on the logger, an ancestor or the root), a record below the
    logger's effective level is not made; unconfigured, every level is
    written, as the seed printed every call. A handler that prints only the
    message (a plain ``basicConfig``) gets the fields after it as JSON.

    ``_lock`` guards that first-use set-up.
    """

    _shared: StructuredLogger | None = None
    _shared_lock = threading.Lock()

    def __init__(self, name: str = DEFAULT_LOGGER, *, stream: IO[str] | None = None) -> None:
        self.logger = logging.getLogger(name)
        self._stream = stream
        self._ready = False
        self._lock = threading.Lock()

    @classmethod
    def _default(cls) -> StructuredLogger:
        if cls._shared is None:
            with cls._shared_lock:
                if cls._shared is None:
                    cls._shared = cls()
        return cls._shared

    def _ensure_handler(self) -> None:
        with self._lock:
            if self._ready:
                return
            fallback = _FallbackHandler(self._stream if self._stream is not None else sys.stdout)
            fallback.setFormatter(JsonFormatter())
            fallback.addFilter(ContextFilter())
            self.logger.addHandler(fallback)
            self._ready = True

    @_ClassOrInstance
    def log(self, level: str | int, message: str, **kwargs: Any) -> None:
        """Write one structured record: ``level``, ``message`` and ``kwargs`` as fields."""
        self._emit(level, message, kwargs)

    def debug(self, message: str, **kwargs: Any) -> None:
        self._emit(logging.DEBUG, message, kwargs)

    def info(self, message: str, **kwargs: Any) -> None:
        self._emit(logging.INFO, message, kwargs)

    def warning(self, message: str, **kwargs: Any) -> None:
        self._emit(logging.WARNING, message, kwargs)

    def error(self, message: str, **kwargs: Any) -> None:
        self._emit(logging.ERROR, message, kwargs)

    def _emit(self, level: str | int, message: str, fields: dict[str, Any]) -> None:
        number = level_number(level)
        if not self._ready:
            self._ensure_handler()
        logger = self.logger
        if not logger.isEnabledFor(number) and (
            logger.manager.disable >= number or _writes_elsewhere(logger) or _level_is_set(logger)
        ):
            return
        # stacklevel 3: the record names the caller of log()/info(), not this module.
        fn, lno, func, _ = logger.findCaller(False, 3)
        logger.handle(logger.makeRecord(
            logger.name, number, fn, lno, _StructuredMessage(message, fields), (), None,
            func, {"fields": fields},
        ))
