"""``flowconsole dlq``: acting on the dead letters of a state directory."""

from __future__ import annotations

import json
import textwrap

import pytest

from console.cli import main
from engine import EventBus, FakeClock, Runtime
from engine.store import Store


IDS: list[str] = []


@pytest.fixture
def state(tmp_path):
    """A state directory with two dead letters of workflow ``billing``."""
    path = tmp_path / "state"
    runtime = Runtime(EventBus(), FakeClock())
    store = Store.open(path).attach(runtime)
    first = runtime.dlq.add(source="task", unit="charge", error=ValueError("card declined"),
                            payload={"inputs": {}}, workflow="billing")
    second = runtime.dlq.add(source="task", unit="refund", error=KeyError("account"),
                             payload={"inputs": {}}, workflow="billing")
    runtime.dlq.add(source="task", unit="ship", error=OSError("disk"), workflow="shipping")
    store.close()
    IDS[:] = [first.id, second.id]
    return path


@pytest.fixture
def workflows(tmp_path):
    """A workflow file whose ``billing`` DAG now succeeds."""
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "billing.py").write_text(textwrap.dedent("""
        from engine import workflow
        from engine.dag import DAGWorkflow

        @workflow(name="billing")
        def build(ctx):
            dag = DAGWorkflow("billing")
            dag.add_task("charge", lambda: "charged")
            dag.add_task("refund", lambda: "refunded")
            return dag
    """))
    return folder


def _letters(state):
    with Store.open(state) as store:
        return {letter.id: letter for letter in store.dead_letters.all()}


def test_list_prints_a_table_of_letters(state, capsys):
    assert main(["dlq", "list", "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert "charge" in out and "refund" in out and "ship" in out
    assert out.splitlines()[0].split()[:3] == ["ID", "STATUS", "WORKFLOW"]


def test_list_filters_by_workflow_and_error_as_json(state, capsys):
    assert main(["dlq", "list", "--state-dir", str(state), "--workflow", "billing",
                 "--error", "ValueError", "--json"]) == 0
    [letter] = json.loads(capsys.readouterr().out)
    assert (letter["unit"], letter["error"]) == ("charge", "card declined")


def test_show_prints_one_letter_in_full(state, capsys):
    first, _ = IDS
    assert main(["dlq", "show", first, "--state-dir", str(state)]) == 0
    out = capsys.readouterr().out
    assert first in out and "ValueError: card declined" in out and "history:" in out


def test_show_json_round_trips(state, capsys):
    first, _ = IDS
    assert main(["dlq", "show", first, "--json", "--state-dir", str(state)]) == 0
    assert json.loads(capsys.readouterr().out)["id"] == first


def test_unknown_id_is_one_line_and_exit_2(state, capsys):
    assert main(["dlq", "show", "dl-nope", "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "dl-nope" in err


def test_bad_filter_is_one_line_and_exit_2(state, capsys):
    assert main(["dlq", "retry", "--match", "colour=red", "--state-dir", str(state)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "colour" in err
    assert main(["dlq", "retry", "--match", "workflow", "--state-dir", str(state)]) == 2
    assert "key=value" in capsys.readouterr().err


def test_missing_state_dir_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["dlq", "list", "--state-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no flowconsole state" in err


def test_corrupt_database_is_one_line_and_exit_1(tmp_path, capsys):
    # A store that cannot be used is a failure (1), not a bad argument (2).
    (tmp_path / "flowconsole.db").write_bytes(b"garbage" * 50)
    assert main(["dlq", "list", "--state-dir", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not an SQLite database" in err


def test_discard_requires_a_reason_and_persists(state, capsys):
    first, _ = IDS
    with pytest.raises(SystemExit) as refused:
        main(["dlq", "discard", first, "--state-dir", str(state)])
    assert refused.value.code == 2
    assert main(["dlq", "discard", first, "--reason", "duplicate", "--state-dir", str(state)]) == 0
    letter = _letters(state)[first]
    assert letter.status == "discarded" and letter.history[-1].reason == "duplicate"


def test_retry_without_workflows_says_how_to_load_them(state, capsys):
    first, _ = IDS
    assert main(["dlq", "retry", first, "--state-dir", str(state)]) == 2
    assert "no retrier" in capsys.readouterr().err


def test_retry_loads_the_workflow_files_and_resolves(state, workflows, capsys):
    first, _ = IDS
    code = main(["dlq", "retry", first, "--workflows", str(workflows), "--state-dir", str(state)])
    assert code == 0, capsys.readouterr().err
    assert f"{first}: resolved" in capsys.readouterr().out
    assert _letters(state)[first].status == "resolved"


def test_retry_match_retries_every_matching_letter(state, workflows, capsys):
    code = main(["dlq", "retry", "--match", "workflow=billing", "--workflows", str(workflows),
                 "--state-dir", str(state)])
    assert code == 0, capsys.readouterr()
    assert "2 resolved" in capsys.readouterr().out
    statuses = {letter.unit: letter.status for letter in _letters(state).values()}
    assert statuses == {"charge": "resolved", "refund": "resolved", "ship": "dead"}


def test_replay_of_a_task_letter_is_refused_with_exit_2(state, capsys):
    first, _ = IDS
    assert main(["dlq", "replay", first, "--state-dir", str(state)]) == 2
    assert "original event" in capsys.readouterr().err
