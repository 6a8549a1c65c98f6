"""``python -m flowconsole``: the ``flowconsole`` command under the name it is installed as.

The code lives in `engine` and `console`; this package only lets the
command be run through the interpreter (see ``__main__``).
"""
