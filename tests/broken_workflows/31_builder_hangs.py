# expect: did not finish within
import threading

from engine import workflow


@workflow(name="sleeper")
def build():
    threading.Event().wait()  # ERROR
