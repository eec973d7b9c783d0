"""The event log (``L``): pins, refused pins, signals and results, exits — newest at the bottom.

A Line-API ``ScrollView`` over ``EventLog.entries`` (the last 10,000): only the visible lines
are rendered, one line per entry (long ones scroll sideways), so opening it after a bulk kill
costs the same as with ten entries (a RichLog filled with 10,000 entries took 2.4 s to open
here, and rendered them twice). Entries are ``Text`` (never markup). The view follows the log
while its last line is on screen. The app keeps the screen for the next ``L``
(:meth:`EventLogScreen.show`); closed, it does not listen to the log and holds no drawn lines.
"""

from __future__ import annotations

import time

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.containers import Vertical
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Label

from pidtop.actions.eventlog import Event, EventLog
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.modal import Modal, drop_drawn

_KIND_STYLE = {
    "pin": "bold",
    "unpin": "dim",
    "pin_refused": "bold red",
    "signal": "bold yellow",
    "exit": "bold magenta",
    "reaped": "magenta",
    "reclaim": "cyan",
    "wait": "bold cyan",
    "error": "bold red",
    "kernel": "bold yellow",
    "tune": "bold blue",
}


def event_line(event: Event) -> Text:
    """``HH:MM:SS kind target message`` as Text; failures in red."""
    line = Text()
    line.append(time.strftime("%H:%M:%S", time.localtime(event.wall)) + " ", "dim")
    line.append(f"{event.kind:<11} ", _KIND_STYLE.get(event.kind, ""))
    line.append(f"{sanitize(event.target):<16} ", "bold")
    line.append(sanitize(event.message), "" if event.ok else "red")
    return line


#: columns before the message: "HH:MM:SS " + kind (11) + " " + target (16) + " "
_PREFIX = 9 + 12 + 17
EMPTY = "(nothing yet: pin with Space, signal with k, wait with w)"


