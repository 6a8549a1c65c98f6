"""The seed's ETL pipeline as a live DAG: fetch, validate, transform, save twice, notify.

Runs every 10 seconds. Each task takes a moment (on the engine's clock), so
the DAG view shows tasks running in parallel: ``save_db`` and ``save_cache``
both wait for ``transform`` and run side by side.
"""

from engine import DAGWorkflow, workflow


def fetch_data_from_api() -> list[dict]:
    return [{"id": i, "amount": i * 10} for i in range(1, 6)]


def validate_data(rows: list[dict]) -> list[dict]:
    return [row for row in rows if row["amount"] > 0]


def transform_data(rows: list[dict]) -> list[dict]:
    return [{**row, "amount_eur": round(row["amount"] * 0.92, 2)} for row in rows]


def save_to_db(rows: list[dict]) -> int:
    return len(rows)


def save_to_cache(rows: list[dict]) -> int:
    return len(rows)


def send_notification(saved: int, cached: int) -> str:
    return f"saved {saved} rows, cached {cached}"


@workflow(
    name="etl_pipeline",
    description="The seed's ETL DAG: fetch -> validate -> transform -> save_db + save_cache -> notify; succeeds",
    tags=["dag", "seed", "data"],
    trigger={"every": "10s"},
    max_parallel=4,
)
def build(ctx):
    # Simulated work waits on the engine's clock, so tests with a FakeClock never sleep.
    work = ctx.runtime.clock.sleep
    dag = DAGWorkflow("etl_pipeline")
    dag.add_task("fetch", lambda: (work(0.3), fetch_data_from_api())[1])
    dag.add_task("validate", lambda fetch: (work(0.2), validate_data(fetch))[1], depends_on=["fetch"])
    dag.add_task("transform", lambda validate: (work(0.3), transform_data(validate))[1], depends_on=["validate"])
    dag.add_task("save_db", lambda transform: (work(0.4), save_to_db(transform))[1], depends_on=["transform"])
    dag.add_task("save_cache", lambda transform: (work(0.2), save_to_cache(transform))[1], depends_on=["transform"])
    dag.add_task(
        "notify",
        lambda save_db, save_cache: send_notification(save_db, save_cache),
        depends_on=["save_db", "save_cache"],
    )
    return dag
