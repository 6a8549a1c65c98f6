"""OpenTelemetry export: spans survive the trip into the SDK's in-memory exporter."""

from __future__ import annotations

import importlib.util

import pytest

pytest.importorskip("opentelemetry.sdk")

from opentelemetry.sdk.trace.export import ConsoleSpanExporter  # noqa: E402
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter  # noqa: E402
from opentelemetry.trace import SpanKind, StatusCode  # noqa: E402

from engine import FakeClock, Runtime, run_scope  # noqa: E402
from engine.observe.otel import (  # noqa: E402
    OTelConfigError,
    OTelExport,
    OTelUnavailable,
    export_requested,
    exporter_from_env,
)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(start=1_700_000_000.0)


@pytest.fixture
def runtime(clock: FakeClock) -> Runtime:
    return Runtime(clock=clock)


@pytest.fixture
def exported(runtime: Runtime):
    exporter = InMemorySpanExporter()
    export = OTelExport(runtime.tracer, exporter, batch=False)
    yield exporter
    export.shutdown()


def by_name(exporter: InMemorySpanExporter) -> dict:
    return {s.name: s for s in exporter.get_finished_spans()}


def test_ids_and_parents_survive(runtime: Runtime, exported: InMemorySpanExporter) -> None:
    with runtime.tracer.start_span("run") as run:
        with runtime.tracer.start_span("task") as task:
            pass
    spans = by_name(exported)
    assert spans["run"].context.trace_id == int(run.trace_id, 16)
    assert spans["run"].context.span_id == int(run.span_id, 16)
    assert spans["run"].parent is None
    assert spans["task"].parent.span_id == int(run.span_id, 16)
    assert spans["task"].context.trace_id == int(task.trace_id, 16)


def test_timing_survives_in_nanoseconds(runtime: Runtime, clock: FakeClock, exported) -> None:
    with runtime.tracer.start_span("task"):
        clock.advance(1.25)
    (span,) = exported.get_finished_spans()
    assert span.start_time == 1_700_000_000 * 10**9
    assert span.end_time - span.start_time == 1_250_000_000


def test_error_status_and_exception_event_survive(runtime: Runtime, exported) -> None:
    with pytest.raises(ZeroDivisionError):
        with runtime.tracer.start_span("task"):
            1 / 0
    (span,) = exported.get_finished_spans()
    assert span.status.status_code == StatusCode.ERROR
    assert span.status.description == "ZeroDivisionError: division by zero"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] == "ZeroDivisionError"


def test_ok_status_kind_and_attributes_survive(runtime: Runtime, exported) -> None:
    with run_scope("run-3"):
        with runtime.tracer.start_span(
            "call", {"workflow": "etl", "attempt": 2, "ratio": 0.5, "ok": True, "tags": ["a", "b"]},
            kind="client",
        ):
            pass
    (span,) = exported.get_finished_spans()
    assert span.status.status_code == StatusCode.OK
    assert span.kind == SpanKind.CLIENT
    attributes = dict(span.attributes)
    assert attributes["workflow"] == "etl" and attributes["attempt"] == 2
    assert attributes["ratio"] == 0.5 and attributes["ok"] is True
    assert tuple(attributes["tags"]) == ("a", "b")
    assert attributes["flowconsole.run_id"] == "run-3"


def test_links_survive(runtime: Runtime, exported) -> None:
    with runtime.tracer.start_span("replay", links=[("a" * 32, "b" * 16, {"dlq.letter": "L1"})]):
        pass
    (span,) = exported.get_finished_spans()
    (link,) = span.links
    assert link.context.trace_id == int("a" * 32, 16)
    assert link.context.span_id == int("b" * 16, 16)
    assert link.attributes["dlq.letter"] == "L1"


def test_unsupported_attribute_values_are_stringified(runtime: Runtime, exported) -> None:
    with runtime.tracer.start_span("x", {"mapping": {"k": 1}, "none": None, "mixed": [1, "a"]}):
        pass
    attributes = dict(exported.get_finished_spans()[0].attributes)
    assert attributes["mapping"] == "{'k': 1}"
    assert "none" not in attributes
    assert attributes["mixed"] == "[1, 'a']"


