# expect: is not an identifier
from engine import DAGWorkflow, workflow


@workflow(name="escaped_task")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("load\x1b[2J", lambda: 1)
    return dag
