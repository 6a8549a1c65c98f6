"""flowconsole's terminal operations console and command-line interface."""
