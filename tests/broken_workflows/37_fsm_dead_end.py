# expect: is not final and has no way out
from engine import workflow
from engine.fsm.machine import StateMachine


@workflow(name="stuck")  # ERROR
def build():
    machine = StateMachine("idle", name="stuck")
    machine.add_transition("idle", "waiting", "start")
    return machine
