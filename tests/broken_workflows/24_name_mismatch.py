# expect: field 'name'
from engine import DAGWorkflow, workflow


@workflow(name="declared_name")  # ERROR
def build():
    dag = DAGWorkflow("other_name")
    dag.add_task("a", lambda: 1)
    return dag
