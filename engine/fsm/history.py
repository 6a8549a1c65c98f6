"""An instance's transition history: `TransitionRecord` and rebuilding history for a restore.

``transitions_log`` holds one `TransitionRecord` per transition;
`rebuild_history` turns the history handed to `MachineInstance.restore`
(states, or transition records) back into the states entered and the log.
"""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

from .model import FSMDefinitionError, MachineDefinition


class TransitionRecord(NamedTuple):
    """One entry of ``transitions_log``: time is the runtime clock's wall time."""

    from_state: str
    event: str
    to_state: str
    time: float


def rebuild_history(
    definition: MachineDefinition, state: str, history: list[Any]
) -> tuple[list[str], list[TransitionRecord]]:
    """The states entered and the transition log that ``history`` describes.

    Empty history means only ``state``; a list of states is kept as it is,
    with no log; records rebuild both. A malformed item raises
    `FSMDefinitionError`.
    """
    if not history:
        return [state], []
    if all(isinstance(item, str) for item in history):
        return list(history), []
    log: list[TransitionRecord] = []
    for item in history:
        if isinstance(item, Mapping):
            try:
                log.append(TransitionRecord(item["from"], item["event"], item["to"], item["time"]))
            except KeyError as missing:
                raise FSMDefinitionError(
                    definition.name, f"history record {item!r} lacks {missing}"
                ) from None
        elif isinstance(item, tuple) and len(item) == 4:
            log.append(TransitionRecord(*item))
        else:
            raise FSMDefinitionError(
                definition.name,
                f"history items must be states or (from, event, to, time) records, got {item!r}",
            )
    return [log[0].from_state] + [r.to_state for r in log], log
