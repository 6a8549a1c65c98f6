# expect: is not a workflow name
from engine import DAGWorkflow, workflow


@workflow(name="nightly\n")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
