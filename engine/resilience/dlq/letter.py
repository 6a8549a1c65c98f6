"""The dead-letter record and the storage interface behind the queue.

A `DeadLetter` is an immutable value: every operator action makes a new one
(``dataclasses.replace``) that the queue puts in place of the old. Its
``payload`` and ``event`` are JSON values, detached from the caller's objects
when the letter is made, so a store can persist ``to_dict()`` as it is and
rebuild the letter with ``DeadLetter.from_dict``.

`DeadLetterStore` is the whole contract a store must meet: ``put``, ``get``,
``all`` and ``delete``. `InMemoryDeadLetterStore` is the default; the durable
store persists letters through the same four calls.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import traceback as _traceback
import uuid
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from ...errors import FlowError
from ...error_text import error_message



class DeadLetterStatus(StrEnum):
    """Where a dead letter stands: waiting for an operator, being retried, or done."""

    DEAD = "dead"
    RETRYING = "retrying"
    RESOLVED = "resolved"
    DISCARDED = "discarded"


Status = DeadLetterStatus
STATUSES: tuple[str, ...] = tuple(status.value for status in DeadLetterStatus)
SOURCES: tuple[str, ...] = ("task", "saga.compensation", "handler", "pool", "message")


class DeadLetterPayloadError(FlowError, ValueError):
    """A payload given by an operator is not a JSON value."""

    def __init__(self, letter_id: str, reason: str) -> None:
        super().__init__(f"dead letter {letter_id!r}: payload is not JSON ({reason})")
        self.letter_id = letter_id
        self.reason = reason


@dataclass(frozen=True, slots=True)
class DeadLetterAction:
    """One entry of a letter's audit trail: who did what, why and when."""

    action: str
    actor: str
    reason: str | None
    at: float

    def to_dict(self) -> dict[str, Any]:
        return {"action": self.action, "actor": self.actor, "reason": self.reason, "at": self.at}


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """What an operator needs to act on a unit of work that failed for good.

    ``unit`` names the failed unit (task id, saga step, handler); ``payload``
    holds the inputs that run it again; ``payload_exact`` is False when some
    input was not JSON and was stored as its ``repr``. ``fingerprint`` groups
    alike failures: a hash of the error type and ``location``, the
    ``file:function`` of the innermost frame the error was raised in.
    ``event`` is the original event as a dict (handler letters), for replay.
    """

    id: str
    source: str
    unit: str
    workflow: str | None
    definition_version: int | None
    payload: Any
    error_type: str
    error: str
    traceback: str
    attempts: int
    first_failure: float
    last_failure: float
    run_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    status: DeadLetterStatus = DeadLetterStatus.DEAD
    fingerprint: str = ""
    location: str = ""
    payload_exact: bool = True
    history: tuple[DeadLetterAction, ...] = ()
    event: dict[str, Any] | None = field(default=None)

    def __post_init__(self) -> None:
        # Actions set the status as text (``replace(letter, status="retrying")``).
        if type(self.status) is not DeadLetterStatus:
            object.__setattr__(self, "status", DeadLetterStatus(self.status))

    @classmethod
    def from_failure(
        cls,
        *,
        source: str,
        unit: str,
        error: BaseException | str,
        payload: Any,
        now: float,
        attempts: int = 1,
        event: dict[str, Any] | None = None,
        first_failure: float | None = None,
        **correlation: Any,
    ) -> DeadLetter:
        """A new ``dead`` letter for ``error``; ``correlation`` holds ``workflow``,
        ``definition_version``, ``run_id``, ``trace_id`` and ``span_id``.

        ``first_failure``: when the first of ``attempts`` failed (default
        ``now``, the last one)."""
        error_type, message, text, location = describe_error(error)
        json_payload, exact = to_json_value(payload)
        return cls(
            id=f"dl-{uuid.uuid4().hex[:12]}",
            source=source,
            unit=unit,
            workflow=correlation.get("workflow"),
            definition_version=correlation.get("definition_version"),
            payload=json_payload,
            error_type=error_type,
            error=message,
            traceback=text,
            attempts=attempts,
            first_failure=now if first_failure is None else first_failure,
            last_failure=now,
            run_id=correlation.get("run_id"),
            trace_id=correlation.get("trace_id"),
            span_id=correlation.get("span_id"),
            fingerprint=fingerprint(error_type, location),
            location=location,
            payload_exact=exact,
            history=(DeadLetterAction("added", "engine", None, now),),
            event=to_json_value(event)[0] if event is not None else None,
        )

    def changed(self, action: DeadLetterAction, **fields: Any) -> DeadLetter:
        """A copy with ``fields`` replaced and ``action`` appended to the history."""
        return dataclasses.replace(self, history=self.history + (action,), **fields)

    def failed_again(self, error: BaseException | str, action: DeadLetterAction) -> DeadLetter:
        """A copy back ``dead`` after a failed retry: one more attempt, the new error."""
        error_type, message, text, location = describe_error(error)
        return self.changed(
            action,
            status="dead",
            attempts=self.attempts + 1,
            error_type=error_type,
            error=message,
            traceback=text,
            location=location,
            fingerprint=fingerprint(error_type, location),
            last_failure=action.at,
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready mapping of every field (payload and event are copies)."""
        return {
            "id": self.id,
            "source": self.source,
            "unit": self.unit,
            "workflow": self.workflow,
            "definition_version": self.definition_version,
            "payload": _copy(self.payload),
            "payload_exact": self.payload_exact,
            "error_type": self.error_type,
            "error": self.error,
            "traceback": self.traceback,
            "attempts": self.attempts,
            "first_failure": self.first_failure,
            "last_failure": self.last_failure,
            "run_id": self.run_id,
            "trace_id": self.trace_id,
            "span_id": self.span_id,
            "status": self.status.value,
            "fingerprint": self.fingerprint,
            "location": self.location,
            "history": [action.to_dict() for action in self.history],
            "event": _copy(self.event),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeadLetter:
        """Rebuild a letter from `to_dict` output (as a store reads it back).

        A letter stored before the engine's classes reported ``engine`` as
        their module (``engine.dag.model.AttemptsExhaustedError``) comes back
        with the stable name and fingerprint, so it groups with new ones.
        """
        values = dict(data)
        error_type = values.get("error_type", "")
        location = values.get("location", "")
        if values.get("fingerprint") == _legacy_fingerprint(error_type, location):
            values["error_type"] = stable_error_type(error_type)
            values["fingerprint"] = fingerprint(values["error_type"], location)
        values["history"] = tuple(DeadLetterAction(**entry) for entry in values.get("history", ()))
        return cls(**values)

    def summary(self) -> dict[str, Any]:
        """The fields events about this letter carry."""
        return {
            "id": self.id,
            "source": self.source,
            "unit": self.unit,
            "status": self.status.value,
            "attempts": self.attempts,
            "error_type": self.error_type,
            "error": self.error,
            "fingerprint": self.fingerprint,
            "definition_version": self.definition_version,
        }


class DeadLetterStore(Protocol):
    """Where the queue keeps its letters; ``all`` returns them oldest first."""

    def put(self, letter: DeadLetter) -> None:
        """Insert ``letter``, or replace the letter with its id in place."""
        ...

    def get(self, letter_id: str) -> DeadLetter | None:
        """The letter with ``letter_id``, or None."""
        ...

    def all(self) -> list[DeadLetter]:
        """Every letter, in the order first put."""
        ...

    def delete(self, letter_id: str) -> None:
        """Forget ``letter_id`` (no error if absent)."""
        ...


class InMemoryDeadLetterStore:
    """A dict of letters in insertion order.

    Not locked: the queue calls it only while holding its own lock.
    """

    def __init__(self) -> None:
        self._letters: dict[str, DeadLetter] = {}

    def put(self, letter: DeadLetter) -> None:
        self._letters[letter.id] = letter

    def get(self, letter_id: str) -> DeadLetter | None:
        return self._letters.get(letter_id)

    def all(self) -> list[DeadLetter]:
        return list(self._letters.values())

    def delete(self, letter_id: str) -> None:
        self._letters.pop(letter_id, None)


def _copy(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return json.loads(json.dumps(value))


def to_json_value(value: Any) -> tuple[Any, bool]:
    """A detached JSON copy of ``value`` and whether it is exact.

    Values JSON cannot hold are kept as their ``repr`` rather than refused, so
    a failure is never lost because its inputs were unusual.
    """
    try:
        return json.loads(json.dumps(value, allow_nan=False)), True
    except (TypeError, ValueError):
        return json.loads(json.dumps(value, default=repr)), False


def strict_json_value(letter_id: str, value: Any) -> Any:
    """A detached JSON copy of ``value``; raises `DeadLetterPayloadError` if it is not JSON."""
    try:
        return json.loads(json.dumps(value, allow_nan=False))
    except (TypeError, ValueError) as exc:
        raise DeadLetterPayloadError(letter_id, error_message(exc)) from exc


def describe_error(error: BaseException | str) -> tuple[str, str, str, str]:
    """``(error_type, message, traceback, location)`` of a failure."""
    if isinstance(error, str):
        return "Error", error, "", "<unknown>"
    kind = type(error)
    error_type = kind.__qualname__ if kind.__module__ == "builtins" else (
        f"{kind.__module__}.{kind.__qualname__}"
    )
    frames = _traceback.extract_tb(error.__traceback__) if error.__traceback__ else []
    location = f"{frames[-1].filename}:{frames[-1].name}" if frames else "<unknown>"
    text = "".join(_traceback.format_exception(error)) if frames else ""
    return error_type, error_message(error), text, location


# A frame in the engine's own code: ``.../engine/dag/run.py:_exhausted``.
_ENGINE_FRAME = re.compile(r"(?:^|[/\\])engine[/\\](?:\w+[/\\])*\w+\.py:(?P<function>[\w<>]+)$")


def stable_error_type(error_type: str) -> str:
    """``engine.<module>.<Name>`` as ``engine.<Name>``, the module public classes report."""
    if error_type.startswith("engine.") and error_type.count(".") > 1:
        return "engine." + error_type.rpartition(".")[2]
    return error_type


def stable_location(location: str) -> str:
    """A frame of the engine's own code as ``engine:<function>``, whichever module holds it."""
    match = _ENGINE_FRAME.search(location)
    return f"engine:{match['function']}" if match else location


def fingerprint(error_type: str, location: str) -> str:
    """The group key of a failure: a short hash of its type and where it was raised.

    Both are taken in their stable form, so moving a module of the engine
    changes neither a letter's ``error_type`` nor its group.
    """
    key = f"{stable_error_type(error_type)}|{stable_location(location)}"
    return hashlib.sha1(key.encode()).hexdigest()[:16]


def _legacy_fingerprint(error_type: str, location: str) -> str:
    """The fingerprint letters were stored with before it took stable names."""
    return hashlib.sha1(f"{error_type}|{location}".encode()).hexdigest()[:16]
