"""The pickers' option lists (sort, user, signal, the palette): the first frame is the whole frame.

Textual's :class:`~textual.widgets.OptionList` learns its lines (and so its ``virtual_size``,
a layout reactive) only in its first ``render_lines``: the paint that showed a picker asked
for a second layout of the whole screen, and a list taller than its box was scrolled to its
highlight only after the first frame (measured at +1,000 processes: the sort and user pickers
showed a frame 30-45 ms after the key, then laid out and painted again ~30 ms later).
:class:`LinesInLayout` sets what that paint would learn while the screen is laid out: the
lines at the width the list was given, its virtual size (no layout asked for: the box is
placed already) and the scroll that shows the highlight. Before the first layout it also sets
whether the list has a vertical scrollbar (Textual places scrollbars from that flag, and
otherwise finds it out in the layout and asks for another), from its options' height and
its box's (a fixed height, or the ``max-height`` of an auto one).

It follows Textual 8's option list from the inside (``_size_updated``, ``_update_lines``,
``_clear_caches``, ``_layout_required``): tests/test_ui_pickers_open.py fails if a picker's
first frame is not its last or its list asks for a layout from a paint.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual import events
from textual.css.scalar import Unit
from textual.geometry import Size
from textual.widget import Widget
from textual.widgets import OptionList

from pidtop.ui.widgets.checks import CursorList

if TYPE_CHECKING:
    _Base = OptionList
else:
    _Base = object


class LinesInLayout(_Base):
    """Mix into an :class:`OptionList` (first among its bases): laid out once, painted once."""

    #: scroll the highlight to the top of the box when laid out (else: just into view)
    highlight_on_top = False

    def on_mount(self) -> None:
        """Whether it has a vertical scrollbar, before the first layout (a list of a fixed or
        a maximum height; its options are measured only when they might all fit)."""
        rows = self._box_rows()
        if rows is None or self.styles.overflow_y != "auto":
            return
        lines = self.option_count  # each option has a line at least
        if lines <= rows:
            size = self.app.size
            lines = self.get_content_height(size, size, size.width)
        self.set_reactive(Widget.virtual_size, Size(0, lines))
        self.set_reactive(Widget.show_vertical_scrollbar, lines > rows)

    def _box_rows(self) -> int | None:
        """Rows inside the box: its fixed height, or the max-height of an auto height
        (cells or % of the screen's height); None if neither."""
        styles, viewport = self.styles, self.app.size
        height = styles.height
        scalar = height if height is not None and not height.is_auto else styles.max_height
        if scalar is None or scalar.unit not in (Unit.CELLS, Unit.VIEW_HEIGHT):
            return None
        rows = int(scalar.resolve(viewport, viewport))
        return rows - styles.gutter.height

    _lines_width = -1  # the width the option lines were computed for

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        """The lines and virtual size at this size now, inside the layout (not in the paint)."""
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        region = self.scrollable_content_region
        if region:
            width = region.width - self._get_left_gutter_width()
            first = self._lines_width < 0
            if width != self._lines_width:
                self._lines_width = width
                self._clear_caches()  # what Textual does on the Resize after this paint
            asked, scrollbars = self._layout_required, self.scrollbars_enabled
            self._update_lines()  # the lines the first paint would compute
            if self.scrollbars_enabled == scrollbars:
                # its virtual size is a layout reactive, but the box is placed already
                self._layout_required = asked
            if first:  # opened: the highlight in view (Textual scrolled after the first frame)
                self.scroll_to_highlight(self.highlight_on_top)
        return resized

    def on_resize(self, event: events.Resize) -> None:
        """Textual's option list drops its lines on every resize: not at the width they were
        just computed for in the layout (they would be measured and drawn twice)."""
        if self.scrollable_content_region.width - self._get_left_gutter_width() == (
            self._lines_width
        ):
            event.prevent_default()


class PickList(LinesInLayout, CursorList):
    """The pickers' list: a :class:`CursorList` laid out once (:class:`LinesInLayout`)."""
