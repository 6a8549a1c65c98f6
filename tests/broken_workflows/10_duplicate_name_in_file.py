# expect: duplicate workflow name 'twice'
from engine import DAGWorkflow, workflow


@workflow(name="twice")
def first():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag


@workflow(name="twice")  # ERROR
def second():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
