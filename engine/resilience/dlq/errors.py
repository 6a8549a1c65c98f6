"""The errors the dead-letter queue raises; each names the letter or filter at fault."""

from __future__ import annotations

from ...errors import FlowError

FILTERS = frozenset({"workflow", "error_type", "fingerprint", "status", "source", "unit", "run_id"})


class DeadLetterNotFound(FlowError, KeyError):
    """No dead letter has the given id."""

    def __init__(self, letter_id: str) -> None:
        super().__init__(f"no dead letter with id {letter_id!r}")
        self.letter_id = letter_id

    def __str__(self) -> str:
        return str(self.args[0])


class DeadLetterBusyError(FlowError):
    """The dead letter is being retried or replayed right now."""

    def __init__(self, letter_id: str) -> None:
        super().__init__(f"dead letter {letter_id!r} is already being retried or replayed")
        self.letter_id = letter_id


class DeadLetterStateError(FlowError, ValueError):
    """The action does not apply to the letter in its current status."""

    def __init__(self, letter_id: str, action: str, status: str, detail: str = "") -> None:
        reason = detail or f"it is {status}"
        super().__init__(f"cannot {action} dead letter {letter_id!r}: {reason}")
        self.letter_id = letter_id
        self.action = action
        self.status = status


class NoRetrierError(FlowError, LookupError):
    """No retrier is registered for the source of the letter to retry."""

    def __init__(self, letter_id: str, source: str) -> None:
        super().__init__(
            f"cannot retry dead letter {letter_id!r}: no retrier is registered for source {source!r}"
        )
        self.letter_id = letter_id
        self.source = source


class DeadLetterFilterError(FlowError, ValueError):
    """A filter named a field the queue cannot filter on, or a value no letter can have."""

    def __init__(self, name: str, value: object, reason: str) -> None:
        super().__init__(f"dead-letter filter {name}={value!r} {reason}")
        self.name = name
        self.value = value


class DeadLetterCountChanged(FlowError):
    """A bulk action matched a different number of letters than the operator was shown."""

    def __init__(self, expected: int, found: int) -> None:
        super().__init__(
            f"the filter now matches {found} dead letter(s), not the {expected} expected; nothing was done"
        )
        self.expected = expected
        self.found = found
