"""The store's errors. Each names the file or directory it is about."""

from __future__ import annotations

from pathlib import Path

from ..errors import FlowError


class StoreError(FlowError):
    """The durable store could not do what was asked of it."""

    def __init__(self, message: str, path: Path | str | None = None) -> None:
        super().__init__(message)
        self.path = Path(path) if path is not None else None


class StoreCorruptError(StoreError):
    """The database file is damaged or is not an SQLite database; it is left untouched."""


class StoreForeignError(StoreError):
    """The database file belongs to another application or a newer flowconsole; it is left untouched."""


class StoreReadOnlyError(StoreError):
    """The state directory (or its database) cannot be written."""


class StoreClosedError(StoreError):
    """A record was submitted to a store that is closed."""


class StoreWriteError(StoreError):
    """A record could not be committed; ``record`` is what was rejected and ``cause`` why."""

    def __init__(self, message: str, record: object = None, cause: BaseException | None = None) -> None:
        super().__init__(message)
        self.record = record
        self.cause = cause


class StoreUnavailableError(StoreWriteError):
    """The storage refuses writes for now (disk full, I/O error); queued records are kept and retried."""

    def __init__(self, message: str, path: Path | str | None = None, cause: BaseException | None = None) -> None:
        super().__init__(message, cause=cause)
        self.path = Path(path) if path is not None else None
