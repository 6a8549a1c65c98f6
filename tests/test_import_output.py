"""What a file prints while loaded in process is logged, never written to stdout."""

from __future__ import annotations

import logging
import threading

from engine.host.import_output import capturing
from engine.host.loader import load_source
from engine.runtime import Runtime

CHATTY = b'''import sys
from engine import DAGWorkflow, workflow

print("at import")
print("to stderr", file=sys.stderr)
sys.stdout.buffer.write(b"binary write\\n")


@workflow(name="chatty")
def build():
    print("in the builder")
    dag = DAGWorkflow()
    dag.add_task("a", lambda: 1)
    return dag
'''


def test_what_a_file_prints_while_loading_is_one_log_record(tmp_path, capsys, caplog):
    caplog.set_level(logging.INFO, logger="engine.loader")
    [built] = load_source(str(tmp_path / "chatty.py"), CHATTY, Runtime())
    assert built.name == "chatty"
    out, err = capsys.readouterr()
    assert (out, err) == ("", "")
    [record] = [r for r in caplog.records if "wrote while loading" in r.getMessage()]
    message = record.getMessage()
    assert "at import" in message and "to stderr" in message and "in the builder" in message
    assert "binary write" in message


def test_other_threads_keep_writing_to_the_real_stdout_during_a_capture(capsys):
    inside = threading.Event()
    release = threading.Event()

    def load():
        with capturing("f.py"):
            print("captured")
            inside.set()
            release.wait(5)

    thread = threading.Thread(target=load)
    thread.start()
    assert inside.wait(5)
    print("an event line")
    release.set()
    thread.join()
    assert capsys.readouterr().out == "an event line\n"


def test_the_real_streams_are_back_after_the_last_capture():
    import sys

    before = sys.stdout, sys.stderr
    with capturing("f.py"):
        assert sys.stdout is not before[0]
    assert (sys.stdout, sys.stderr) == before
