"""The database file: opening it safely, its schema version and forward migrations.

A file is only ever written after it has been recognised as ours (or as a new,
empty file): a file that is not SQLite, or an SQLite database of another
application, raises an error naming the file and is never modified.
``PRAGMA application_id`` marks our files; ``PRAGMA user_version`` holds the
schema version, and each migration moves it forward by one inside a transaction.
"""

from __future__ import annotations

import contextlib
import errno
import os
import sqlite3
from pathlib import Path
from typing import Literal

from .errors import StoreCorruptError, StoreError, StoreForeignError, StoreReadOnlyError, StoreUnavailableError

Durability = Literal["normal", "full"]

DB_NAME = "flowconsole.db"
APPLICATION_ID = 0x466C6F43  # "FloC"
_SQLITE_HEADER = b"SQLite format 3\x00"
_PROBE_SIZE = 4096
_SQLITE_READONLY, _SQLITE_IOERR, _SQLITE_FULL = 8, 10, 13

# Migration N (1-based) brings user_version from N-1 to N. Never edit a
# released migration: append a new one.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            id TEXT NOT NULL,
            type TEXT NOT NULL,
            ts REAL NOT NULL,
            workflow TEXT,
            run_id TEXT,
            trace_id TEXT,
            span_id TEXT,
            data TEXT NOT NULL
        )""",
        "CREATE INDEX events_ts ON events (ts)",
        """CREATE TABLE dead_letters (
            id TEXT PRIMARY KEY,
            created REAL NOT NULL,
            workflow TEXT,
            source TEXT,
            error_type TEXT,
            body TEXT NOT NULL
        )""",
        "CREATE INDEX dead_letters_created ON dead_letters (created)",
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            workflow TEXT,
            kind TEXT NOT NULL,
            status TEXT NOT NULL,
            started REAL,
            finished REAL,
            data TEXT NOT NULL DEFAULT '{}'
        )""",
        "CREATE INDEX runs_status ON runs (status)",
        """CREATE TABLE tasks (
            run_id TEXT NOT NULL,
            task TEXT NOT NULL,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            started REAL,
            finished REAL,
            result TEXT,
            has_result INTEGER NOT NULL DEFAULT 0,
            error_type TEXT,
            error TEXT,
            PRIMARY KEY (run_id, task)
        ) WITHOUT ROWID""",
        """CREATE TABLE saga_steps (
            run_id TEXT NOT NULL,
            step TEXT NOT NULL,
            action TEXT NOT NULL,
            position INTEGER,
            ts REAL,
            result TEXT,
            PRIMARY KEY (run_id, step, action)
        ) WITHOUT ROWID""",
        """CREATE TABLE fsm_instances (
            workflow TEXT NOT NULL,
            instance_id TEXT NOT NULL,
            state TEXT NOT NULL,
            context TEXT,
            history TEXT NOT NULL DEFAULT '[]',
            updated REAL,
            PRIMARY KEY (workflow, instance_id)
        )""",
    ),
    (
        """CREATE TABLE commands (
            id TEXT PRIMARY KEY,
            kind TEXT NOT NULL,
            args TEXT NOT NULL,
            actor TEXT NOT NULL,
            reason TEXT,
            created REAL NOT NULL,
            deadline REAL NOT NULL,
            status TEXT NOT NULL,
            owner TEXT,
            claimed REAL,
            finished REAL,
            result TEXT,
            error TEXT
        )""",
        "CREATE INDEX commands_status ON commands (status, created)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


def check_state_dir(state_dir: Path) -> Path:
    """Create ``state_dir`` if needed and prove it writable; returns the database path."""
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
    except PermissionError as exc:
        raise StoreReadOnlyError(
            f"{state_dir}: cannot create the state directory ({exc.strerror})", state_dir
        ) from exc
    except FileExistsError as exc:
        raise StoreReadOnlyError(f"{state_dir}: exists and is not a directory", state_dir) from exc
    if not state_dir.is_dir():
        raise StoreReadOnlyError(f"{state_dir}: exists and is not a directory", state_dir)
    # os.access() says yes to root even on a read-only directory, so try it;
    # a page of data, not an empty file, so that a full disk shows too.
    probe = state_dir / f".write-probe-{os.getpid()}"
    try:
        with probe.open("wb", buffering=0) as handle:
            handle.write(bytes(_PROBE_SIZE))
    except OSError as exc:
        with contextlib.suppress(OSError):
            probe.unlink()  # a half-written probe on a full disk
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise StoreUnavailableError(
                f"{state_dir}: no space left for the store ({exc.strerror})", state_dir, exc
            ) from exc
        raise StoreReadOnlyError(
            f"{state_dir}: the state directory is read-only ({exc.strerror})", state_dir
        ) from exc
    probe.unlink()
    return state_dir / DB_NAME


def database_size(path: Path) -> int:
    """Bytes ``path`` and its write-ahead log take (0 for what does not exist)."""
    total = 0
    for file in (path, path.with_name(path.name + "-wal")):
        try:
            total += file.stat().st_size
        except OSError:
            continue
    return total


def _check_header(path: Path) -> bool:
    """True if ``path`` holds data; raises if that data is not an SQLite database."""
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        return False
    if size == 0:
        return False
    with path.open("rb") as handle:
        header = handle.read(len(_SQLITE_HEADER))
    if header != _SQLITE_HEADER:
        raise StoreCorruptError(
            f"{path}: not an SQLite database (bad header); refusing to touch it", path
        )
    return True


def connect(path: Path, durability: Durability, *, readonly: bool = False) -> sqlite3.Connection:
    """A connection to ``path`` tuned for ``durability`` (autocommit; callers BEGIN)."""
    if readonly:
        conn = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, check_same_thread=False
        )
    else:
        conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA busy_timeout = 30000")
    if not readonly:
        conn.execute("PRAGMA synchronous = " + ("FULL" if durability == "full" else "NORMAL"))
    return conn


