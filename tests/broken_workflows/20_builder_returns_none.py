# expect: returned NoneType, not a workflow
from engine import workflow


@workflow(name="nothing")  # ERROR
def build():
    return None
