# expect: must not signal its parent process
import os
import signal

from engine import DAGWorkflow, workflow

os.kill(os.getppid(), signal.SIGKILL)  # ERROR


@workflow(name="parricide")
def build():
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
