# expect: UnknownDependencyError
from engine import DAGWorkflow, workflow


@workflow(name="unknown_dep")
def build():
    dag = DAGWorkflow("unknown_dep")
    dag.add_task("fetch", lambda: 1)
    dag.add_task("load", lambda nowhere: 2, depends_on=["nowhere"])  # ERROR
    return dag
