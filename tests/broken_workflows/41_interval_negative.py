# expect: shorter than the minimum
from engine import DAGWorkflow, workflow


@workflow(name="interval_negative", trigger={"every": -5})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
