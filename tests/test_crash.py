"""Fault injection: kill -9 a process running a 2,000-task DAG (or appending
events) at a random moment, restart it, and check what the store promised."""

from __future__ import annotations

import collections
import random
import time
from pathlib import Path

import pytest

from tests.crash_helpers.processes import finish, kill, read_lines, read_only_db, start

N_TASKS = 2_000
KILLS_PER_SEED = 5
RUN_ID = "crash-run"


def _committed_tasks(state: Path) -> set[str]:
    with read_only_db(state) as conn:
        return {
            row[0]
            for row in conn.execute(
                "SELECT task FROM tasks WHERE run_id = ? AND status = 'completed' AND has_result = 1",
                (RUN_ID,),
            )
        }


@pytest.mark.parametrize("seed", [11, 12, 13, 14])
def test_dag_killed_at_random_resumes_without_rerunning_committed_tasks(tmp_path, seed):
    rng = random.Random(seed)
    state, effects = tmp_path / "state", tmp_path / "effects.txt"
    helper = ("tests.crash_helpers.dag_run", str(state), str(effects), str(N_TASKS), str(seed))
    crashes: list[tuple[set[str], int]] = []
    for _ in range(KILLS_PER_SEED):
        proc = start(*helper)
        if proc.stdout.readline().strip() == "RUNNING":
            time.sleep(rng.uniform(0.0, 0.25))  # the run takes about a quarter second
        if kill(proc):
            crashes.append((_committed_tasks(state), len(read_lines(effects))))
    assert crashes, "no kill landed while the run was going"
    proc = start(*helper)
    out, err = finish(proc, 60)
    assert "DONE" in out, f"exit {proc.returncode}, stdout {out[-300:]!r}, stderr {err[-1500:]!r}"

    lines = read_lines(effects)
    counts = collections.Counter(lines)
    with read_only_db(state) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        status = conn.execute("SELECT status FROM runs WHERE run_id = ?", (RUN_ID,)).fetchone()[0]
        completed = conn.execute(
            "SELECT count(*) FROM tasks WHERE run_id = ? AND status = 'completed'", (RUN_ID,)
        ).fetchone()[0]
    assert status == "completed"
    assert completed == N_TASKS
    # No task is lost: every effect appears.
    assert set(counts) == {f"t{i}" for i in range(N_TASKS)}
    # At most once more per crash.
    assert max(counts.values()) <= 1 + len(crashes)
    # A task whose completion was committed never runs again.
    for committed, length in crashes:
        rerun = committed.intersection(lines[length:])
        assert not rerun, f"committed tasks ran again after a crash: {sorted(rerun)[:5]}"


def test_event_log_killed_during_appends_loses_no_acknowledged_event(tmp_path):
    rng = random.Random(7)
    state = tmp_path / "state"
    acked_per_crash: list[int] = []
    for _ in range(5):
        proc = start("tests.crash_helpers.log_append", str(state))
        deadline = time.monotonic() + rng.uniform(0.1, 0.4)
        acked = 0
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if line.strip().isdigit():
                acked = int(line)
        assert kill(proc)
        acked_per_crash.append(acked)
        with read_only_db(state) as conn:
            stored = conn.execute(
                "SELECT coalesce(max(json_extract(data, '$.n')), 0) FROM events"
            ).fetchone()[0]
        assert stored >= acked
    with read_only_db(state) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        rows = conn.execute("SELECT seq, json_extract(data, '$.n') FROM events ORDER BY seq").fetchall()
    seqs = [seq for seq, _ in rows]
    numbers = [n for _, n in rows]
    assert seqs == list(range(1, len(rows) + 1)), "the log has a gap"
    assert numbers == list(range(1, len(rows) + 1)), "an event was lost or duplicated"
    assert len(rows) >= max(acked_per_crash) > 0


def test_poison_task_that_kills_its_process_ends_in_the_dead_letter_queue(tmp_path):
    state, effects = tmp_path / "state", tmp_path / "effects.txt"
    helper = ("tests.crash_helpers.dag_run", str(state), str(effects), "20", "3", "POISON")
    deaths = 0
    for _ in range(6):
        proc = start(*helper)
        out, err = finish(proc, 60)
        if proc.returncode == -9:
            deaths += 1
            continue
        assert "DONE failed" in out, err
        break
    assert deaths == 3  # t0 has 3 attempts; each one killed the process
    with read_only_db(state) as conn:
        letters = conn.execute("SELECT body FROM dead_letters").fetchall()
        attempts = conn.execute(
            "SELECT attempts FROM tasks WHERE run_id = ? AND task = 't0'", (RUN_ID,)
        ).fetchone()[0]
    import json

    [letter] = [json.loads(body) for (body,) in letters]
    assert (letter["unit"], letter["attempts"], letter["error_type"]) == (
        "t0", 3, "engine.AttemptsExhaustedError",
    )
    assert attempts == 3


def test_a_completion_lost_in_the_commit_window_neither_reruns_its_task_nor_spends_its_attempts(tmp_path):
    # Task a completes while the store cannot commit; b, which depends on
    # it, then kills the process. a's completion must survive as b's start does.
    state, effects = tmp_path / "state", tmp_path / "effects.txt"
    helper = ("tests.crash_helpers.lost_completion", str(state), str(effects))
    deaths = 0
    for _ in range(8):
        proc = start(*helper)
        out, err = finish(proc, 60)
        if proc.returncode == -9:
            deaths += 1
            continue
        assert "DONE failed" in out, err
        break
    assert deaths == 5  # b's 5 attempts, each one killed the process
    assert read_lines(effects) == ["a"]
    import json

    with read_only_db(state) as conn:
        a = conn.execute(
            "SELECT status, attempts, result FROM tasks WHERE run_id = 'lost-completion' AND task = 'a'"
        ).fetchone()
        [(body,)] = conn.execute("SELECT body FROM dead_letters").fetchall()
    assert a == ("completed", 1, '"from a"')
    letter = json.loads(body)
    assert (letter["unit"], letter["error_type"]) == ("b", "engine.AttemptsExhaustedError")
    assert "in run 'lost-completion' before it was interrupted" in letter["error"]
