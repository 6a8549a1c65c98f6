"""The footer of key bindings, updated in place when focus moves.

Textual's `Footer` throws its keys away and mounts new ones whenever the
active bindings change, which here means on every view switch: some thirty
widgets unmounted, built, styled and laid out, enough to double the time
from a key press to its frame under a flood of events. `KeyFooter` looks the
same (it is a `Footer`, with the same `FooterKey` children) but rewrites the
keys it already has, hides the spare ones and mounts only the ones missing.

Binding groups are not used by the console; a screen that has them gets
Textual's own recompose.
"""

from __future__ import annotations

from typing import NamedTuple

from textual.screen import Screen
from textual.widgets import Footer
from textual.widgets._footer import FooterKey

_PALETTE = "-command-palette"


class KeySpec(NamedTuple):
    """What one footer key shows and does."""

    key: str
    key_display: str
    description: str
    action: str
    disabled: bool
    tooltip: str


class KeyFooter(Footer):
    """A `Footer` that updates its keys in place (see the module docstring)."""

    def bindings_changed(self, screen: Screen) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            self.call_after_refresh(self._update_keys)

    def key_specs(self) -> list[KeySpec] | None:
        """The keys to show, in order; None when binding groups are in play."""
        specs: list[KeySpec] = []
        actions: set[str] = set()
        app = self.app
        for _node, binding, enabled, tooltip in self.screen.active_bindings.values():
            if not binding.show or binding.action in actions:
                continue
            if binding.group is not None:
                return None
            actions.add(binding.action)
            specs.append(KeySpec(
                binding.key, app.get_key_display(binding), binding.description,
                binding.action, not enabled, tooltip,
            ))
        return specs

    async def _update_keys(self) -> None:
        if not self.is_attached:
            return
        specs = self.key_specs()
        if specs is None or not self.children:
            # Groups, or the first time: Textual's own composition (which also
            # adds the command palette's key).
            await self.recompose()
            return
        keys = [key for key in self.query_children(FooterKey) if not key.has_class(_PALETTE)]
        palette = next(iter(self.query_children(f"FooterKey.{_PALETTE}")), None)
        self.styles.grid_size_columns = len(specs)
        with self.app.batch_update():
            for key, spec in zip(keys, specs):
                _rewrite(key, spec)
                key.display = True
            # Spare keys are hidden, not removed: the next view wants them back.
            for key in keys[len(specs):]:
                key.display = False
            missing = [self._new_key(spec) for spec in specs[len(keys):]]
            if missing and palette is not None:
                self.mount_all(missing, before=palette)
            elif missing:
                self.mount_all(missing)

    def _new_key(self, spec: KeySpec) -> FooterKey:
        key = FooterKey(
            spec.key, spec.key_display, spec.description, spec.action,
            disabled=spec.disabled, tooltip=spec.tooltip,
        )
        key.compact = self.compact
        return key


def _rewrite(key: FooterKey, spec: KeySpec) -> None:
    current = KeySpec(key.key, key.key_display, key.description, key.action, key._disabled, key.tooltip or "")
    if current == spec:
        return
    key.key, key.key_display, key.description, key.action = spec.key, spec.key_display, spec.description, spec.action
    key._disabled = spec.disabled
    key.set_class(spec.disabled, "-disabled")
    key.tooltip = spec.tooltip or None
    key.refresh(layout=True)
