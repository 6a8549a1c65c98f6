"""A flaky API behind a circuit breaker, with retries; its failures reach the dead-letter queue.

The API fails about 70% of the calls (a seeded random sequence, so runs
repeat). Each call goes through the ``flaky-api`` breaker and is retried 3
times with backoff; a call that still fails, or is refused by the open
breaker, fails its task, which lands in the dead-letter queue. Runs every 4
seconds.
"""

import random

from engine import DAGWorkflow, workflow

_rng = random.Random(7)


def unreliable_api_call() -> str:
    if _rng.random() < 0.7:
        raise ConnectionError("API call failed (fails on purpose about 70% of the time)")
    return "Success"


@workflow(
    name="flaky_api_fails_sometimes",
    description="Fails on purpose ~70% of calls: breaker 'flaky-api' + 3 retries; exhausted calls go to the dead-letter queue",
    tags=["resilience", "seed", "fails-on-purpose"],
    trigger={"every": "4s"},
    retry={"max_attempts": 3, "base_delay": 0.1, "max_delay": 0.5},
    breakers=[{"name": "flaky-api", "failure_threshold": 5, "timeout": 5}],
)
def build(ctx):
    breaker = ctx.breaker("flaky-api")
    dag = DAGWorkflow("flaky_api_fails_sometimes")
    # local: the breaker's counts live in the engine, so the call goes through
    # it here even when the tasks go to Dask (--executor dask-local).
    dag.add_task("call_api", lambda: breaker.call(unreliable_api_call), retry=ctx.retry, local=True)
    dag.add_task("record", lambda call_api: f"recorded {call_api}", depends_on=["call_api"])
    return dag
