# expect: longer than the maximum
from engine import DAGWorkflow, workflow


@workflow(name="interval_huge", trigger={"every": 1e300})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
