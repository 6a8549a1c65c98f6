"""The built-in engine metrics' help texts, by name without the ``flowconsole_`` prefix.

What each metric is derived from is tabled in `engine.observe.engine_metrics`; these
are the one-line descriptions Prometheus output and the console show.
"""

from __future__ import annotations

HELP = {
    "runs_started": "Workflow runs started.",
    "runs_completed": "Workflow runs that completed.",
    "runs_failed": "Workflow runs that failed or were cancelled.",
    "runs_active": "Workflow runs started and not yet finished.",
    "run_duration_seconds": "Duration of finished workflow runs, in seconds.",
    "tasks_started": "Task attempts started.",
    "tasks_completed": "Tasks that completed.",
    "tasks_failed": "Task attempts that failed.",
    "task_duration_seconds": "Duration of finished task attempts, in seconds.",
    "retries": "Retries scheduled after a failed attempt.",
    "dead_letters": "Units of work sent to the dead-letter queue.",
    "dead_letters_open": "Dead letters neither resolved nor discarded.",
    "breaker_state": "Circuit breaker state: 0 closed, 1 half-open, 2 open.",
    "breaker_rejections": "Calls a circuit breaker rejected.",
    "pool_queue_depth": "Tasks waiting in a worker pool's queue.",
    "pool_busy_workers": "Workers of a pool running a task.",
    "pool_workers": "Workers in a pool.",
    "handler_errors": "Event handlers that raised.",
    "events": "Events published on the bus, by type.",
    "events_per_second": "Events per second over the latest window of at least one second.",
}
