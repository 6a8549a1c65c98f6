# expect: has no handlers
from engine import EventDrivenWorkflow, workflow


@workflow(name="deaf", start_event="ping")  # ERROR
def build(ctx):
    return EventDrivenWorkflow("deaf", bus=ctx.runtime.bus)
