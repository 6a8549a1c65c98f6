# expect: initial state
from engine import workflow
from engine.fsm.machine import StateMachine


@workflow(name="no_initial")
def build():
    machine = StateMachine(None, name="no_initial")  # ERROR
    machine.add_transition("a", "b", "go")
    return machine
