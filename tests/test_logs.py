"""Structured logging: JSON lines through stdlib logging, ids from context, bus records."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest

from engine import (
    BusLogHandler,
    JsonFormatter,
    LogLevelError,
    Runtime,
    StructuredLogger,
    attach_bus_logging,
    install_json_logging,
    run_scope,
)
from engine.observe.logs import uninstall_handler


@pytest.fixture
def logger_name() -> str:
    # A fresh, non-propagating logger per test, so pytest's own capture
    # handler on the root logger never sees (or hides) these records.
    name = f"test.logs.{uuid.uuid4().hex}"
    logging.getLogger(name).propagate = False
    return name


@pytest.fixture
def stream(logger_name: str):
    buffer = io.StringIO()
    handler = install_json_logging(logger_name, level=logging.DEBUG, stream=buffer)
    yield buffer
    uninstall_handler(handler, logger_name)


def lines(buffer: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


def test_structured_logger_writes_one_json_object_per_line(logger_name: str, stream: io.StringIO) -> None:
    log = StructuredLogger(logger_name)
    log.log("INFO", "order placed", order_id=7)
    log.log("error", "payment failed", amount=9.5)
    first, second = lines(stream)
    assert first["level"] == "INFO" and first["message"] == "order placed" and first["order_id"] == 7
    assert second["level"] == "ERROR" and second["amount"] == 9.5
    assert isinstance(first["timestamp"], float)


def test_log_lines_carry_run_trace_and_span_ids(logger_name: str, stream: io.StringIO) -> None:
    runtime = Runtime()
    with run_scope("run-42"), runtime.tracer.start_span("task") as span:
        StructuredLogger(logger_name).log("INFO", "inside")
    (entry,) = lines(stream)
    assert (entry["run_id"], entry["trace_id"], entry["span_id"]) == ("run-42", span.trace_id, span.span_id)


def test_log_lines_outside_a_span_have_null_ids(logger_name: str, stream: io.StringIO) -> None:
    StructuredLogger(logger_name).log("INFO", "outside")
    (entry,) = lines(stream)
    assert entry["run_id"] is None and entry["trace_id"] is None and entry["span_id"] is None


def test_plain_logging_calls_come_out_the_same_way(logger_name: str, stream: io.StringIO) -> None:
    runtime = Runtime()
    with runtime.tracer.start_span("task") as span:
        logging.getLogger(logger_name + ".workflow_code").warning("retrying %s", "load", extra={"attempt": 2})
    (entry,) = lines(stream)
    assert entry["message"] == "retrying load"
    assert entry["level"] == "WARNING"
    assert entry["attempt"] == 2
    assert entry["span_id"] == span.span_id


def test_exceptions_are_logged_as_error_fields(logger_name: str, stream: io.StringIO) -> None:
    try:
        raise ValueError("bad row")
    except ValueError:
        logging.getLogger(logger_name).exception("load failed")
    (entry,) = lines(stream)
    assert entry["error_type"] == "ValueError"
    assert entry["error"] == "bad row"
    assert "ValueError: bad row" in entry["traceback"]


def test_values_json_cannot_hold_become_strings(logger_name: str, stream: io.StringIO) -> None:
    StructuredLogger(logger_name).log("INFO", "odd", thing={1, 2}.__class__)
    (entry,) = lines(stream)
    assert entry["thing"] == "<class 'set'>"


def test_seed_fields_named_like_record_attributes_do_not_break_logging(
    logger_name: str, stream: io.StringIO
) -> None:
    StructuredLogger(logger_name).log("INFO", "hello", name="alice", args="x", msg="y")
    (entry,) = lines(stream)
    assert (entry["name"], entry["args"], entry["msg"]) == ("alice", "x", "y")
    assert entry["message"] == "hello"


def test_unknown_level_is_a_clear_error(logger_name: str) -> None:
    with pytest.raises(LogLevelError, match="unknown log level 'LOUD'"):
        StructuredLogger(logger_name).log("LOUD", "x")


def test_class_level_call_works_as_in_the_seed(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:]
    root.handlers = []
    try:
        StructuredLogger.log("INFO", "seed style", user="bob")
    finally:
        root.handlers = saved
    entry = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert entry["message"] == "seed style" and entry["user"] == "bob"


def test_fallback_stays_quiet_once_logging_is_configured(logger_name: str, stream: io.StringIO) -> None:
    fallback_out = io.StringIO()
    log = StructuredLogger(logger_name, stream=fallback_out)
    log.log("INFO", "once")
    assert fallback_out.getvalue() == ""
    assert len(lines(stream)) == 1


def test_fallback_writes_when_nothing_else_would(logger_name: str) -> None:
    out = io.StringIO()
    StructuredLogger(logger_name, stream=out).log("INFO", "lonely", n=1)
    assert json.loads(out.getvalue())["n"] == 1


@pytest.fixture
def basic_config():
    """The user's own ``logging.basicConfig(level=WARNING)``, printing plain text to a buffer."""
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    root.handlers = []
    out = io.StringIO()
    logging.basicConfig(level=logging.WARNING, stream=out)
    yield out
    for handler in root.handlers:
        handler.close()
    root.handlers = saved[0]
    root.setLevel(saved[1])


