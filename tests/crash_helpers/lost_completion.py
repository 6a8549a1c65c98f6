"""A DAG ``a -> b`` whose ``a`` completes while the store cannot commit, and whose ``b`` kills the process.

    python -m tests.crash_helpers.lost_completion STATE_DIR EFFECTS

``a`` appends ``a`` to EFFECTS, then takes the database's write lock on a
connection of its own and keeps it, so its completion is still uncommitted
when ``b`` starts and kills the process (SIGKILL): the commit window of
issue 19.5, held open on purpose. ``a`` has 3 attempts, ``b`` 5. Prints
``READY`` once the store is open and ``DONE <status>`` if the run ends.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import sys

from engine import EventBus, Runtime
from engine.dag import DAGWorkflow
from engine.resilience.retry import RetryPolicy
from engine.store import Store

RUN_ID = "lost-completion"


def main() -> int:
    state_dir, effects = sys.argv[1], sys.argv[2]
    runtime = Runtime(EventBus())
    store = Store.open(state_dir).attach(runtime)
    held: list[sqlite3.Connection] = []

    def a() -> str:
        with open(effects, "a") as handle:
            handle.write("a\n")
        lock = sqlite3.connect(store.path, isolation_level=None, timeout=30)
        lock.execute("BEGIN IMMEDIATE")
        held.append(lock)
        return "from a"

    def b(a: str) -> str:
        os.kill(os.getpid(), signal.SIGKILL)
        return a

    dag = DAGWorkflow("lost", runtime=runtime)
    dag.add_task("a", a, retry=RetryPolicy(max_attempts=3, base_delay=0.0, jitter="none"))
    dag.add_task("b", b, ["a"], retry=RetryPolicy(max_attempts=5, base_delay=0.0, jitter="none"))
    print("READY", flush=True)
    report = store.recover(runtime, {"lost": dag})
    run = report.dag_runs.get(RUN_ID) or dag.start(run_id=RUN_ID)
    try:
        run.wait()
    except Exception as exc:  # noqa: BLE001 - the test reads the outcome from the store
        print(f"run ended with {type(exc).__name__}: {exc}", flush=True)
    for lock in held:
        lock.rollback()
        lock.close()
    store.flush()
    print(f"DONE {run.status.value}", flush=True)
    store.close()
    runtime.bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
