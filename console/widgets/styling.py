"""Rich styles for text the panels draw, from their component classes.

Colours come from the widget's ``COMPONENT_CLASSES`` rules (theme variables
only). A panel may be asked to draw before its component styles exist (a
clock tick racing its mount) or after they are gone (app teardown); it then
draws unstyled text rather than failing.
"""

from __future__ import annotations

from rich.style import Style
from textual.widget import Widget


def component_style(widget: Widget, name: str) -> Style:
    """The Rich style of component class ``name`` of ``widget`` (null if not ready)."""
    try:
        return widget.get_component_rich_style(name, partial=True)
    except KeyError:
        return Style.null()


class RestyleOnStyleChange:
    """Mixin for panels that bake component styles into the text they draw.

    Textual styles a widget's component classes after the widget's own rules
    (and again on every theme switch), so a panel drawn before that, or
    before a switch, holds stale colours: redraw (``sync``) whenever the
    component styles come out different.
    """

    COMPONENT_CLASSES: set[str]
    _panel_style_key: tuple[str, ...] | None = None

    def notify_style_update(self) -> None:
        super().notify_style_update()  # type: ignore[misc]
        if self.is_mounted:  # type: ignore[attr-defined]
            self.call_after_refresh(self._restyle_if_changed)  # type: ignore[attr-defined]

    def _restyle_if_changed(self) -> None:
        key = tuple(str(component_style(self, name)) for name in sorted(self.COMPONENT_CLASSES))  # type: ignore[arg-type]
        if key != self._panel_style_key:
            self._panel_style_key = key
            self.sync()  # type: ignore[attr-defined]
