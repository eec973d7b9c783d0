"""The Exits screen (``E``): every process exit the journal saw, newest first.

A Line-API ``ScrollView`` over the journal's records (the last 10,000): only visible lines are
rendered, from a small cache. The journal is read by a thread (``JournalReader``); this screen
takes a copy of what is new at the table's pace (its refresh delay, at most four times a
second; ``Journal.version`` says whether anything changed), so a flood of exits costs one
update per refresh, and only the new records are filtered (none when no filter is set: the
first look at 10,000 records is a copy). Lines are ``Text`` built from :func:`text_line`
(sanitised), never markup. The app keeps the screen for the next ``E`` (:meth:`ExitsScreen.show`
brings it up to date as a new one); closed, it holds no rows and drawn lines, and does not look.

Keys: ``f`` failed only, ``\\`` filter text, ``/`` search (``n`` next), Enter puts the table's
cursor on the parent (or the nearest living ancestor), ``d`` opens its details, Esc/``q``/``E``
back.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import islice

from rich.segment import Segment
from rich.style import Style
from textual.app import ComposeResult
from textual.binding import Binding
from textual.cache import LRUCache
from textual.geometry import Size
from textual.message import Message
from textual.screen import Screen
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.timer import Timer
from textual.widgets import Input, Label

from pidtop.journal.records import HEADER, describe, record_user, text_line
from pidtop.journal.service import ExitRecord, Journal, LostRecord, Record, RecordFilter
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.modal import OneLayout, drop_drawn

#: seconds between looks at the journal while the screen is open, at least (the app's refresh
#: delay when it has one: a list that moves four times a second is hard to read, and costs)
REFRESH = 0.25
EMPTY = "(no process has exited since pidtop started)"
HINT = (
    "Enter: parent in the table · d: its details · f: failed only · \\: filter · /: search · "
    "n: next · Esc: back"
)

_FAILED = Style(color="red")
_LOST = Style(color="yellow", bold=True)
_CURSOR = Style(reverse=True)
_ALL = RecordFilter()


class ExitsView(ScrollView, can_focus=True):
    """The records, newest first, one line each; a cursor row; Enter posts :class:`Open`."""

    BINDINGS = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "first", "First", show=False),
        Binding("end", "last", "Last", show=False),
        Binding("left", "scroll_left", "Left", show=False),
        Binding("right", "scroll_right", "Right", show=False),
        Binding("enter", "open", "Open parent", show=False),
        Binding("d", "open(True)", "Parent's details", show=False),
    ]

    class Open(Message):
        """Enter (``details`` False) or ``d`` on a row."""

        def __init__(self, record: ExitRecord, details: bool = False) -> None:
            super().__init__()
            self.record = record
            self.details = details

    def __init__(self, journal: Journal, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.journal = journal
        self.filter = RecordFilter()
        #: (absolute number in the journal, record), newest first, after the filter
        self.rows: list[tuple[int, Record]] = []
        self.cursor = 0
        #: the cursor stays on its record even on the top row (a search put it there); else
        #: the top row follows the newest exit
        self.hold = False
        self.total = 0  # records ever appended, as of the last sync
        self.kept = 0  # records in memory, as of the last sync
        self._version = -1
        self._width = len(HEADER)
        self._strips: LRUCache[int, Strip] = LRUCache(256)
        #: called when the cursor's record may have changed (the screen's detail lines)
        self.cursor_changed: Callable[[], None] | None = None

    # -- data

    def sync(self, *, refilter: bool = False) -> bool:
        """Take in new records (and drop those the journal let go); True if anything changed."""
        journal = self.journal
        if journal.version == self._version and not refilter:
            return False
        with journal.lock:
            version, total = journal.version, journal.total
            records = journal.records
            new = min(total - self.total, len(records)) if not refilter else len(records)
            fresh = list(islice(records, len(records) - new, None))  # a deque: no indexing
            kept = len(records)
        self._version = version
        keep = self.filter
        start = total - len(fresh)
        if keep == _ALL:
            added = list(zip(range(start, total), fresh, strict=True))  # oldest first
        else:
            added = [(start + i, r) for i, r in enumerate(fresh) if keep(r, record_user(r))]
        added.reverse()
        held = self.rows and (self.cursor or self.hold)
        cursor_key = self.rows[self.cursor][0] if held else None
        if refilter:
            self.rows = added
        else:
            oldest = total - kept
            self.rows = added + [row for row in self.rows if row[0] >= oldest]
        self.total, self.kept = total, kept
        longest = max((len(r.cmdline or "") for _, r in added if type(r) is ExitRecord), default=-1)
        self._width = max(self._width, 60 + longest if longest >= 0 else 0)
        if cursor_key is not None:  # stay on the same record (new ones push it down)
            self.cursor = next((i for i, row in enumerate(self.rows) if row[0] == cursor_key), 0)
        self.cursor = min(self.cursor, max(0, len(self.rows) - 1))
        self.virtual_size = Size(self._width, max(1, len(self.rows)))
        self._scroll_to_cursor()
        self.refresh()
        if self.cursor_changed is not None:
            self.cursor_changed()
        return True

    def let_go(self) -> None:
        """Hold no rows (the screen is closed and kept): no second list of the journal's
        10,000 records beside the journal's own (~0.9 MB of row tuples)."""
        self.rows = []
        self.total = self.kept = 0
        self._version = -1
        self._width = len(HEADER)
        self._strips.clear()

    def reset(self) -> None:
        """As a new view: every record, the cursor on the newest, scrolled to the top left."""
        self.filter = _ALL
        self.cursor, self.hold = 0, False
        self.scroll_to(0, 0, animate=False, immediate=True, force=True)
        self.sync(refilter=True)

    def set_filter(self, keep: RecordFilter) -> None:
        self.filter = keep
        self._strips.clear()
        self.cursor, self.hold = 0, False
        self.sync(refilter=True)

    @property
    def cursor_record(self) -> Record | None:
        return self.rows[self.cursor][1] if self.rows else None

    def find(self, text: str, start: int) -> int | None:
        """The first row at or after ``start`` (wrapping) whose text contains ``text``."""
        if not text or not self.rows:
            return None
        probe = RecordFilter(text=text)
        n = len(self.rows)
        for k in range(n):
            i = (start + k) % n
            record = self.rows[i][1]
            if isinstance(record, ExitRecord) and probe(record, record_user(record)):
                return i
        return None

    # -- cursor

    def set_cursor(self, index: int, *, hold: bool = False) -> None:
        """Move the cursor; ``hold``: stay on that record even on the top row (a search)."""
        if not self.rows:
            return
        self.cursor = max(0, min(index, len(self.rows) - 1))
        self.hold = hold
        self._scroll_to_cursor()
        self.refresh()
        if self.cursor_changed is not None:
            self.cursor_changed()

    def _scroll_to_cursor(self) -> None:
        height = max(1, self.scrollable_content_region.height)
        y = int(self.scroll_offset.y)
        if self.cursor < y:
            self.scroll_to(y=self.cursor, animate=False, immediate=True, force=True)
        elif self.cursor >= y + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False, immediate=True, force=True)

    def action_cursor(self, step: int) -> None:
        self.set_cursor(self.cursor + step)

    def action_page(self, step: int) -> None:
        self.set_cursor(self.cursor + step * max(1, self.scrollable_content_region.height - 1))

    def action_first(self) -> None:
        self.set_cursor(0)

    def action_last(self) -> None:
        self.set_cursor(len(self.rows) - 1)

    def action_open(self, details: bool = False) -> None:
        record = self.cursor_record
        if isinstance(record, ExitRecord):
            self.post_message(self.Open(record, details))

    # -- drawing

    def line_text(self, y: int) -> str:
        """Plain text of screen line ``y`` (tests)."""
        return self.render_line(y).text

    def render_line(self, y: int) -> Strip:
        scroll_x, scroll_y = self.scroll_offset
        width = self.scrollable_content_region.width
        index = scroll_y + y
        base = self.rich_style
        if not self.rows:
            if y == 0:
                return Strip([Segment(EMPTY, base + Style(dim=True))]).crop_extend(0, width, base)
            return Strip.blank(width, base)
        if not 0 <= index < len(self.rows):
            return Strip.blank(width, base)
        number, record = self.rows[index]
        strip = self._strips.get(number)
        if strip is None:  # one segment, one style: what Text(line).render() gave, cheaper
            style = _LOST if isinstance(record, LostRecord) else _FAILED if record.failed else None
            strip = Strip([Segment(text_line(record), base + style if style else base)])
            self._strips[number] = strip
        strip = strip.crop_extend(scroll_x, scroll_x + width, base)
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(_CURSOR)
        return strip

    def on_focus(self) -> None:
        self.refresh()

    def on_blur(self) -> None:
        self.refresh()


