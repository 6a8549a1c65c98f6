"""Append numbered events to the store forever, printing each acknowledged number.

    python -m tests.crash_helpers.log_append STATE_DIR

On start it continues from the highest number committed before (so numbers
are never reused); every 50 appends it flushes and prints the last number,
which is therefore acknowledged (committed) when it is printed.
"""

from __future__ import annotations

import sys

from engine import Event
from engine.store import Store


def main() -> int:
    store = Store.open(sys.argv[1])
    with store.reader() as conn:
        row = conn.execute(
            "SELECT max(json_extract(data, '$.n')) FROM events WHERE type = 'crash.tick'"
        ).fetchone()
    n = row[0] or 0
    print("READY", flush=True)
    while True:
        for _ in range(50):
            n += 1
            store.append(Event("crash.tick", {"n": n}))
        store.flush()
        print(n, flush=True)


if __name__ == "__main__":
    sys.exit(main())
