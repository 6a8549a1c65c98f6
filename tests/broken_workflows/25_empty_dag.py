# expect: the DAG has no tasks
from engine import DAGWorkflow, workflow


@workflow(name="empty")  # ERROR
def build():
    return DAGWorkflow()
