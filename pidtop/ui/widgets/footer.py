"""The key footer, rebuilt only when the keys it shows change.

Textual's :class:`~textual.widgets.Footer` recomposes (removes and mounts a widget per key,
then a layout of the whole table screen) each time its screen's bindings are refreshed, and
they are refreshed whenever a screen is pushed over it or popped: the same keys, rebuilt twice
per dialog (measured at +1,000 processes: 20-45 ms per rebuild on the table screen).
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer

Keys = tuple[tuple[str, str, str, bool, str], ...]


class KeyFooter(Footer):
    """A :class:`Footer` that recomposes only when what it would show differs."""

    _shown: Keys | None = None

    def bindings_changed(self, screen: Screen[object]) -> None:
        """Recompose (Textual's way) unless the keys shown are the same as now."""
        if self.is_attached and screen is self.screen and self.app.app_focus:
            keys = _keys(screen)
            if keys == self._shown:
                return
            self._shown = keys
        super().bindings_changed(screen)


def _keys(screen: Screen[object]) -> Keys:
    """What the footer shows of ``screen``'s bindings: key, label, action, enabled, tooltip."""
    app = screen.app
    return tuple(
        (app.get_key_display(b), b.description, b.action, enabled, tooltip)
        for _node, b, enabled, tooltip in screen.active_bindings.values()
        if b.show
    )