def test_service_name_defaults_to_flowconsole(runtime: Runtime, exported, monkeypatch) -> None:
    with runtime.tracer.start_span("x"):
        pass
    assert exported.get_finished_spans()[0].resource.attributes["service.name"] == "flowconsole"


@pytest.mark.parametrize(
    ("variable", "value"),
    [("OTEL_SERVICE_NAME", "orders"), ("OTEL_RESOURCE_ATTRIBUTES", "service.name=orders,team=shop")],
)
def test_service_name_comes_from_the_environment(runtime: Runtime, monkeypatch, variable: str, value: str) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv(variable, value)
    exporter = InMemorySpanExporter()
    export = OTelExport(runtime.tracer, exporter, batch=False)
    with runtime.tracer.start_span("x"):
        pass
    export.shutdown()
    assert exporter.get_finished_spans()[0].resource.attributes["service.name"] == "orders"


@pytest.mark.parametrize(
    ("environ", "requested"),
    [
        ({}, False),
        ({"OTEL_TRACES_EXPORTER": "otlp"}, True),
        ({"OTEL_TRACES_EXPORTER": "none", "OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://h:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://h:4318/v1/traces"}, True),
        ({"OTEL_SERVICE_NAME": "orders"}, True),
        ({"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"}, False),
    ],
)
def test_export_is_requested_by_the_standard_variables(environ: dict, requested: bool) -> None:
    assert export_requested(environ) is requested


def test_the_otel_extra_installs_the_default_exporter() -> None:
    import tomllib
    from pathlib import Path

    project = tomllib.loads((Path(__file__).resolve().parents[1] / "pyproject.toml").read_text())["project"]
    otel = project["optional-dependencies"]["otel"]
    assert any(r.startswith("opentelemetry-exporter-otlp-proto-http") for r in otel), otel


def test_shutdown_stops_the_export(runtime: Runtime) -> None:
    exporter = InMemorySpanExporter()
    export = OTelExport(runtime.tracer, exporter, batch=False)
    export.shutdown()
    export.shutdown()
    with runtime.tracer.start_span("after"):
        pass
    assert exporter.get_finished_spans() == ()


def test_batch_export_delivers_on_flush(runtime: Runtime) -> None:
    exporter = InMemorySpanExporter()
    export = OTelExport(runtime.tracer, exporter)
    try:
        with runtime.tracer.start_span("batched"):
            pass
        assert export.force_flush()
        assert [s.name for s in exporter.get_finished_spans()] == ["batched"]
    finally:
        export.shutdown()


def test_env_none_means_no_exporter() -> None:
    assert exporter_from_env({"OTEL_TRACES_EXPORTER": "none"}) is None


def test_env_console_picks_the_console_exporter() -> None:
    assert isinstance(exporter_from_env({"OTEL_TRACES_EXPORTER": "console"}), ConsoleSpanExporter)


def test_env_unknown_exporter_is_a_clear_error() -> None:
    with pytest.raises(OTelConfigError, match="OTEL_TRACES_EXPORTER='zipkin'"):
        exporter_from_env({"OTEL_TRACES_EXPORTER": "zipkin"})


def test_env_unknown_protocol_is_a_clear_error() -> None:
    with pytest.raises(OTelConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL='carrier-pigeon'"):
        exporter_from_env({"OTEL_EXPORTER_OTLP_PROTOCOL": "carrier-pigeon"})


@pytest.mark.skipif(
    importlib.util.find_spec("opentelemetry.exporter") is not None,
    reason="an OTLP exporter package is installed",
)
def test_missing_otlp_package_is_named_in_the_error() -> None:
    with pytest.raises(OTelUnavailable, match="opentelemetry-exporter-otlp-proto-http"):
        exporter_from_env({})
