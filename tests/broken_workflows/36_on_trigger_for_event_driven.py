# expect: an event-driven workflow reacts to its events by itself
from engine import EventDrivenWorkflow, workflow


@workflow(name="double_trigger", trigger={"on": "order.*"})  # ERROR
def build(ctx):
    wf = EventDrivenWorkflow("double_trigger", bus=ctx.runtime.bus)
    wf.on_event("order.created")(lambda event: None)
    return wf
