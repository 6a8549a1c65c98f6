# expect: TaskSignatureError
from engine import DAGWorkflow, workflow


@workflow(name="deaf_task")
def build():
    dag = DAGWorkflow("deaf_task")
    dag.add_task("extract", lambda: [1, 2])
    dag.add_task("load", lambda: None, depends_on=["extract"])  # ERROR
    return dag
