"""The errors of `engine.event_driven`; each names the thing at fault."""

from __future__ import annotations

from ..errors import FlowError


class HandlerNotFound(FlowError, LookupError):
    """No loaded event-driven workflow has the handler a dead letter names."""

    def __init__(self, letter_id: str, workflow: str | None, handler: str, event_type: str) -> None:
        super().__init__(
            f"dead letter {letter_id!r}: no handler {handler!r} for {event_type!r} events "
            f"in workflow {workflow!r} is loaded"
        )
        self.letter_id = letter_id
        self.workflow = workflow
        self.handler = handler
        self.event_type = event_type
