# expect: DAGCycleError
from engine import DAGWorkflow, workflow


@workflow(name="cyclic")
def build():
    dag = DAGWorkflow("cyclic")
    dag.add_task("start", lambda: 1)
    dag.add_task("a", lambda start, b: 1, depends_on=["start", "b"])  # ERROR
    dag.add_task("b", lambda a: 2, depends_on=["a"])
    return dag
