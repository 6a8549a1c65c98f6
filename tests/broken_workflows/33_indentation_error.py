# expect: SyntaxError: expected an indented block
from engine import DAGWorkflow, workflow


@workflow(name="flat")
def build():
dag = DAGWorkflow()  # ERROR
