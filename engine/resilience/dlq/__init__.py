"""The dead-letter queue: failed units of work, kept until an operator acts.

Holds the queue (`queue`), the letter record and its storage interface
(`letter`), the ledger (`book`), retry and replay (`attempts`), bulk actions
(`bulk`) and the errors (`errors`).
May import: the kernel and `engine.runtime`.
"""

from .letter import (
    DeadLetter,
    DeadLetterAction,
    DeadLetterPayloadError,
    DeadLetterStore,
    InMemoryDeadLetterStore,
)
from .queue import DeadLetterQueue
from .bulk import BulkOutcome
from .errors import (
    DeadLetterBusyError,
    DeadLetterCountChanged,
    DeadLetterFilterError,
    DeadLetterNotFound,
    DeadLetterStateError,
    NoRetrierError,
)

__all__ = [
    "BulkOutcome",
    "DeadLetter",
    "DeadLetterAction",
    "DeadLetterBusyError",
    "DeadLetterCountChanged",
    "DeadLetterFilterError",
    "DeadLetterNotFound",
    "DeadLetterPayloadError",
    "DeadLetterQueue",
    "DeadLetterStateError",
    "DeadLetterStore",
    "InMemoryDeadLetterStore",
    "NoRetrierError",
]
