"""The workflow-file format and the loader, file by file."""

from __future__ import annotations

import sys

import pytest

from engine import Runtime, WorkflowLoadError, WorkflowMetadataError, workflow
from engine.host.load_check import check_in_child
from engine.host.loader import MODULE_PREFIX, discover, import_source, load_source
from engine.host.workflow_file import parse_duration

GOOD = b'''
from engine import RetryPolicy, workflow
from engine.fsm import StateMachine


@workflow(name="door", retry={"max_attempts": 5, "base_delay": 0.5}, breakers=["hinge", {"name": "lock", "failure_threshold": 2}])
def build(ctx):
    machine = StateMachine("closed", name="door", final_states=["open"])
    machine.add_transition("closed", "open", "open")
    machine.context_seen = (ctx.name, ctx.retry, sorted(ctx.breakers))
    return machine
'''


def test_metadata_error_names_file_line_workflow_and_field():
    with pytest.raises(WorkflowMetadataError) as caught:
        @workflow(name="etl", max_parallel="many")
        def build():
            return None
    error = caught.value
    assert (error.workflow, error.field) == ("etl", "max_parallel")
    assert error.file == __file__ and error.line > 0


def test_workflow_name_defaults_to_the_function_name():
    @workflow(description="nightly")
    def nightly_report():
        return None
    assert nightly_report.__flowconsole_workflow__.name == "nightly_report"


@pytest.mark.parametrize(("text", "seconds"), [("5s", 5.0), ("250ms", 0.25), ("2m", 120.0), ("1h", 3600.0), (3, 3.0)])
def test_durations_parse_to_seconds(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["soon", "5 parsecs", "0s", True, float("nan"), float("inf"), -1, 1e300, "99999h"])
def test_bad_durations_are_refused(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_builder_gets_a_context_with_retry_policy_and_breakers(tmp_path):
    [built] = load_source(str(tmp_path / "door.py"), GOOD, Runtime())
    name, retry, breakers = built.obj.context_seen
    assert (name, retry.max_attempts, retry.base_delay, breakers) == ("door", 5, 0.5, ["hinge", "lock"])


def test_import_leaves_no_module_behind_and_writes_no_bytecode(tmp_path):
    file = tmp_path / "door.py"
    file.write_bytes(GOOD)
    import_source(str(file), GOOD)
    assert not [m for m in sys.modules if m.startswith(MODULE_PREFIX)]
    assert not (tmp_path / "__pycache__").exists()


def test_each_version_imports_fresh_module_state(tmp_path):
    file = str(tmp_path / "counter.py")
    source = b"from engine import workflow\nimport sys\nCOUNT = getattr(sys.modules[__name__], 'COUNT', 0) + 1\n@workflow(name='c')\ndef b():\n    return COUNT\n"
    first = import_source(file, source)[0].builder()
    second = import_source(file, source)[0].builder()
    assert first == second == 1


def test_a_file_without_declarations_is_a_problem_on_line_one(tmp_path):
    with pytest.raises(WorkflowLoadError) as caught:
        import_source(str(tmp_path / "x.py"), b"X = 1\n")
    assert caught.value.problem.line == 1 and "no workflow declared" in caught.value.problem.message


def test_discover_skips_helpers_and_editor_files(tmp_path):
    for name in ("a.py", "_helper.py", ".a.py.swp", "notes.txt", "b.py"):
        (tmp_path / name).write_text("")
    assert [p.name for p in discover(tmp_path)] == ["a.py", "b.py"]


def test_child_check_reports_the_workflows_a_good_file_declares(tmp_path):
    problems, workflows = check_in_child(str(tmp_path / "door.py"), GOOD, timeout=5)
    assert problems == [] and workflows == [{"name": "door", "kind": "state_machine", "line": 6}]


def test_child_check_problem_carries_the_traceback(tmp_path):
    file = str(tmp_path / "bad.py")
    [problem], _ = check_in_child(file, b"from engine import workflow\n\n1 / 0\n", timeout=5)
    assert (problem.file, problem.line) == (file, 3)
    assert "ZeroDivisionError" in problem.traceback
    assert problem.format() == f"{file}:3: ZeroDivisionError at import: division by zero"


def test_dag_metadata_sets_parallelism_policy_and_default_retry(tmp_path):
    source = b'''
from engine import DAGWorkflow, RetryPolicy, workflow


@workflow(name="tuned", max_parallel=2, failure_policy="continue", retry={"max_attempts": 4})
def build():
    dag = DAGWorkflow()
    dag.add_task("plain", lambda: 1)
    dag.add_task("own", lambda: 2, retry=RetryPolicy(max_attempts=2))
    return dag
'''
    [built] = load_source(str(tmp_path / "tuned.py"), source, Runtime())
    dag = built.obj
    assert (dag.name, dag.max_parallel, dag.failure_policy) == ("tuned", 2, "continue")
    assert (dag.tasks["plain"].retry.max_attempts, dag.tasks["own"].retry.max_attempts) == (4, 2)
