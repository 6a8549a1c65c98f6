"""The corpus of broken workflow files (tests/broken_workflows/).

Each corpus file says what it expects: a ``# expect: TEXT`` line (a piece of
the message) and a ``# ERROR`` marker on the line the problem must be
reported at. Every corpus file is written over a file that held a good
version of a workflow; the engine must report the problem with file and line,
keep serving the good version, and stay up.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from engine import Engine

CORPUS = Path(__file__).parent / "broken_workflows"
CASES = sorted(CORPUS.glob("*.py"))

GOOD = '''
from engine import DAGWorkflow, workflow


@workflow(name="{name}")
def build():
    dag = DAGWorkflow("{name}")
    dag.add_task("answer", lambda: 42)
    return dag
'''


def expectation(path: Path) -> tuple[str, int]:
    lines = path.read_text().splitlines()
    expect = next(line.split("expect:", 1)[1].strip() for line in lines if "expect:" in line)
    line = next(i for i, text in enumerate(lines, 1) if "# ERROR" in text)
    return expect, line


@pytest.fixture(scope="module")
def outcome(tmp_path_factory):
    """Load good versions, overwrite each with a corpus file, reload once."""
    root = tmp_path_factory.mktemp("corpus")
    (root / "serving.py").write_text(GOOD.format(name="serving"))
    victims = {case.name: root / f"victim_{i:02d}.py" for i, case in enumerate(CASES)}
    for i, victim in enumerate(victims.values()):
        victim.write_text(GOOD.format(name=f"victim_{i:02d}"))
    engine = Engine(root, watch=False, schedules=False, check_timeout=1.5)
    failures: dict[str, dict] = {}
    engine.bus.subscribe("workflow.load_failed", lambda e: failures.__setitem__(e.data["file"], dict(e.data)))
    engine.start()
    loaded_before = engine.workflow_names()
    for case in CASES:
        shutil.copyfile(case, victims[case.name])
    engine.reload()
    yield engine, victims, failures, loaded_before
    engine.stop()


def test_corpus_has_at_least_thirty_broken_files():
    assert len(CASES) >= 30


def test_every_good_version_loaded_before_the_corpus_was_written(outcome):
    engine, victims, _, loaded_before = outcome
    assert len(loaded_before) == len(victims) + 1


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_broken_file_reports_file_line_and_message(outcome, case):
    _, victims, failures, _ = outcome
    victim = str(victims[case.name].resolve())
    expect, line = expectation(case)
    failure = failures[victim]
    assert failure["file"] == victim
    assert failure["line"] == line, failure["message"]
    assert expect in failure["message"]


@pytest.mark.parametrize("case", CASES, ids=[c.stem for c in CASES])
def test_last_good_version_keeps_serving_new_runs(outcome, case):
    engine, victims, failures, _ = outcome
    name = victims[case.name].stem
    assert failures[str(victims[case.name].resolve())]["last_good_active"] is True
    assert engine.run(name, timeout=10) == {"answer": 42}
    assert engine.definition(name).generation == 1


def test_engine_stays_up_and_loads_a_new_good_file_after_the_corpus(outcome):
    engine, victims, _, _ = outcome
    fresh = next(iter(victims.values())).parent / "fresh.py"
    fresh.write_text(GOOD.format(name="fresh"))
    engine.reload()
    assert engine.run("fresh", timeout=10) == {"answer": 42}
