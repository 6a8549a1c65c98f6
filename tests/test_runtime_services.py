"""The runtime's services come from factories their rooms register."""

from __future__ import annotations

import pytest

from engine import Runtime
from engine.runtime import UnknownServiceError, register_service


def test_a_registered_factory_builds_the_service_once_per_runtime():
    built = []
    register_service("test-probe", lambda runtime: built.append(runtime) or object())
    first, second = Runtime(), Runtime()
    assert first.service("test-probe") is first.service("test-probe")
    assert first.service("test-probe") is not second.service("test-probe")
    assert built == [first, second]


def test_a_service_no_room_registered_is_an_error_that_names_it():
    with pytest.raises(UnknownServiceError) as info:
        Runtime().service("no-such-service")
    assert info.value.name == "no-such-service"
    assert "tracer" in info.value.known and "'no-such-service'" in str(info.value)


def test_the_built_in_services_are_registered_by_their_rooms():
    runtime = Runtime()
    assert type(runtime.tracer).__module__ == "engine" and type(runtime.tracer).__name__ == "Tracer"
    assert type(runtime.dlq).__name__ == "DeadLetterQueue"
    assert type(runtime.breakers).__name__ == "BreakerRegistry"
    assert type(runtime.metrics).__name__ == "MetricsCollector"
