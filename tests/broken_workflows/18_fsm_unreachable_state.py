# expect: cannot be reached
from engine import workflow
from engine.fsm.machine import StateMachine


@workflow(name="island")  # ERROR
def build():
    machine = StateMachine("idle", name="island", final_states=["done", "island_end"])
    machine.add_transition("idle", "done", "finish")
    machine.add_transition("island", "island_end", "leave")
    return machine