def open_database(path: Path, durability: Durability) -> sqlite3.Connection:
    """Open (creating or migrating) the store's database; the writer's connection."""
    existed = _check_header(path)
    try:
        conn = connect(path, durability)
    except sqlite3.Error as exc:
        raise StoreCorruptError(f"{path}: cannot open the database: {exc}", path) from exc
    try:
        if existed:
            _check_identity(conn, path)
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise StoreReadOnlyError(f"{path}: cannot switch the database to WAL mode", path)
        migrate(conn, path)
        _probe_write(conn, path)
    except sqlite3.DatabaseError as exc:
        conn.close()
        if "readonly" in str(exc) or "read-only" in str(exc):
            raise StoreReadOnlyError(f"{path}: the database is read-only: {exc}", path) from exc
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF in (_SQLITE_FULL, _SQLITE_IOERR):
            raise StoreUnavailableError(f"{path}: the database cannot be written: {exc}", path, exc) from exc
        raise StoreCorruptError(f"{path}: the database is damaged: {exc}", path) from exc
    except BaseException:
        conn.close()
        raise
    return conn


def check_database(path: Path) -> None:
    """Raise unless ``path`` is a flowconsole database this version can read; never writes."""
    if not _check_header(path):
        raise StoreCorruptError(f"{path}: the database is empty", path)
    try:
        conn = connect(path, "normal", readonly=True)
    except sqlite3.Error as exc:
        raise StoreCorruptError(f"{path}: cannot open the database: {exc}", path) from exc
    try:
        _check_identity(conn, path)
    except sqlite3.DatabaseError as exc:
        raise unreadable(path, exc) from exc
    finally:
        conn.close()


def unreadable(path: Path, exc: sqlite3.Error) -> StoreError:
    """Why a database that is ours could not be read, told apart by its directory.

    Reading a WAL database writes its shared-memory index beside it, so a
    read-only or full filesystem stops a reader too; say so, rather than
    calling the file damaged.
    """
    folder = path.parent
    try:
        stats = os.statvfs(folder)
    except OSError:
        stats = None
    if stats is not None and stats.f_flag & os.ST_RDONLY or not os.access(folder, os.W_OK):
        return StoreReadOnlyError(
            f"{folder}: the state directory is read-only, and reading a WAL database needs to "
            f"write its index beside it ({exc})", folder,
        )
    if stats is not None and stats.f_bavail == 0:
        return StoreUnavailableError(f"{folder}: no space left for the store ({exc})", folder, exc)
    return StoreCorruptError(f"{path}: the database is damaged: {exc}", path)


def _probe_write(conn: sqlite3.Connection, path: Path) -> None:
    """Prove the file writable: SQLite opens a file it may not write read-only, silently.

    Rewriting ``user_version`` with its own value, rolled back, makes SQLite
    try a write without changing the file.
    """
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    conn.execute("BEGIN IMMEDIATE")
    try:
        conn.execute(f"PRAGMA user_version = {int(version)}")
    except sqlite3.OperationalError as exc:
        if getattr(exc, "sqlite_errorcode", 0) & 0xFF == _SQLITE_READONLY:
            raise StoreReadOnlyError(f"{path}: the database file is read-only ({exc})", path) from exc
        raise
    finally:
        if conn.in_transaction:
            conn.execute("ROLLBACK")


def _check_identity(conn: sqlite3.Connection, path: Path) -> None:
    app_id = conn.execute("PRAGMA application_id").fetchone()[0]
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if app_id == APPLICATION_ID:
        if version > SCHEMA_VERSION:
            raise StoreForeignError(
                f"{path}: written by a newer flowconsole (schema {version}, "
                f"this one knows up to {SCHEMA_VERSION}); refusing to touch it",
                path,
            )
        return
    tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
    if app_id != 0 or tables:
        raise StoreForeignError(
            f"{path}: an SQLite database of another application "
            f"(application_id {app_id:#x}, {tables} schema objects); refusing to touch it",
            path,
        )


def migrate(conn: sqlite3.Connection, path: Path) -> int:
    """Apply every migration newer than the file's schema; returns the final version."""
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    for number in range(version + 1, SCHEMA_VERSION + 1):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[number - 1]:
                conn.execute(statement)
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {number}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return SCHEMA_VERSION