class EventLogView(ScrollView, can_focus=True):
    """The log's entries, one per line, rendered only when visible (cached by entry)."""

    BINDINGS = [
        Binding("up", "scroll_up", "Up", show=False),
        Binding("down", "scroll_down", "Down", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("pageup", "page_up", "Page up", show=False),
        Binding("pagedown", "page_down", "Page down", show=False),
        Binding("home", "scroll_home", "First", show=False),
        Binding("end", "scroll_end", "Last", show=False),
    ]

    def __init__(self, log: EventLog, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._log = log
        self._width = 0  # widest entry seen (cells, approximately: prefix + message)
        self._seen = 0  # log.total when _width was last updated
        self._first = 0  # absolute number of entries[0] at the last sync
        #: rendered lines by absolute entry number (log.total - len(entries) + index)
        self._strips: LRUCache[int, Strip] = LRUCache(512)

    def on_mount(self) -> None:
        """Sized (and its scrollbar known, when the log is longer than the screen is high)
        before the first layout, which scrolls it to its end (:meth:`_size_updated`)."""
        self.sync(follow=True)
        if len(self._log.entries) > self.app.size.height:
            self.set_reactive(Widget.show_vertical_scrollbar, True)

    _end_at_layout = False  # scroll to the end when first laid out (in its first frame)

    def _size_updated(
        self, size: Size, virtual_size: Size, container_size: Size, layout: bool = True
    ) -> bool:
        resized = super()._size_updated(size, virtual_size, container_size, layout)
        if self._end_at_layout and self.scrollable_content_region:
            self._end_at_layout = False
            self.scroll_end(animate=False, immediate=True, force=True)
        return resized

    def sync(self, *, follow: bool = False) -> None:
        """Take in new entries: size, and scroll to the end if it was there (or ``follow``:
        opened, new or kept, it is at its end in its first frame: the layout asked for here
        scrolls it there, when the scrollbars it may add are known)."""
        log = self._log
        new = min(log.total - self._seen, len(log.entries))
        for i in range(len(log.entries) - new, len(log.entries)):
            self._width = max(self._width, _PREFIX + len(log.entries[i].message))
        self._seen = log.total
        first = log.total - len(log.entries)
        dropped, self._first = first - self._first, first
        at_end = follow or self.scroll_offset.y >= self.max_scroll_y
        self.virtual_size = Size(self._width, max(1, len(log.entries)))
        if follow or (at_end and not self.size):
            self._end_at_layout = True
            if self.size:  # kept, opened again
                self.scroll_to(x=0, animate=False, immediate=True, force=True)
                self.refresh(layout=True)
        elif at_end:
            self.call_after_refresh(self.scroll_end, animate=False, immediate=True)
        elif dropped:  # the oldest entries left memory: keep the same entries on screen
            y = max(0, int(self.scroll_offset.y) - dropped)
            self.scroll_to(y=y, animate=False, immediate=True, force=True)
        self.refresh()

    def let_go(self) -> None:
        """The screen is closed and kept: no drawn lines held."""
        self._strips.clear()

    def line_text(self, y: int, *, whole: bool = False) -> str:
        """The plain text of screen line ``y``; ``whole``: all of it, not just what fits."""
        return self._line(y, whole=whole).text

    def render_line(self, y: int) -> Strip:
        return self._line(y)

    def _line(self, y: int, *, whole: bool = False) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        entries = self._log.entries
        index = scroll_y + y
        if not entries:
            strip = Strip([Segment(EMPTY, self.rich_style + Style(dim=True))]) if y == 0 else None
        elif 0 <= index < len(entries):
            number = self._log.total - len(entries) + index
            strip = self._strips.get(number)
            if strip is None:
                text = event_line(entries[index])
                text.no_wrap = True
                strip = Strip(
                    [
                        Segment(t, self.rich_style + st if st else self.rich_style)
                        for t, st, _ in text.render(self.app.console)
                    ]
                )
                self._strips[number] = strip
        else:
            strip = None
        if strip is None:
            return Strip.blank(width, self.rich_style)
        if whole:
            return strip
        return strip.crop_extend(scroll_x, scroll_x + width, self.rich_style)


class EventLogScreen(Modal[None]):
    """Every event of the session (the last 10,000 in memory); Esc, ``L`` or ``q`` closes it."""

    BINDINGS = [Binding("escape,L,q", "close", "Close")]

    def __init__(self, log: EventLog) -> None:
        super().__init__()
        self._log = log

    @property
    def event_log(self) -> EventLog:
        return self._log

    def _title(self) -> str:
        log = self._log
        text = f"Event log — {log.total} entr{'ies' if log.total != 1 else 'y'}"
        if log.total > len(log.entries):
            text += f" (last {len(log.entries)} here"
            text += f"; all in {log.path})" if log.path else ")"
        return text + " · Esc closes"

    def compose(self) -> ComposeResult:
        with Vertical(id="log-box"):
            yield Label(self._title(), id="log-title", markup=False)
            yield EventLogView(self._log, id="log-lines")

    def on_mount(self) -> None:
        self._log.listeners.append(self._on_event)
        self.query_one(EventLogView).focus()

    def show(self) -> None:
        """Opened again (the app keeps this screen): as a new one, the entries of now, at the
        end. Called before it is pushed: the layout this asks for is its first paint."""
        if not self.is_mounted:
            return  # on_mount does it
        if self._on_event not in self._log.listeners:
            self._log.listeners.append(self._on_event)
        view = self.query_one(EventLogView)
        view.sync(follow=True)
        self.query_one("#log-title", Label).update(self._title())
        if self.focused is not view:
            view.focus()

    def closed(self) -> None:
        """No updates for it (:meth:`show` takes in what came meanwhile)."""
        self._unlisten()
        self.query_one(EventLogView).let_go()
        drop_drawn(self)

    def on_unmount(self) -> None:
        self._unlisten()

    def _unlisten(self) -> None:
        if self._on_event in self._log.listeners:
            self._log.listeners.remove(self._on_event)

    def _on_event(self, event: Event) -> None:
        if not self._pending:
            self._pending = True
            self.call_later(self._update)  # one update per batch (a bulk kill: thousands)

    _pending = False

    def _update(self) -> None:
        self._pending = False
        self.query_one(EventLogView).sync()
        self.query_one("#log-title", Label).update(self._title())

    def action_close(self) -> None:
        self.dismiss(None)
