"""The help screen (``?``/F1): every action of :mod:`pidtop.ui.actions`, grouped, once each.

The keys were a Rich grid (a table per group, ~100 rows) in a Static, which rendered it once to
measure its height and again to draw it, at each layout (measured at +1,000 processes: ~30 ms
a render, most of the help's 230 ms). :class:`KeyTable` makes the same lines itself
(:func:`key_lines`), counts them for the height and draws them once per width; the app keeps
the screen for the next F1 while the keymap is the same (:meth:`HelpScreen.shows`).
"""

from __future__ import annotations

from collections.abc import Mapping

from rich.cells import cell_len
from rich.console import Console, Group
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.geometry import Size
from textual.strip import Strip
from textual.visual import RichVisual, Visual
from textual.widget import Widget
from textual.widgets import Static

from pidtop.ui.actions import help_rows
from pidtop.ui.screens.modal import Modal

#: cells between the keys and what they do
GAP = 2


def key_lines(keymap: Mapping[str, str], width: int) -> list[Text]:
    """The help's lines at ``width`` cells: each group's title, then per action its keys
    (bold, one column) and what it does, wrapped in the next column, as a Rich grid of one
    table per group draws them (a group's second column is as wide as its widest text, at
    most what is left), without measuring and rendering ~100 table rows."""
    rows = list(help_rows(keymap))
    key_width = max(len(keys) for _, keys, _ in rows)
    room = max(1, width - key_width - GAP)
    widths = [cell_len(text) for _, _, text in rows]
    widest: dict[str, int] = {}
    for (group, _, _), cells in zip(rows, widths, strict=True):
        widest[group] = max(widest.get(group, 0), cells)
    console = Console(width=width)
    lines: list[Text] = []
    shown = None
    for (group, keys, text), cells in zip(rows, widths, strict=True):
        if group != shown:
            if shown is not None:
                lines.append(Text(""))
            lines.append(Text(group, style="bold underline"))
            shown = group
        column = min(widest[group], room)
        # (a text that fits is its own one line: Rich's wrap, ~2/3 of the time, is for the rest)
        parts = [Text(text)] if cells <= column else Text(text).wrap(console, column)
        for i, part in enumerate(parts):
            line = Text()
            line.append((keys if i == 0 else "").ljust(key_width + GAP), style="bold")
            part.pad_right(column - part.cell_len)
            lines.append(line.append_text(part))
    return lines


class KeyTable(Widget):
    """The key table: its lines are made once per width (:func:`key_lines`; the height is
    their number) and drawn once per width and style, then kept (reopening the help, or a
    second layout, draws nothing again)."""

    DEFAULT_CSS = "KeyTable { height: auto; }"

    def __init__(self, keymap: Mapping[str, str], *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._keymap = keymap
        self._text: dict[int, list[Text]] = {}
        self._drawn: tuple[object, list[Strip]] | None = None
        #: how many times the lines were drawn (tests: reopening the help draws nothing)
        self.draws = 0

    def lines(self, width: int) -> list[Text]:
        """The help's lines at ``width``."""
        if width not in self._text:
            self._text[width] = key_lines(self._keymap, width)
        return self._text[width]

    def _strips(self, width: int) -> list[Strip]:
        key = (width, self.visual_style, self.text_selection)
        if self._drawn is None or self._drawn[0] != key:
            visual = RichVisual(self, Group(*self.lines(width)))
            self._drawn = (key, Visual.to_strips(self, visual, width, None, self.visual_style))
            self.draws += 1
        return self._drawn[1]

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        """The number of lines at ``width``."""
        return len(self.lines(width)) if width > 0 else 0

    def render_line(self, y: int) -> Strip:
        """Line ``y`` at the widget's width."""
        width = self.size.width
        strips = self._strips(width)
        return strips[y] if 0 <= y < len(strips) else Strip.blank(width, self.rich_style)


class HelpScreen(Modal[None]):
    """A modal listing every key; any of Esc/q/?/F1/h closes it."""

    BINDINGS = [
        Binding("escape,q,question_mark,f1,h", "dismiss", "Close"),
    ]

    def __init__(self, keymap: Mapping[str, str] | None = None) -> None:
        super().__init__()
        #: the keymap overrides in force: the help shows the keys that work now
        self.keymap = dict(keymap or {})

    def shows(self, keymap: Mapping[str, str] | None) -> bool:
        """Whether this help shows the keys of ``keymap`` (it can be opened again as it is)."""
        return self.keymap == dict(keymap or {})

    def compose(self) -> ComposeResult:
        """The key table inside a scrollable box (focused: arrows, PgUp/PgDn, Home/End, wheel;
        at 120x40 the list is taller than the screen)."""
        with VerticalScroll(id="help-box", can_focus=True):
            yield Static(Text("pidtop — keys", style="bold"), id="help-title")
            yield KeyTable(self.keymap, id="help-table")
            yield Static(
                Text("↑↓ PgUp PgDn Home End scroll · Esc closes this help."), id="help-footer"
            )

    def on_mount(self) -> None:
        self.query_one("#help-box").focus()

    def reopen(self) -> None:
        """As a new help opens (a kept one, opened again): at the top, the box focused."""
        if self.is_mounted:
            box = self.query_one("#help-box", VerticalScroll)
            box.scroll_to(0, 0, animate=False, immediate=True)
            box.focus()

    async def action_dismiss(self, result: None = None) -> None:
        """Close."""
        self.dismiss(result)
