"""Textual's ``Footer``, rebuilt only when the keys it shows change.

Textual's footer recomposes (unmounts every key and mounts new ones, with their CSS) each time
the screen's bindings *may* have changed: every focus change, screen resume or keymap change,
one recompose per signal (a dialog pushed and popped: two rebuilds of the same keys and two
layouts of the 1,000-row table screen, 20-45 ms each). At start that was five recomposes of the
same keys in the first second after the first frame (36-144 ms each on a loaded machine), and
the keys typed then waited for all of them. Here the signals of one loop turn make one check,
and the footer is recomposed only when what it would show differs from what it shows.
"""

from __future__ import annotations

from typing import Any

from textual.screen import Screen
from textual.widgets import Footer as TextualFooter

__all__ = ["KeyFooter"]


class KeyFooter(TextualFooter):
    """A ``Footer`` that recomposes only when its keys (or their state) change."""

    #: what the keys were built from at the last recompose (None: not built yet)
    _shown: object = None
    #: a check is queued (after the next refresh) and not run yet
    _check_queued = False

    def bindings_changed(self, screen: Screen[Any]) -> None:
        """Textual's, but one queued check for any number of signals, and no recompose when
        nothing it shows changed."""
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen and not self._check_queued:
            self._check_queued = True
            self.call_after_refresh(self._recompose_if_changed)

    def _what_is_shown(self) -> object:
        """Everything ``Footer.compose`` builds its keys from."""
        active = self.screen.active_bindings.values()
        return (
            self.compact,
            self.show_command_palette,
            tuple((binding, enabled, tooltip) for _n, binding, enabled, tooltip in active),
        )

    async def _recompose_if_changed(self) -> None:
        self._check_queued = False
        if not self.is_attached:
            return
        shown = self._what_is_shown()
        if shown != self._shown:
            self._shown = shown
            await self.recompose()
