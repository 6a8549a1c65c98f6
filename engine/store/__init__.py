"""The durable store: one SQLite file (WAL) holding the event log, the dead
letters, the run journal, saga journals and state-machine instances.

Open it with `Store.open(state_dir, durability=..., queue_size=..., retention=...)`,
attach it to a runtime, and `recover` what a crash interrupted. Modules:
``schema`` (file checks, migrations), ``writer`` (group commit, backpressure),
``batch`` (multi-row statements), ``event_log``, ``journal``, ``attempts``
(attempt starts on record before a task runs), ``dlq_store`` and ``attach``
(dead letters), ``retention``, ``recovery``, ``core`` (`Store`), ``owner``
(the owner lock: one engine per state directory), ``commands`` (operator
intent the owner carries out), ``tail`` (following the log from another process).
May import: every room of the engine but `engine.host`.
"""

from .commands import Command, CommandBook, CommandError, CommandStatus
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
from .owner import OwnerInfo, OwnerLock, StateDirBusyError, read_owner
from .recovery import RecoveryReport
from .retention import DEFAULT_RETENTION, Retention, RetentionError
from .schema import SCHEMA_VERSION

__all__ = [
    "Command",
    "CommandBook",
    "CommandError",
    "CommandStatus",
    "DEFAULT_RETENTION",
    "DEFAULT_STATE_DIR",
    "FsmRecord",
    "OwnerInfo",
    "OwnerLock",
    "RecoveryReport",
    "Retention",
    "RetentionError",
    "RunRecord",
    "SCHEMA_VERSION",
    "SQLiteDeadLetterStore",
    "SagaRecord",
    "StateDirBusyError",
    "Store",
    "StoreClosedError",
    "StoreCorruptError",
    "StoreError",
    "StoreForeignError",
    "StoreReadOnlyError",
    "StoreUnavailableError",
    "StoreWriteError",
    "TaskRecord",
    "read_owner",
]
