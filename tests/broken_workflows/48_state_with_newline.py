# expect: state 'done\n' is not an identifier
from engine import StateMachine, workflow


@workflow(name="newline_state")  # ERROR
def build():
    machine = StateMachine("start", name="newline_state", final_states=["done\n"])
    machine.add_transition("start", "done\n", "finish")
    return machine
