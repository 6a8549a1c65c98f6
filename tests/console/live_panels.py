"""Shared pieces of the panel tests: workflow files for a real Engine,
an engine fixture, waiting for the UI, and reading what the screen shows."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Callable

import pytest

from engine import Engine, EventDrivenWorkflow, FakeClock, RetryPolicy

from console.app import FlowConsoleApp
from tests.console.conftest import T0, quiet

SIZE = (140, 40)

# A DAG whose "charge" task fails for good until fixed.flag exists beside it.
SHOP = '''
from pathlib import Path
from engine import RetryPolicy, workflow
from engine.dag import DAGWorkflow

FLAG = Path(__file__).with_name("fixed.flag")


def charge(order):
    if not FLAG.exists():
        raise ConnectionError("payment gateway down")
    return "charged " + str(order["amount"])


@workflow(name="shop", description="charges fail until fixed.flag exists")
def build():
    dag = DAGWorkflow("shop")
    dag.add_task("order", lambda: {"amount": 3})
    dag.add_task("charge", charge, depends_on=["order"],
                 retry=RetryPolicy(max_attempts=2, base_delay=0.0, jitter="none"))
    return dag
'''

# A saga whose shipping fails; the refund (pay's compensation) fails until refund.flag exists.
ORDER = '''
from pathlib import Path
from engine import RetryPolicy, workflow
from engine.saga import SagaOrchestrator

FLAG = Path(__file__).with_name("refund.flag")


def refund():
    if not FLAG.exists():
        raise RuntimeError("refund service down")


def ship():
    raise RuntimeError("no courier")


@workflow(name="order", description="shipping fails; refunds fail until refund.flag exists")
def build():
    saga = SagaOrchestrator("order", compensation_retry=RetryPolicy(max_attempts=1, base_delay=0.0, jitter="none"))
    saga.add_step("reserve", lambda: "r1", lambda: None)
    saga.add_step("pay", lambda: "p1", refund)
    saga.add_step("ship", ship, lambda: None)
    return saga
'''

# A door: "lock" is guarded by has_key, which refuses while the context has no key.
DOOR = '''
from engine import workflow
from engine.fsm import StateMachine


def has_key(ctx):
    return bool(ctx.get("key"))


@workflow(name="door")
def build():
    machine = StateMachine("closed", name="door", final_states=["gone"])
    machine.add_transition("closed", "open", "open")
    machine.add_transition("open", "closed", "close")
    machine.add_transition("closed", "locked", "lock", guard=has_key)
    machine.add_transition("*", "gone", "remove")
    return machine
'''

FILES = {"shop.py": SHOP, "order.py": ORDER, "door.py": DOOR}


@pytest.fixture
def workflow_dir(tmp_path: Path) -> Path:
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    return tmp_path


@pytest.fixture
def live_engine(workflow_dir: Path):
    engine = Engine(workflow_dir, watch=False, schedules=False, check_timeout=None)
    yield engine
    engine.stop()


def ledger_offline_until_flag(engine: Engine, workflow_dir: Path) -> Path:
    """A ``payments`` handler of ``order.paid`` that fails (one attempt, then a
    dead letter) until the returned flag file exists."""
    flag = workflow_dir / "handler.flag"
    flow = EventDrivenWorkflow("payments", engine.bus, runtime=engine.runtime)

    def on_paid(event: Any) -> None:
        if not flag.exists():
            raise RuntimeError("ledger offline")

    flow.on_event("order.paid", retry=RetryPolicy(max_attempts=1, base_delay=0.0, jitter="none"))(on_paid)
    return flag


def make_live_app(engine: Engine, *, readonly: bool = False) -> FlowConsoleApp:
    """The console on a real engine; the bridge subscribes before the engine starts."""
    app = quiet(FlowConsoleApp(engine, clock=FakeClock(T0), readonly=readonly))
    engine.start()
    return app


async def until(pilot: Any, condition: Callable[[], Any], timeout: float = 8.0, step: float = 0.05) -> None:
    """Let the app run until ``condition()`` is true (the drain and the frame need real time)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await pilot.pause(step)


def keys(text: str) -> list[str]:
    """Pilot key names that type ``text``."""
    names = {" ": "space", "/": "slash", ":": "colon", "_": "underscore", "-": "minus", ".": "full_stop"}
    return [names.get(ch, ch) for ch in text]


def screen_text(app: FlowConsoleApp) -> str:
    """What the terminal shows now, as plain lines."""
    strips = app.screen._compositor.render_strips()
    return "\n".join("".join(segment.text for segment in strip) for strip in strips)


def static_text(app: FlowConsoleApp, selector: str) -> str:
    """The plain text a ``Static`` holds, shown or scrolled out of sight."""
    content = app.query_one(selector).content
    return getattr(content, "plain", str(content))


def click_actions(app: FlowConsoleApp) -> list[Any]:
    """Every click action bound anywhere on the screen (markup injection would add some)."""
    found = []
    for strip in app.screen._compositor.render_strips():
        for segment in strip:
            meta = segment.style.meta if segment.style is not None else {}
            if meta and "@click" in meta:
                found.append(meta["@click"])
    return found


def letters(engine: Engine, **filters: Any) -> list[Any]:
    return engine.runtime.dlq.list(**filters)
