"""Sagas: orchestrated (`orchestrator`) and choreographed (`choreography`).

Holds the saga values (`model`), the orchestrator, compensation and
settling of failed compensations (`compensation`), compensations in the
dead-letter queue (`dead_letters`) and choreographed sagas.
May import: the kernel, `engine.runtime`, `engine.bus`, `engine.observe`,
`engine.resilience`.
"""

from .orchestrator import (
    CompensationOutcome,
    SagaDefinitionError,
    SagaError,
    SagaOrchestrator,
    SagaRun,
    SagaStateError,
    SagaStatus,
    SagaStep,
    SagaStepTimeout,
)
from .choreography import ChoreographyError, ChoreographyInstance, SagaChoreography

__all__ = [
    "ChoreographyError",
    "ChoreographyInstance",
    "CompensationOutcome",
    "SagaChoreography",
    "SagaDefinitionError",
    "SagaError",
    "SagaOrchestrator",
    "SagaRun",
    "SagaStateError",
    "SagaStatus",
    "SagaStep",
    "SagaStepTimeout",
]
