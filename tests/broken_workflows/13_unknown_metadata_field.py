# expect: field 'retries': Extra inputs are not permitted
from engine import DAGWorkflow, workflow


@workflow(name="typo", retries=3)  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
