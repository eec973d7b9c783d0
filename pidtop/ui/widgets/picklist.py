"""The pickers' option list (sort, user, signal): its first frame is its whole frame.

Textual's :class:`~textual.widgets.OptionList` learns its lines (and so its ``virtual_size``,
a layout reactive) only in its first ``render_lines``: the paint that shows the picker asked
for a second layout of the whole screen, and a list taller than its box was scrolled to its
highlight only after the first frame (measured at +1,000 processes: the sort and user pickers
showed a frame 30-45 ms after the key, then laid out and painted again ~30 ms later).
:class:`PickList` sets what the paint would learn while the screen is laid out: the lines at
the width it was given, the virtual size (no layout asked for: the box is placed already),
the scroll that shows the highlight, and, for a list of fixed height, whether it has a
scrollbar before the first arrangement (the compositor places scrollbars from that flag).
"""

from __future__ import annotations

from textual.css.scalar import Unit
from textual.geometry import Size
from textual.widget import Widget

from pidtop.ui.widgets.checks import CursorList


class PickList(CursorList):
    """A :class:`CursorList` laid out once: its lines, size and scroll are set in its layout."""

    def on_mount(self) -> None:
        """Before the first layout, one line per option (what Textual's scrollbar check reads
        before this list's own lines are set); a list of fixed height knows now whether it
        needs a scrollbar."""
        self.set_reactive(Widget.virtual_size, Size(0, self.option_count))
        height = self.styles.height
        if height is not None and height.unit == Unit.CELLS and self.styles.overflow_y == "auto":
            rows = int(height.value) - self.styles.gutter.height
            self.set_reactive(Widget.show_vertical_scrollbar, self.option_count > rows)

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
            self.scroll_to_highlight()
        return resized
