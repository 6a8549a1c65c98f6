# expect: field 'failure_policy'
from engine import DAGWorkflow, workflow


@workflow(name="explosive", failure_policy="explode")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
