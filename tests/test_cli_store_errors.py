"""Every command, and the console, on a state directory whose store cannot be used.

Each prints one line naming the file or directory, never a traceback: exit 1
for a store that cannot be used, 2 for a ``--state-dir`` that is not a
directory at all (a bad argument).
"""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from console.cli import main
from engine import Event
from engine.store import Store
from tests.disk_helpers import fill, read_only, tmpfs

DAG = '''
from engine import workflow
from engine.dag import DAGWorkflow


@workflow(name="adds")
def build():
    dag = DAGWorkflow("adds")
    dag.add_task("one", lambda: 1)
    return dag
'''


@pytest.fixture
def workflows(tmp_path):
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "adds.py").write_text(DAG)
    return folder


def _random_bytes(state: Path) -> None:
    (state / "flowconsole.db").write_bytes(random.Random(19).randbytes(8192))


def _truncated(state: Path) -> None:
    with Store.open(state) as store:
        for i in range(2_000):
            store.append(Event("e", {"i": i, "pad": "x" * 200}))
    db = state / "flowconsole.db"
    for extra in state.glob("flowconsole.db-*"):
        extra.unlink()
    with db.open("r+b") as handle:
        handle.truncate(db.stat().st_size // 3)


def _foreign(state: Path) -> None:
    conn = sqlite3.connect(state / "flowconsole.db")
    conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    conn.commit()
    conn.close()


BAD_STORES = {"random bytes": _random_bytes, "truncated": _truncated, "another application's": _foreign}


def _commands(state: Path, workflows: Path) -> dict[str, list[str]]:
    return {
        "run": ["run", str(workflows), "--state-dir", str(state)],
        "dlq list": ["dlq", "list", "--state-dir", str(state)],
        "dlq show": ["dlq", "show", "dl-1", "--state-dir", str(state)],
        "metrics": ["metrics", "--state-dir", str(state)],
        "console": [str(workflows), "--state-dir", str(state)],
    }


def _exit_code(argv: list[str]) -> int:
    """What ``flowconsole ARGV`` exits with (argparse exits by SystemExit)."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code)


def _one_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1, captured.err
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


@pytest.mark.parametrize("command", ["run", "dlq list", "dlq show", "metrics", "console"])
@pytest.mark.parametrize("damage", list(BAD_STORES))
def test_an_unusable_store_is_one_line_naming_the_file_and_exit_1(tmp_path, workflows, capsys, command, damage):
    state = tmp_path / "state"
    state.mkdir()
    BAD_STORES[damage](state)
    assert main(_commands(state, workflows)[command]) == 1
    line = _one_line(capsys)
    assert str(state / "flowconsole.db") in line
    assert "refusing to touch it" in line or "damaged" in line or "malformed" in line


@pytest.mark.parametrize("command", ["run", "dlq list", "metrics", "console"])
def test_a_state_dir_that_is_a_file_is_a_bad_argument(tmp_path, workflows, capsys, command):
    assert _exit_code(_commands(Path("/etc/passwd"), workflows)[command]) == 2
    assert "/etc/passwd: not a directory" in _one_line(capsys)


@pytest.fixture
def read_only_state(tmp_path):
    """A state directory (with a store in it) that cannot be written."""
    state = tmp_path / "state"
    Store.open(state).close()
    with read_only(state):
        yield state


@pytest.mark.parametrize("command", ["run", "dlq list", "metrics", "console"])
def test_a_read_only_state_dir_is_one_line_and_exit_1(read_only_state, workflows, capsys, command):
    assert main(_commands(read_only_state, workflows)[command]) == 1
    line = _one_line(capsys)
    assert str(read_only_state) in line and "read-only" in line


@pytest.fixture
def full_disk(tmp_path):
    """A state directory with a store, on a filesystem that is now full."""
    with tmpfs(tmp_path / "tiny") as mount:
        Store.open(mount / "state").close()
        fill(mount / "ballast")
        yield mount / "state"


@pytest.mark.parametrize("command", ["run", "dlq list", "metrics", "console"])
def test_a_full_disk_is_one_line_and_exit_1(full_disk, workflows, capsys, command):
    assert main(_commands(full_disk, workflows)[command]) == 1
    line = _one_line(capsys)
    assert str(full_disk) in line and "no space left" in line


FILLS_THE_DISK = '''
from engine import workflow
from engine.dag import DAGWorkflow


def fill():
    with open({ballast!r}, "wb", buffering=0) as handle:
        try:
            while True:
                handle.write(bytes(4096))
        except OSError:
            return "full"


@workflow(name="fills")
def build():
    dag = DAGWorkflow("fills")
    dag.add_task("fill", fill)
    dag.add_task("after", lambda fill: fill * 1000, depends_on=["fill"])
    return dag
'''


def test_run_that_fills_the_disk_says_the_store_could_not_save_everything_and_exits_1(tmp_path, capsys):
    with tmpfs(tmp_path / "tiny") as mount:
        flows = tmp_path / "fills"
        flows.mkdir()
        (flows / "fills.py").write_text(FILLS_THE_DISK.format(ballast=str(mount / "ballast")))
        assert main(["run", str(flows), "--state-dir", str(mount / "state")]) == 1
        captured = capsys.readouterr()
        assert "fills: ok" in captured.out
        [line] = [line for line in captured.err.splitlines() if "flowconsole run: error" in line]
        assert "the store could not save everything: database or disk is full" in line
        assert "Traceback" not in captured.err
