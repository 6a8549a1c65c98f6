"""The seed's worker-pool example made live: 20 prioritized jobs on 4 workers.

Every 5 seconds a pool of 4 work-stealing workers squares the numbers 0..19;
a lower priority number runs first, so the console's pool metrics show the
queue draining from priority 0 up. Each job takes a moment on the engine's
clock. Succeeds; the run's result lists the squares in submission order.
"""

from engine import PoolJob, workflow


def square(clock, x: int) -> int:
    clock.sleep(0.05 + (x % 4) * 0.05)
    return x ** 2


@workflow(
    name="pool_priority_jobs",
    description="The seed's WorkerPool example: 20 jobs squared on 4 workers, lowest priority number first; succeeds",
    tags=["pool", "seed"],
    trigger={"every": "5s"},
)
def build(ctx):
    job = PoolJob("pool_priority_jobs", num_workers=4)
    for i in range(20):
        # The clock, not the runtime: on Dask each job travels to a worker.
        job.submit(square, i, ctx.runtime.clock, x=i)
    return job
