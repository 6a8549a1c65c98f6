"""Multi-row statements: many rows per SQLite step.

The sqlite3 module gives up the GIL for every step and must win it back
after; with busy worker threads that wait is what a row costs. Writing rows
in multi-row ``VALUES`` statements of a few fixed sizes (each prepared once
and cached) takes one step per chunk instead of one per row, and keeps the
rows' order, so an upsert sees them one after another as if run singly.
"""

from __future__ import annotations

import sqlite3
from itertools import chain
from typing import Any, Sequence

_flatten = chain.from_iterable

# 2,048 rows of up to 10 columns stay under SQLite's default limit of 32,766
# parameters per statement.
CHUNKS = (2048, 256, 32, 4, 1)


def statements(head: str, width: int, tail: str = "") -> dict[int, str]:
    """``head VALUES (?...),(?...)... tail`` for each chunk size, by size."""
    row = "(" + ",".join("?" * width) + ")"
    return {size: f"{head} VALUES {','.join([row] * size)} {tail}".rstrip() for size in CHUNKS}


def execute_rows(conn: sqlite3.Connection, sql: dict[int, str], rows: Sequence[Sequence[Any]]) -> None:
    """Write ``rows`` in order with the statements ``sql`` (from `statements`)."""
    start, total = 0, len(rows)
    for size in CHUNKS:
        text = sql[size]
        while total - start >= size:
            conn.execute(text, list(_flatten(rows[start:start + size])))
            start += size