class ExitsScreen(OneLayout, Screen[None]):
    """Every exit the journal saw, newest first; filterable, searchable."""

    DEFAULT_CSS = """
    ExitsScreen { layout: vertical; }
    ExitsScreen #exits-title { color: $primary; text-style: bold; padding: 0 1; width: 1fr; }
    ExitsScreen #exits-note { color: $warning; text-style: bold; padding: 0 1; width: 1fr; }
    ExitsScreen #exits-header { background: $primary-muted; color: $foreground;
                                text-style: bold; padding: 0 1; width: 1fr; }
    ExitsScreen ExitsView { height: 1fr; padding: 0 1; }
    ExitsScreen #exits-prompt { dock: bottom; height: 1; border: none; padding: 0 1;
                                display: none; }
    ExitsScreen #exits-prompt.-open { display: block; }
    ExitsScreen #exits-detail { height: auto; max-height: 4; padding: 0 1; width: 1fr;
                                background: $boost; }
    ExitsScreen #exits-hint { color: $foreground-muted; padding: 0 1;
                              width: 1fr; height: auto; }
    """

    BINDINGS = [
        Binding("escape", "back", "Back"),
        Binding("q,E", "close", "Close", show=False),
        Binding("f", "toggle_failed", "Failed only"),
        Binding("backslash", "prompt('filter')", "Filter"),
        Binding("slash", "prompt('search')", "Search"),
        Binding("n", "next_match", "Next match", show=False),
    ]

    class OpenParent(Message):
        """Show the parent of ``record`` in the table (Enter) or its details (``d``, when the
        app has a details screen); handled by the app."""

        def __init__(self, record: ExitRecord, details: bool = False) -> None:
            super().__init__()
            self.record = record
            self.details = details

    def __init__(self, journal: Journal) -> None:
        super().__init__()
        self.journal = journal
        self.failed_only = False
        self.filter_text = ""
        self.search_text = ""
        self.mode = ""  # "filter" / "search" while the prompt is open
        self._timer: Timer

    def compose(self) -> ComposeResult:
        yield Label("", id="exits-title", markup=False)
        yield Label("", id="exits-note", markup=False)
        yield Label(HEADER, id="exits-header", markup=False)
        yield ExitsView(self.journal, id="exits-lines")
        yield Label("", id="exits-detail", markup=False)
        yield Label(HINT, id="exits-hint", markup=False)
        yield Input(id="exits-prompt")

    @property
    def view(self) -> ExitsView:
        return self.query_one(ExitsView)

    def on_mount(self) -> None:
        self.view.cursor_changed = self._show_detail
        self.view.focus()
        self.refresh_data()
        every = max(REFRESH, getattr(self.app, "delay", None) or REFRESH)
        self._timer = self.set_interval(every, self.refresh_data, name="exits-refresh")

    def show(self) -> None:
        """Opened again (the app keeps this screen): what a new one would show, the exits of
        now, no filter or search, the cursor on the newest. Called before it is pushed, so
        the layout this asks for is its first (and whole) paint (:class:`OneLayout`)."""
        if not self.is_mounted:
            return  # on_mount shows them
        self.failed_only = False
        self.filter_text = self.search_text = self.mode = ""
        prompt = self.query_one("#exits-prompt", Input)
        prompt.remove_class("-open")
        if prompt.value:
            prompt.value = ""
        view = self.view
        view.reset()
        if self.focused is not view:
            view.focus()
        self._update_title()
        self._timer.reset()  # its next look a whole period after this one (not at once)

    def closed(self) -> None:
        """No looks at the journal, no rows held until it is opened again (:meth:`show`)."""
        self._timer.pause()
        self.view.let_go()
        drop_drawn(self)

    def _show_detail(self) -> None:
        record = self.view.cursor_record
        self.query_one("#exits-detail", Label).update("" if record is None else describe(record))

    def refresh_data(self) -> None:
        """Take in what the journal has (if anything changed) and the counters."""
        self.view.sync()
        self._update_title()

    def _update_title(self) -> None:
        journal = self.journal
        stats = journal.stats
        parts = [
            f"Exits: {stats.exits:,} since start",
            f"{stats.failed:,} failed",
            f"{journal.rate():.1f}/s",
        ]
        if stats.lost_events:
            n = stats.lost_events  # any lost event may have been an exit: the upper bound
            parts.append(f"{n:,} events lost (up to {n:,} exits missing)")
        view = self.view
        if view.kept < view.total:
            parts.append(f"last {view.kept:,} kept")
        if self.failed_only:
            parts.append("failed only")
        if self.filter_text:
            parts.append(f"filter: {sanitize(self.filter_text)}")
        shown = len(view.rows)
        parts.append(f"{shown:,} shown")
        self.query_one("#exits-title", Label).update(" · ".join(parts))
        note = self.query_one("#exits-note", Label)
        if journal.error:
            text = f"The journal stopped: {journal.error}"
        elif not journal.started:
            text = "Starting the journal…"
        elif not journal.complete:
            text = f"Incomplete: {journal.note}"
        else:
            text = ""
        note.update(text)
        note.display = bool(text)

    # -- filter and search

    def _apply_filter(self) -> None:
        self.view.set_filter(RecordFilter(failed=self.failed_only, text=self.filter_text))
        self._update_title()

    def action_toggle_failed(self) -> None:
        self.failed_only = not self.failed_only
        self._apply_filter()

    def action_prompt(self, mode: str) -> None:
        self.mode = mode
        prompt = self.query_one("#exits-prompt", Input)
        prompt.placeholder = (
            "filter: text in PID, user, command, status" if mode == "filter" else "search"
        )
        prompt.value = self.filter_text if mode == "filter" else self.search_text
        prompt.add_class("-open")
        prompt.focus()

    def _close_prompt(self) -> None:
        self.mode = ""
        prompt = self.query_one("#exits-prompt", Input)
        prompt.remove_class("-open")
        self.view.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if self.mode == "filter":
            self.filter_text = event.value
            self._apply_filter()
        elif self.mode == "search":
            self.search_text = event.value
            found = self.view.find(event.value, self.view.cursor)
            if found is not None:
                self.view.set_cursor(found, hold=True)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self._close_prompt()

    def action_next_match(self) -> None:
        if not self.search_text:
            self.action_prompt("search")
            return
        found = self.view.find(self.search_text, self.view.cursor + 1)
        if found is not None:
            self.view.set_cursor(found, hold=True)
        else:
            self.notify(f"No exit matches {sanitize(self.search_text)!r}", markup=False, timeout=2)

    def action_back(self) -> None:
        """Esc: close the prompt (clearing a filter typed in it), else the screen."""
        if self.mode:
            if self.mode == "filter":
                self.filter_text = ""
                self._apply_filter()
            self._close_prompt()
            return
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)

    def on_exits_view_open(self, event: ExitsView.Open) -> None:
        event.stop()
        self.post_message(self.OpenParent(event.record, event.details))
