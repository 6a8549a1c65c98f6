"""The seed's deployment pipeline state machine, driven live by a release DAG.

``deployment_pipeline`` is the state machine (idle -> building -> testing ->
awaiting_approval -> staging -> production, rollback from anywhere). Every 8
seconds ``deployment_release`` creates a new instance and walks it through
the pipeline; every third release fails its tests on purpose and ends in
``failed``. Instances also take events from the console (``fire``).
"""

import itertools

from engine import DAGWorkflow, StateMachine, workflow

_releases = itertools.count(1)


def can_deploy(ctx: dict) -> bool:
    return bool(ctx.get("tests_passed") and ctx.get("approved"))


def deploy_to_staging(ctx: dict) -> None:
    ctx["staging_url"] = "https://staging.example.com"


def deploy_to_production(ctx: dict) -> None:
    ctx["production_url"] = "https://example.com"


def rollback(ctx: dict) -> None:
    ctx["rolled_back"] = True


@workflow(
    name="deployment_pipeline",
    description="The seed's deployment state machine; production, failed and rollback are final",
    tags=["state_machine", "seed"],
)
def pipeline():
    machine = StateMachine("idle", name="deployment_pipeline", final_states=["production", "failed", "rollback"])
    machine.add_transition("idle", "building", "start")
    machine.add_transition("building", "testing", "build_complete")
    machine.add_transition("testing", "awaiting_approval", "tests_passed")
    machine.add_transition("testing", "failed", "tests_failed")
    machine.add_transition("awaiting_approval", "staging", "approved", action=deploy_to_staging)
    machine.add_transition("staging", "production", "promote", guard=can_deploy, action=deploy_to_production)
    machine.add_transition("*", "rollback", "rollback", action=rollback)
    return machine


def _release(runtime) -> str:
    machine = runtime.definitions.get("deployment_pipeline")
    number = next(_releases)
    instance = machine.definition.create_instance(f"release-{number}", context={})
    step = runtime.clock.sleep
    for event in ("start", "build_complete"):
        step(0.4)
        instance.trigger(event)
    step(0.4)
    if number % 3 == 0:
        instance.trigger("tests_failed")
        raise RuntimeError(f"release-{number}: tests failed (every third release fails on purpose)")
    instance.context["tests_passed"] = True
    instance.trigger("tests_passed")
    step(0.4)
    instance.context["approved"] = True
    instance.trigger("approved")
    step(0.4)
    instance.trigger("promote")
    return instance.current_state


@workflow(
    name="deployment_release",
    description="Every 8s drives a new deployment_pipeline instance to production; every third release fails its tests on purpose",
    tags=["state_machine", "driver"],
    trigger={"every": "8s"},
)
def release(ctx):
    dag = DAGWorkflow("deployment_release")
    # local: it drives the engine's state machine, so it runs in the engine
    # even when the tasks go to Dask (--executor dask-local).
    dag.add_task("release", lambda: _release(ctx.runtime), local=True)
    return dag
