# expect: field 'retry.max_attempts'
from engine import DAGWorkflow, workflow


@workflow(name="never_tries", retry={"max_attempts": 0})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
