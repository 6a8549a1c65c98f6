# expect: field 'breakers
from engine import DAGWorkflow, workflow


@workflow(name="anonymous_breaker", breakers=[{"failure_threshold": 3}])  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
