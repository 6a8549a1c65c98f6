# expect: workflow name 'serving' is already declared in
from engine import DAGWorkflow, workflow


@workflow(name="serving")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
