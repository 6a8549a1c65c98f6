"""The version of flowconsole, as the package metadata and `--version` report it."""

__version__ = "0.1.0"
