# expect: SyntaxError
from engine import DAGWorkflow, workflow


@workflow(name="broken_syntax")
def build(:  # ERROR
    return DAGWorkflow()
