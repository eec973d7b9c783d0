"""What a screen pushed over the table needs so its first frame is its whole frame.

Three things Textual does to a screen just after its first layout, each one more layout of
it (measured at +1,000 processes: 10-45 ms each):

- Textual's ``Footer`` composes nothing until the screen's bindings signal, then rebuilds
  itself once per signal (three or four times on the details screen, the same keys each
  time). Screens use :class:`~pidtop.ui.widgets.footer.KeyFooter` instead: one widget that
  draws its keys at its first paint and redraws its line only when they change.
- the notification rack of a new screen gets its ``display`` set (``App._refresh_notifications``)
  after the screen is laid out; the first setting changes an inline style, which lays the
  screen out again even with no notification to show. :func:`settle_toasts` sets it before
  the first layout, to what it will be (hidden unless a toast is up).
- a scrolling box finds in its first layout that its content overflows and adds its
  scrollbar in a second layout and paint (an option list: in its first paint), which a person
  sees. :class:`~pidtop.ui.screens.modal.OneLayout` (every screen pushed over the table has
  it) lays the screen out again at once, before the first paint, when the first layout
  changed a scrollbar, and calls :func:`settle_toasts` when the screen resumes.
"""

from __future__ import annotations

from typing import Any

from textual.css.query import NoMatches
from textual.screen import Screen

__all__ = ["settle_toasts"]


def settle_toasts(screen: Screen[Any]) -> None:
    """Set the notification rack's display now, as Textual will after the first layout."""
    try:
        rack = screen.query_one("#textual-toastrack")
    except NoMatches:
        return
    rack.display = bool(getattr(screen.app, "_notifications", True))
