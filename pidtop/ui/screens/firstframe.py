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
  sees. :class:`SettledLayout` lays the screen out again at once, before the first paint, when
  the first layout changed a scrollbar. It overrides Textual's private
  ``Screen._refresh_layout`` (and calls ``OptionList._update_lines``):
  tests/test_ui_first_frame.py fails if a Textual upgrade breaks it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual.css.query import NoMatches
from textual.geometry import Size
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList

__all__ = ["SettledLayout", "settle_toasts"]

if TYPE_CHECKING:
    _Base = Screen[Any]
else:
    _Base = object


def settle_toasts(screen: Screen[Any]) -> None:
    """Set the notification rack's display now, as Textual will after the first layout."""
    try:
        rack = screen.query_one("#textual-toastrack")
    except NoMatches:
        return
    rack.display = bool(getattr(screen.app, "_notifications", True))


def _bars(screen: Screen[Any]) -> dict[Widget, tuple[bool, bool]]:
    """The scrollbars shown, of every scrolling widget (one of no size, like the footer's,
    counts as not shown: it takes no room)."""
    bars = {}
    for w in screen.walk_children(Widget):
        if w.is_scrollable:
            styles = w.styles
            across = w.show_horizontal_scrollbar and styles.scrollbar_size_horizontal > 0
            down = w.show_vertical_scrollbar and styles.scrollbar_size_vertical > 0
            bars[w] = (across, down)
    return bars


class SettledLayout(_Base):
    """Mix into a screen (before :class:`~pidtop.ui.screens.modal.OneLayout`): its first
    layout is done again, before anything is painted, when it changed a scrollbar (an option
    list's lines, computed by Textual at its first paint, are computed first)."""

    _first_done = False

    def _refresh_layout(self, size: Size | None = None, scroll: bool = False) -> None:
        if self._first_done or scroll:
            super()._refresh_layout(size, scroll)
            return
        self._first_done = True
        with self.app.batch_update():  # the paint waits for the end of this block
            before = _bars(self)
            super()._refresh_layout(size, scroll)
            for option_list in self.query(OptionList):
                option_list._update_lines()
            if _bars(self) != before:
                super()._refresh_layout(size, scroll)
