"""Checkboxes and check lists that stay legible without colour.

Textual draws a checkbox as ``▐X▌`` whose X is *coloured* when on, and the highlighted entry of
a check list only by its background colour: with ``NO_COLOR`` (or ``TERM=vt100``) an on and an
off box print the same bytes and the cursor is invisible. These subclasses say the state in
text there, ``[x]`` / ``[ ]``, and draw the highlighted entry (or the focused box) in reverse
video. With colours they are Textual's own.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, SelectionList
from textual.widgets.selection_list import SelectionType

from pidtop.ui.display import NO_COLOR_CLASS

_ON, _OFF = "[x]", "[ ]"
_REVERSE = Style(reverse=True)


def _no_color(widget: Checkbox | SelectionList[SelectionType]) -> bool:
    try:
        return widget.app.has_class(NO_COLOR_CLASS)
    except Exception:  # not mounted in an app yet
        return False


class CheckBox(Checkbox):
    """A :class:`Checkbox` that shows ``[x]``/``[ ]`` without colour."""

    @property
    def _button(self) -> Content:
        if not _no_color(self):
            return super()._button
        return Content(_ON if self.value else _OFF)


class CheckList(SelectionList[SelectionType]):
    """A :class:`SelectionList` that shows ``[x]``/``[ ]`` and its cursor in reverse video
    without colour."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        if not _no_color(self):
            return line
        index = self.scroll_offset[1] + y
        if index >= self.option_count:
            return line
        value = self.get_option_at_index(index).value
        box = _ON if value in self._selected else _OFF
        segments = list(line)
        # the first three cells are Textual's ▐X▌: put the state in text
        head, rest = segments[:3], segments[3:]
        style = head[0].style if head else None
        strip = [Segment(box, style), *rest]
        if index == self.highlighted and self.has_focus:
            strip = [Segment(s.text, (s.style or Style()) + _REVERSE, s.control) for s in strip]
        return Strip(strip, line.cell_length)
