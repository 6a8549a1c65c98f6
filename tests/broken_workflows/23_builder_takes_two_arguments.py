# expect: must take no argument or one
from engine import DAGWorkflow, workflow


@workflow(name="greedy")  # ERROR
def build(ctx, extra):
    return DAGWorkflow()
