# expect: is not a finite number of seconds
from engine import DAGWorkflow, workflow


@workflow(name="interval_inf", trigger={"every": float("inf")})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
