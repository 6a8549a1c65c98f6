# expect: NotCallableTaskError
from engine import DAGWorkflow, workflow


@workflow(name="not_callable")
def build():
    dag = DAGWorkflow("not_callable")
    dag.add_task("answer", 42)  # ERROR
    return dag
