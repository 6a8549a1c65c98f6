"""A dead letter names its error as ``engine.<Name>``, whichever module defines it,
and letters stored under the old module names group with new ones."""

from __future__ import annotations

import hashlib
import json
import sqlite3

import pytest

import engine
from engine import EventBus, FakeClock, RetryPolicy, RetryPolicyError, Runtime
from engine.store import Store
from engine.store.schema import DB_NAME


def test_every_public_class_reports_the_engine_package_as_its_module():
    classes = [getattr(engine, name) for name in engine.__all__ if isinstance(getattr(engine, name), type)]
    assert classes and {cls.__module__ for cls in classes} == {"engine"}


def engine_error_letter(runtime):
    """A letter for an error the engine's own code raised."""
    with pytest.raises(RetryPolicyError) as info:
        RetryPolicy(max_attempts=0)
    return runtime.dlq.add(source="task", unit="load", error=info.value, workflow="nightly")


def old_style(letter, error_type: str, location: str) -> dict:
    """The letter as a store written before the move held it."""
    body = letter.to_dict() | {"id": "dl-old", "error_type": error_type, "location": location}
    body["fingerprint"] = hashlib.sha1(f"{error_type}|{location}".encode()).hexdigest()[:16]
    return body


def test_an_engine_error_in_a_dead_letter_is_named_by_the_engine_package():
    runtime = Runtime(EventBus(), FakeClock())
    letter = engine_error_letter(runtime)
    assert letter.error_type == "engine.RetryPolicyError"


def test_a_letter_stored_under_an_old_module_name_groups_with_a_new_one(tmp_path):
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(tmp_path).attach(runtime)
    new = engine_error_letter(runtime)
    function = new.location.rpartition(":")[2]
    stored = old_style(new, "engine.retry.RetryPolicyError", f"/old/site/engine/retry.py:{function}")
    store.close()
    with sqlite3.connect(tmp_path / DB_NAME) as conn:
        conn.execute(
            "INSERT INTO dead_letters (id, created, workflow, source, error_type, body) VALUES (?, ?, ?, ?, ?, ?)",
            ("dl-old", 0.0, "nightly", "task", stored["error_type"], json.dumps(stored)),
        )
    conn.close()

    reopened = Runtime(EventBus(), FakeClock())
    store = Store.open(tmp_path).attach(reopened)
    try:
        old = reopened.dlq.get("dl-old")
        assert old.error_type == "engine.RetryPolicyError"
        assert old.fingerprint == new.fingerprint
        assert {letter.id for letter in reopened.dlq.list(fingerprint=new.fingerprint)} == {"dl-old", new.id}
    finally:
        store.close()


def test_a_user_error_keeps_its_own_module_and_fingerprint():
    runtime = Runtime(EventBus(), FakeClock())

    class PaymentDeclined(Exception):
        pass

    letter = runtime.dlq.add(source="task", unit="charge", error=PaymentDeclined("no"))
    assert letter.error_type == f"{__name__}.{PaymentDeclined.__qualname__}"
    legacy = hashlib.sha1(f"{letter.error_type}|{letter.location}".encode()).hexdigest()[:16]
    assert letter.fingerprint == legacy
