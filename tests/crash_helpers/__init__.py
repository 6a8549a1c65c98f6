"""Scripts the crash tests run in child processes and kill with SIGKILL."""
