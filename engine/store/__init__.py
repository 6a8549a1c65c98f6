"""The durable store: one SQLite file (WAL) holding the event log, the dead
letters, the run journal, saga journals and state-machine instances.

Open it with `Store.open(state_dir, durability=..., queue_size=..., retention=...)`,
attach it to a runtime, and `recover` what a crash interrupted. Modules:
``schema`` (file checks, migrations), ``writer`` (group commit, backpressure),
``batch`` (multi-row statements), ``event_log``, ``journal``, ``attempts``
(attempt starts on record before a task runs), ``dlq_store`` and ``attach``
(dead letters), ``retention``, ``recovery``, ``core`` (`Store`).
"""

from .core import DEFAULT_STATE_DIR, Store
from .dlq_store import SQLiteDeadLetterStore
from .errors import (
    StoreClosedError,
    StoreCorruptError,
    StoreError,
    StoreForeignError,
    StoreReadOnlyError,
    StoreUnavailableError,
    StoreWriteError,
)
from .journal import FsmRecord, RunRecord, SagaRecord, TaskRecord
from .recovery import RecoveryReport
from .retention import DEFAULT_RETENTION, Retention, RetentionError
from .schema import SCHEMA_VERSION

__all__ = [
    "DEFAULT_RETENTION",
    "DEFAULT_STATE_DIR",
    "FsmRecord",
    "RecoveryReport",
    "Retention",
    "RetentionError",
    "RunRecord",
    "SCHEMA_VERSION",
    "SQLiteDeadLetterStore",
    "SagaRecord",
    "Store",
    "StoreClosedError",
    "StoreCorruptError",
    "StoreError",
    "StoreForeignError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "StoreWriteError",
    "TaskRecord",
]
