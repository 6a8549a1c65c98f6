"""Run (or resume) a DAG whose tasks append their id to a file; killed at random by the tests.

    python -m tests.crash_helpers.dag_run STATE_DIR EFFECTS N_TASKS SEED [POISON]

The DAG is the same on every start (seeded). An attempt cut short by a crash
counts toward its task's maximum, so every task has 10 attempts (more than
the crashes a test inflicts). With POISON, task ``t0`` kills its own process
on every attempt (it has 3 attempts). Prints ``READY`` once
the store is open, ``RUNNING`` once the run is started or resumed, and
``DONE <status>`` when it ended.
"""

from __future__ import annotations

import os
import random
import signal
import sys

from engine import EventBus, Runtime
from engine.dag.workflow import DAGWorkflow
from engine.resilience.retry import RetryPolicy
from engine.store import Store

RUN_ID = "crash-run"


def build(runtime: Runtime, effects: str, n_tasks: int, seed: int, poison: bool) -> DAGWorkflow:
    rng = random.Random(seed)
    fd = os.open(effects, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    dag = DAGWorkflow("crashdag", runtime=runtime, max_parallel=4)
    spare = RetryPolicy(max_attempts=10, base_delay=0.0, jitter="none")

    def make(tid: str):
        line = f"{tid}\n".encode()

        def task(**_inputs):
            os.write(fd, line)
            return tid

        return task

    def kill_self(**_inputs):
        os.kill(os.getpid(), signal.SIGKILL)

    for i in range(n_tasks):
        tid = f"t{i}"
        deps = sorted({f"t{j}" for j in rng.sample(range(i), min(i, rng.randint(0, 2)))}) if i else []
        if poison and i == 0:
            dag.add_task(tid, kill_self, retry=RetryPolicy(max_attempts=3, base_delay=0.0, jitter="none"))
        else:
            dag.add_task(tid, make(tid), deps, retry=spare)
    return dag


def main() -> int:
    state_dir, effects, n_tasks, seed = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    poison = len(sys.argv) > 5 and sys.argv[5] == "POISON"
    runtime = Runtime(EventBus())
    store = Store.open(state_dir).attach(runtime)
    dag = build(runtime, effects, n_tasks, seed, poison)
    print("READY", flush=True)
    report = store.recover(runtime, {"crashdag": dag})
    run = report.dag_runs.get(RUN_ID)
    if run is None:
        if any(r.run_id == RUN_ID for r in store.runs()):
            print("DONE already", flush=True)
            store.close()
            return 0
        run = dag.start(run_id=RUN_ID)
    print("RUNNING", flush=True)
    try:
        run.wait()
    except Exception as exc:  # noqa: BLE001 - the test reads the outcome from the store
        print(f"run ended with {type(exc).__name__}", flush=True)
    store.flush()
    print(f"DONE {run.status.value}", flush=True)
    store.close()
    runtime.bus.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
