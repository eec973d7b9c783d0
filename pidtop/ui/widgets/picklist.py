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
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
        """The options' height and the scrollbar, before the first layout."""
        app = self.app
        lines = self.get_content_height(app.size, app.size, app.size.width)
        self.set_reactive(Widget.virtual_size, Size(0, lines))
        rows = self._box_rows()
        if rows is not None and self.styles.overflow_y == "auto":
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

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        """The lines and virtual size at this size now, inside the layout (not in the paint)."""
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        region = self.scrollable_content_region
        if region:
            width = region.width - self._get_left_gutter_width()
            lines = Size(width, self.get_content_height(size, size, width))
            if lines != self.virtual_size:
                self.set_reactive(Widget.virtual_size, lines)
                self._scroll_update(lines)
            self.scroll_to_highlight(self.highlight_on_top)
        return resized


class PickList(LinesInLayout, CursorList):
    """The pickers' list: a :class:`CursorList` laid out once (:class:`LinesInLayout`)."""
