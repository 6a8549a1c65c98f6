# expect: field 'trigger
from engine import DAGWorkflow, workflow


@workflow(name="bad_interval", trigger={"every": "soon"})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
