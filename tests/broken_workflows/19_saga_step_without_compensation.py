# expect: saga step 'charge' has no compensation
from engine import workflow
from engine.saga.orchestrator import SagaOrchestrator


def reserve():
    return "reserved"


def release():
    return None


def charge():  # ERROR
    return "charged"


@workflow(name="half_saga")
def build():
    saga = SagaOrchestrator("half_saga")
    saga.add_step("reserve", reserve, release)
    saga.add_step("charge", charge)
    return saga
