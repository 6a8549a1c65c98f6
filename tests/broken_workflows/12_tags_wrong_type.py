# expect: field 'tags'
from engine import DAGWorkflow, workflow


@workflow(name="bad_tags", tags="nightly")  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