def test_the_users_configured_level_decides_what_is_written(basic_config: io.StringIO) -> None:
    log = StructuredLogger(f"test.logs.{uuid.uuid4().hex}", stream=io.StringIO())
    log.log("INFO", "routine", order_id=7)
    log.log("WARNING", "odd", order_id=8)
    assert [line.split(":")[0] for line in basic_config.getvalue().splitlines()] == ["WARNING"]


def test_a_plain_text_handler_still_shows_the_fields(basic_config: io.StringIO) -> None:
    StructuredLogger(f"test.logs.{uuid.uuid4().hex}").warning("odd", order_id=8, who="bob")
    line = basic_config.getvalue().strip()
    assert line.endswith('odd {"order_id": 8, "who": "bob"}')


def test_json_lines_keep_the_message_apart_from_the_fields(logger_name: str, stream: io.StringIO) -> None:
    StructuredLogger(logger_name).info("placed", order_id=9)
    [entry] = lines(stream)
    assert (entry["message"], entry["order_id"]) == ("placed", 9)


def test_unconfigured_logging_still_writes_every_level_as_the_seed_printed(logger_name: str) -> None:
    # Unconfigured: the root keeps its default level, whatever earlier tests set.
    root = logging.getLogger()
    saved = root.level
    root.setLevel(logging.WARNING)
    out = io.StringIO()
    try:
        StructuredLogger(logger_name, stream=out).debug("detail", n=2)
    finally:
        root.setLevel(saved)
    assert json.loads(out.getvalue())["n"] == 2


def test_json_formatter_is_a_logging_formatter() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "hi %d", (3,), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "hi 3"


def test_bus_handler_publishes_log_records_with_correlation(logger_name: str) -> None:
    runtime = Runtime()
    published: list = []
    runtime.bus.subscribe("log.record", published.append)
    handler = attach_bus_logging(runtime, logger_name)
    try:
        with run_scope("r-1"), runtime.tracer.start_span("task", {"workflow": "etl"}) as span:
            StructuredLogger(logger_name).log("WARNING", "slow", seconds=3)
    finally:
        uninstall_handler(handler, logger_name)
    (event,) = published
    assert event.type == "log.record"
    assert (event.run_id, event.trace_id, event.span_id, event.workflow) == (
        "r-1", span.trace_id, span.span_id, "etl",
    )
    assert event.data["message"] == "slow" and event.data["seconds"] == 3
    assert event.data["level"] == "WARNING"


def test_bus_handler_respects_its_level(logger_name: str) -> None:
    runtime = Runtime()
    published: list = []
    runtime.bus.subscribe("log.record", published.append)
    handler = attach_bus_logging(runtime, logger_name, level="WARNING")
    try:
        logging.getLogger(logger_name).info("chatter")
        logging.getLogger(logger_name).error("problem")
    finally:
        uninstall_handler(handler, logger_name)
    assert [e.data["message"] for e in published] == ["problem"]


def test_failing_log_subscriber_does_not_loop(logger_name: str) -> None:
    runtime = Runtime()
    calls: list = []

    def broken(event) -> None:
        calls.append(event)
        logging.getLogger(logger_name).error("subscriber is logging too")
        raise RuntimeError("subscriber down")

    runtime.bus.subscribe("log.record", broken)
    handler = BusLogHandler(runtime)
    logging.getLogger(logger_name).addHandler(handler)
    try:
        logging.getLogger(logger_name).error("first")
    finally:
        uninstall_handler(handler, logger_name)
    assert len(calls) == 1
    assert any(e.type == "handler.error" for e in runtime.bus.event_store)
