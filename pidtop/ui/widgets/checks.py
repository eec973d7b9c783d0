"""Checkboxes, check lists and option lists that stay legible without colour.

Textual draws a checkbox as ``▐X▌`` whose X is *coloured* when on, and the highlighted entry of
a check list only by its background colour: with ``NO_COLOR`` (or ``TERM=vt100``) an on and an
off box print the same bytes and the cursor is invisible. These subclasses say the state in
text there, ``[x]`` / ``[ ]``, and draw the highlighted entry (or the focused box) in reverse
video (Textual's option list drops a ``text-style: reverse`` given to its highlighted
option: :class:`CursorList` draws it). With colours they are Textual's own.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.content import Content
from textual.strip import Strip
from textual.widgets import Checkbox, OptionList, SelectionList
from textual.widgets.selection_list import SelectionType

from pidtop.ui.display import NO_COLOR_CLASS

_ON, _OFF = "[x]", "[ ]"
_REVERSE = Style(reverse=True)


def _no_color(widget: Checkbox | OptionList) -> bool:
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
            strip = _reversed(strip)
        return Strip(strip, line.cell_length)


class CursorList(OptionList):
    """An :class:`OptionList` whose highlighted option is in reverse video without colour,
    focused or not (the signal picker's list moves while its filter has the focus)."""

    def render_line(self, y: int) -> Strip:
        line = super().render_line(y)
        if not _no_color(self) or self.highlighted is None:
            return line
        option = self.get_option_at_index(self.highlighted)
        if line.text.strip() and _meta_option(line) == self.highlighted and option is not None:
            return Strip(_reversed(list(line)), line.cell_length)
        return line


def _meta_option(line: Strip) -> int | None:
    """The option index a rendered line belongs to (Textual puts it in the style's meta)."""
    for seg in line:
        if seg.style is not None and "option" in seg.style.meta:
            return int(seg.style.meta["option"])
    return None


def _reversed(segments: list[Segment]) -> list[Segment]:
    return [Segment(s.text, (s.style or Style()) + _REVERSE, s.control) for s in segments]
