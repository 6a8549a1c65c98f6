# ERROR: os._exit leaves no traceback, so the problem is reported on line 1.
# expect: ended its process while loading (exit code 7)
import os

os._exit(7)
