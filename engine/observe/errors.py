"""The errors of `engine.observe`; each names the thing at fault."""

from __future__ import annotations

from typing import Any

from ..errors import FlowError


class OTelUnavailable(FlowError, ImportError):
    """OpenTelemetry export was asked for but a package it needs is not installed."""

    def __init__(self, package: str, detail: str = "") -> None:
        super().__init__(
            f"OpenTelemetry export needs {package} (pip install 'flowconsole[otel]'"
            + (f" and {package}" if package != "opentelemetry-sdk" else "")
            + ")"
            + (f": {detail}" if detail else "")
        )
        self.package = package


class OTelConfigError(FlowError, ValueError):
    """An OTEL_* environment variable has a value this exporter cannot use."""

    def __init__(self, variable: str, value: str, expected: str) -> None:
        super().__init__(f"{variable}={value!r}: expected {expected}")
        self.variable = variable
        self.value = value


class TracingError(FlowError, ValueError):
    """A span was asked for with an invalid kind, link, status or buffer size."""


class MetricError(FlowError, ValueError):
    """A metric was used with a bad name, value or label, or as two kinds at once."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"metric {name!r}: {reason}")
        self.name = name


class HistogramError(FlowError, ValueError):
    """A histogram was configured or fed with values it cannot take."""


class LogLevelError(FlowError, ValueError):
    """A log call named a level that does not exist."""

    def __init__(self, level: Any) -> None:
        super().__init__(
            f"unknown log level {level!r}: use DEBUG, INFO, WARNING, ERROR, CRITICAL or an int"
        )
        self.level = level
