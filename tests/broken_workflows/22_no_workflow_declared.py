# ERROR expect: no workflow declared
from engine import DAGWorkflow

dag = DAGWorkflow("forgotten")
dag.add_task("a", lambda: 1)
