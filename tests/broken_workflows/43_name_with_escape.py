# expect: is not a workflow name
from engine import DAGWorkflow, workflow


@workflow(name="nightly\x1b[2J")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
