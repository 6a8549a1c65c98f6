# expect: field 'max_parallel'
from engine import DAGWorkflow, workflow


@workflow(name="no_parallel", max_parallel=0)  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
