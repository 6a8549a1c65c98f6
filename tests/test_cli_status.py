"""``flowconsole status``: a state directory's summary, with no engine running."""

from __future__ import annotations

import json

import pytest

from console.cli import main
from engine import Event, EventBus, Runtime
from engine.store import Store


@pytest.fixture
def state(tmp_path):
    """Runs (one still running), letters (one dead, one discarded), breakers (one open)."""
    path = tmp_path / "state"
    runtime = Runtime(EventBus())
    store = Store.open(path).attach(runtime)
    publish = runtime.bus.publish
    publish(Event("run.started", {"tasks": {}}, workflow="billing", run_id="r1"))
    publish(Event("run.started", {"tasks": {}}, workflow="billing", run_id="r2"))
    publish(Event("run.completed", {}, workflow="billing", run_id="r2"))
    publish(Event("run.started", {"tasks": {}}, workflow="etl", run_id="r3"))
    publish(Event("run.completed", {}, workflow="etl", run_id="r3"))
    runtime.dlq.add(source="task", unit="a", error=ValueError("x"), workflow="shipping")
    gone = runtime.dlq.add(source="task", unit="b", error=ValueError("y"), workflow="shipping")
    runtime.dlq.discard(gone.id, "duplicate")
    publish(Event("breaker.opened", {"breaker": "payments"}))
    publish(Event("breaker.opened", {"breaker": "ledger"}))
    publish(Event("breaker.closed", {"breaker": "ledger"}))
    publish(Event("breaker.forced", {"breaker": "mail", "action": "force_open", "state": "open"}))
    store.close()
    runtime.bus.close()
    return path


def test_status_json_is_one_object_with_every_field(state, capsys):
    assert main(["status", "--state-dir", str(state), "--json"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1
    status = json.loads(out)
    assert status["owner"] is None
    assert {k: status[k] for k in ("workflows", "runs_active", "dead_letters", "breakers_open")} == {
        "workflows": 3, "runs_active": 1, "dead_letters": 1, "breakers_open": 2,
    }
    assert status["db_size_bytes"] == (state / "flowconsole.db").stat().st_size > 0


def test_status_prints_a_short_table(state, capsys):
    assert main(["status", "--state-dir", str(state)]) == 0
    lines = dict(line.split("  ", 1) for line in capsys.readouterr().out.splitlines())
    assert {name.strip(): value.strip() for name, value in lines.items()} == {
        "state dir": str(state), "owner": "none live", "workflows": "3", "runs active": "1",
        "dead letters": "1", "breakers open": "2",
        "db size": lines["db size"].strip(),
    }
    assert lines["db size"].strip().endswith(f"({(state / 'flowconsole.db').stat().st_size} bytes)")


def test_status_writes_nothing_to_the_state_directory(state):
    db = state / "flowconsole.db"
    before = (db.stat().st_mtime_ns, db.stat().st_size)
    assert main(["status", "--state-dir", str(state), "--json"]) == 0
    assert (db.stat().st_mtime_ns, db.stat().st_size) == before
    # Only SQLite's own shared-memory files of a reader may appear: no attempt
    # file, no write probe.
    assert {p.name for p in state.iterdir()} <= {"flowconsole.db", "flowconsole.db-wal", "flowconsole.db-shm"}


def test_status_of_a_directory_without_a_store_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["status", "--state-dir", str(tmp_path)]) == 2
    assert "no flowconsole state here" in capsys.readouterr().err


def test_status_of_another_applications_database_is_one_line_and_exit_1(tmp_path, capsys):
    import sqlite3

    conn = sqlite3.connect(tmp_path / "flowconsole.db")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY)")
    conn.commit()
    conn.close()
    assert main(["status", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "another application" in err
