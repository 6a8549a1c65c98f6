# expect: must not fork the process at import
import os

from engine import DAGWorkflow, workflow

if os.fork() == 0:  # ERROR
    os.read(os.open(os.devnull, os.O_RDONLY), 1)
    os._exit(0)


@workflow(name="forker")
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
