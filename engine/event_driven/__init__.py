"""Event-driven workflows: handlers that react to bus events and emit more.

A workflow kind like a DAG or a saga, so it lives beside them rather than in
`engine.bus`: its handlers retry (`engine.resilience.retry`) and dead-letter
(`engine.resilience.dlq`), which the bus must not know about.
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.observe`,
`engine.resilience`.
"""

from .workflow import EventDrivenWorkflow, HandlerNotFound

__all__ = [
    "EventDrivenWorkflow",
    "HandlerNotFound",
]
