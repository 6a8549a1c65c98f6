"""Crash soak: kill -9 a 2,000-task DAG run many times at random moments, then check.

Each round starts a fresh state directory and runs ``tests/crash_helpers/
dag_run.py`` (tasks append their id to a file), kills it with SIGKILL at a
random moment ``--kills`` times, lets it finish, and checks what the store
promises: the run completed, no task whose completion was committed ran
again, every task's effect appears at least once and at most once more per
crash, ``PRAGMA integrity_check`` is ok. Prints one line per round and a
summary; exit 1 on the first broken promise.

Run: ``python benchmarks/soak_crash.py`` (``--quick``: 3 rounds; default 20).
"""

from __future__ import annotations

import argparse
import collections
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.crash_helpers.processes import finish, read_lines, read_only_db, start  # noqa: E402

N_TASKS = 2_000
RUN_ID = "crash-run"


def _start(state: Path, effects: Path, seed: int) -> subprocess.Popen:
    return start("tests.crash_helpers.dag_run", str(state), str(effects), str(N_TASKS), str(seed))


def one_round(seed: int, kills: int) -> tuple[int, int, int]:
    """Returns (crashes, re-executions, seconds*1000) or raises AssertionError."""
    rng = random.Random(seed)
    folder = Path(tempfile.mkdtemp(prefix="flowconsole-soak-"))
    state, effects = folder / "state", folder / "effects.txt"
    began = time.perf_counter()
    crashes: list[tuple[set[str], int]] = []
    try:
        for _ in range(kills):
            proc = _start(state, effects, seed)
            if proc.stdout.readline().strip() == "RUNNING":
                time.sleep(rng.uniform(0.0, 0.25))  # the run takes about a quarter second
            proc.kill()
            proc.wait(30)
            proc.stdout.close()
            proc.stderr.close()
            if proc.returncode == -9:
                with read_only_db(state) as conn:
                    committed = {
                        row[0] for row in conn.execute(
                            "SELECT task FROM tasks WHERE run_id = ? AND status = 'completed' AND has_result = 1",
                            (RUN_ID,),
                        )
                    }
                crashes.append((committed, len(read_lines(effects))))
        proc = _start(state, effects, seed)
        out, err = finish(proc, 300)
        assert "DONE" in out, f"exit {proc.returncode}, stdout {out[-300:]!r}, stderr {err[-1500:]!r}"
        lines = read_lines(effects)
        counts = collections.Counter(lines)
        with read_only_db(state) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "integrity_check failed"
            status = conn.execute("SELECT status FROM runs WHERE run_id = ?", (RUN_ID,)).fetchone()[0]
        assert status == "completed", f"run ended {status}"
        assert set(counts) == {f"t{i}" for i in range(N_TASKS)}, "a task's effect is missing"
        assert max(counts.values()) <= 1 + len(crashes), "a task ran more than once more per crash"
        for committed, length in crashes:
            rerun = committed.intersection(lines[length:])
            assert not rerun, f"committed tasks ran again: {sorted(rerun)[:5]}"
        return len(crashes), len(lines) - N_TASKS, int((time.perf_counter() - began) * 1000)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 rounds instead of 20")
    parser.add_argument("--rounds", type=int, default=None)
    parser.add_argument("--kills", type=int, default=5, help="crashes per round (default 5)")
    args = parser.parse_args(argv)
    rounds = args.rounds or (3 if args.quick else 20)
    total_crashes = total_reruns = 0
    for index in range(rounds):
        seed = 1_000 + index
        try:
            crashes, reruns, ms = one_round(seed, args.kills)
        except AssertionError as exc:
            print(f"round {index + 1} (seed {seed}): FAILED: {exc}")
            return 1
        total_crashes += crashes
        total_reruns += reruns
        print(f"round {index + 1:>2} (seed {seed}): {crashes} crashes, {reruns} re-executed effects, {ms} ms: ok")
    print(f"{rounds} rounds, {total_crashes} crashes, {total_reruns} re-executions "
          f"({total_reruns / max(total_crashes, 1):.1f} per crash: tasks done but not yet committed when killed): all promises kept")
    return 0


if __name__ == "__main__":
    sys.exit(main())
