# expect: sys.exit(1) called while building
import sys

from engine import workflow


@workflow(name="quitter")
def build():
    sys.exit(1)  # ERROR
