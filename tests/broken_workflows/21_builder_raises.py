# expect: KeyError while building: 'missing_setting'
from engine import DAGWorkflow, workflow

SETTINGS = {}


@workflow(name="needs_settings")
def build():
    dag = DAGWorkflow()
    url = SETTINGS["missing_setting"]  # ERROR
    dag.add_task("a", lambda: url)
    return dag
