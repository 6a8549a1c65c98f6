# expect: not '*' alone
from engine import DAGWorkflow, workflow


@workflow(name="loop_forever", trigger={"on": "*"})  # ERROR
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
