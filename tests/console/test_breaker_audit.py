"""Breaker actions ask why and name the operator; every audited console action names the operator."""

from __future__ import annotations

import getpass
from pathlib import Path

import pytest

from engine import FakeClock
from engine.host import Engine

from console.app import FlowConsoleApp
from console.cli import build_open_parser
from console.commands import EngineCommands
from console.widgets.breaker_board import BreakerBoard
from console.widgets.reason_dialog import ReasonDialog
from tests.console.conftest import T0, quiet
from tests.console.live_panels import FILES, SIZE, keys, until

@pytest.fixture
def engine(tmp_path: Path):
    """A real engine on the panels' sample files (as live_panels' live_engine)."""
    for name, text in FILES.items():
        (tmp_path / name).write_text(text)
    live = Engine(tmp_path, watch=False, schedules=False, check_timeout=None)
    yield live
    live.stop()


ACTIONS = [("o", "force_open", "forced_open"), ("c", "force_closed", "forced_closed"), ("x", "reset", None)]


def _app(engine, **kwargs) -> FlowConsoleApp:
    app = quiet(FlowConsoleApp(engine, clock=FakeClock(T0), **kwargs))
    engine.start()
    return app


async def _board(app, engine, pilot) -> BreakerBoard:
    engine.runtime.breakers.get_or_create("pay-api", failure_threshold=3, timeout=30)
    await pilot.press("4")
    await until(pilot, lambda: "pay-api" in app.view_states["cb"].tiles)
    return app.query_one(BreakerBoard)


def _forced(engine) -> list[dict]:
    return [e.data for e in engine.bus.event_store if e.type == "breaker.forced"]


@pytest.mark.parametrize(("key", "action", "override"), ACTIONS)
async def test_a_breaker_action_asks_for_a_reason_and_records_it_with_the_operator(
    engine, key, action, override
):
    app = _app(engine, actor="alice")
    async with app.run_test(size=SIZE) as pilot:
        await _board(app, engine, pilot)
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press(*keys("payments drill"), "enter")
        await until(pilot, lambda: _forced(engine))
    forced = _forced(engine)[-1]
    assert (forced["action"], forced["actor"], forced["reason"], forced["override"]) == (
        action, "alice", "payments drill", override)


async def test_a_breaker_action_without_a_reason_is_not_sent(engine):
    app = _app(engine)
    async with app.run_test(size=SIZE) as pilot:
        board = await _board(app, engine, pilot)
        await pilot.press("o")
        await until(pilot, lambda: isinstance(app.screen, ReasonDialog))
        await pilot.press("enter")
        assert isinstance(app.screen, ReasonDialog), "an empty reason is refused"
        await pilot.press("escape")
        await until(pilot, lambda: not isinstance(app.screen, ReasonDialog))
        await pilot.pause(0.2)
        assert app.focused is board
    assert _forced(engine) == []
    assert engine.runtime.breakers.get("pay-api").snapshot()["override"] is None


def test_the_operator_is_the_os_user_by_default():
    assert EngineCommands(None).actor == getpass.getuser()
    assert FlowConsoleApp(None).commands.actor == getpass.getuser()


def test_actor_names_the_operator_of_every_audited_command():
    assert FlowConsoleApp(None, actor="bob").commands.actor == "bob"
    assert build_open_parser().parse_args(["--actor", " bob "]).actor == "bob"


@pytest.mark.parametrize("name", ["", "   ", "a\tb"])
def test_an_empty_or_unprintable_actor_is_a_usage_error(name, capsys):
    with pytest.raises(SystemExit) as stop:
        build_open_parser().parse_args(["--actor", name])
    assert stop.value.code == 2
    assert "--actor" in capsys.readouterr().err
