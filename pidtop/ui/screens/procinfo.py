"""One process's environment (``e``, searchable) and open files and sockets (``l``, like lsof).

Both open their own verified handle in a thread started when the screen is made, read through
it (the core brackets the read with the pidfd), close it, and show the result. ``on_mount``
waits for that thread a moment (:mod:`~pidtop.ui.screens.firstread`), so the first frame shows
the data; a slower read lands when it is done. Names and values are process text: rendered as
``Text``, never as markup.

The app keeps one screen of each and opens it again for the next process (:meth:`ProcScreen.
reopen`, before it is pushed): its widgets are refilled for that process first, and a read of
an earlier opening that lands later is dropped. Composing, styling and mounting them anew was
most of ``e``'s time at +1,000 processes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import Future
from typing import cast

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.coordinate import Coordinate
from textual.geometry import Region
from textual.message import Message
from textual.render import measure
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import DataTable, Input, Label, Static
from textual.widgets.data_table import Row, RowKey

from pidtop.details.model import DetailsSource, Unavailable
from pidtop.details.openfiles import FdEntry
from pidtop.kernel.identity import format_identity
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.firstread import in_time, read_in_thread
from pidtop.ui.screens.modal import Modal

#: seconds the open-files screen waits for its first read while it mounts: a thousand fds
#: take tens of ms to read, and a read that misses the wait costs an empty frame, then a
#: second layout and paint of the whole table (more than the wait saves)
FILES_WAIT = 0.15

#: fds listed at most (a DataTable of 3,000 rows takes about a second to fill)
MAX_ROWS = 2000


class FdCell:
    """One cell's text, made a ``Text`` only when drawn: a table of 1,100 fds builds 4,400
    cells and draws the ~40 rows on screen. Process text as ``Text``, never markup."""

    __slots__ = ("deleted", "plain", "right")

    def __init__(self, plain: str, right: bool = False, deleted: bool = False) -> None:
        self.plain = plain
        self.right = right
        self.deleted = deleted  # + " (deleted)" in bold red

    @property
    def width(self) -> int:
        return cell_len(self.plain) + (len(_DELETED) if self.deleted else 0)

    def __rich__(self) -> Text:
        text = Text(self.plain, justify="right" if self.right else None)
        if self.deleted:
            text.append(_DELETED, style="bold red")
        return text


_DELETED = " (deleted)"
_DELETED_STYLE = Style.parse("bold red")


class FdTable(DataTable[FdCell | Text]):
    """The open-files table: its rows added in one go (:meth:`fill`) and each column as wide as
    its widest text. DataTable's ``add_row`` (a cursor update per row) and its Rich measure of
    every cell (~55 us each: ~250 ms for 1,100 fds) were most of the screen's time.

    Uses DataTable's internals as of Textual 8.2 (pinned): ``test_ui_details`` checks that a
    filled FdTable shows what a DataTable filled by ``add_row`` shows. Home/End go to the
    first/last fd, as in htop's open-files screen (DataTable's go to the first/last column)."""

    BINDINGS = [
        Binding("home", "scroll_top", "First", show=False),
        Binding("end", "scroll_bottom", "Last", show=False),
    ]

    def fill(self, rows: Sequence[Sequence[FdCell | Text]]) -> None:
        """Replace every row by ``rows`` (one line each, one Text per column)."""
        self.clear()
        keys = [column.key for column in self.ordered_columns]
        new = []
        for cells in rows:
            key = RowKey(None)
            self._row_locations[key] = len(self.rows)
            self._data[key] = dict(zip(keys, cells, strict=True))
            self.rows[key] = Row(key, 1)
            new.append(key)
        self._update_count += 1  # DataTable's caches of row order and offsets are keyed by it
        # the widths now, not when DataTable is next idle: that is after the first paint,
        # which then showed the columns as wide as their labels, and a second frame the rows
        self._update_dimensions(new)
        # and its scrollbars: the virtual size is set here, not by a layout, so no layout
        # would decide them (a late fill was painted without its scrollbar, then with it)
        self._refresh_scrollbars()
        self.cursor_coordinate = self.cursor_coordinate  # clamped, as add_row does
        if rows and self.show_cursor and self.cursor_type != "none":
            self._highlight_cursor()
        self.check_idle()

    #: the table's own style while it draws its lines (one walk of its ancestors per paint,
    #: not one per line as DataTable's ``render_line`` asks it)
    _drawing: Style | None = None

    def render_lines(self, crop: Region) -> list[Strip]:
        self._drawing = None
        self._drawing = self.rich_style
        try:
            return super().render_lines(crop)
        finally:
            self._drawing = None

    @property
    def rich_style(self) -> Style:
        return self._drawing if self._drawing is not None else super().rich_style

    def _get_row_style(self, row_index: int, base_style: Style) -> Style:
        """A striped row's style from the widget's cache of component styles (DataTable
        computes it again for every line)."""
        if row_index < self.fixed_rows or not self.zebra_stripes:
            return super()._get_row_style(row_index, base_style)
        return self.get_component_rich_style(
            "datatable--odd-row" if row_index % 2 else "datatable--even-row"
        )

    def _render_line_in_row(
        self,
        row_key: RowKey,
        line_no: int,
        base_style: Style,
        cursor_location: Coordinate,
        hover_location: Coordinate,
    ) -> tuple[list[list[Segment]], list[list[Segment]]]:
        """A row of fds as DataTable draws it with a row cursor (no labels, no fixed columns),
        with its style and column widths looked up once, not once a cell."""
        row_index = self._row_locations.get(row_key)
        if (
            row_index is None
            or self.cursor_type != "row"
            or self.fixed_columns
            or (self._labelled_row_exists and self.show_row_labels)
        ):
            return super()._render_line_in_row(
                row_key, line_no, base_style, cursor_location, hover_location
            )
        key = (
            row_key,
            line_no,
            base_style,
            cursor_location,
            hover_location,
            "row",
            self.show_cursor,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        cached = self._row_render_cache.get(key)
        if cached is not None:
            return cached
        row_style = self._get_row_style(row_index, base_style)
        cursor = cursor_location.row == row_index
        hover = hover_location.row == row_index
        widths = [column.get_render_width(self) for column in self.ordered_columns]
        cells = [
            self._render_cell(row_index, i, row_style, width, cursor=cursor, hover=hover)[line_no]
            for i, width in enumerate(widths)
        ]
        extend, _ = self._get_styles_to_render_cell(
            False,
            False,
            False,
            hover_location.row == (row_index or 0),
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            False,
            False,
        )
        extend = row_style + extend
        extend += Style.from_meta({"row": row_index, "column": 0, "out_of_bounds": True})
        space = max(0, self.size.width - sum(widths) - self._row_label_column_width)
        cells.append([Segment(" " * space, extend)])
        pair: tuple[list[list[Segment]], list[list[Segment]]] = ([], cells)
        self._row_render_cache[key] = pair
        return pair

    def _render_cell(
        self,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool = False,
        hover: bool = False,
    ) -> list[list[Segment]]:
        """An fd's cell: the segments DataTable's Rich render (``Styled(Padding(cell))``) makes,
        made directly (that render was ~0.3 ms a cell: 40-60 ms for a 200x50 screen of fds).
        Other cells (header, a ``Text``, a text wider than its column) as DataTable renders them."""
        cell = None
        if row_index >= 0 and column_index >= 0:
            row_key = self._row_locations.get_key(row_index)
            column = self.ordered_columns[column_index]
            cell = self._data[row_key][column.key]
        pad = self.cell_padding
        if (
            not isinstance(cell, FdCell)
            or cell.width > width - 2 * pad
            or row_index < self.fixed_rows
        ):
            return super()._render_cell(row_index, column_index, base_style, width, cursor, hover)
        key = (
            row_key,
            column.key,
            base_style,
            cursor,
            hover,
            self._show_hover_cursor,
            self._update_count,
            self._pseudo_class_state,
        )
        lines = self._cell_render_cache.get(key)
        if lines is None:
            lines = [self._fd_cell(cell, row_index, column_index, base_style, width, cursor, hover)]
            self._cell_render_cache[key] = lines
        return lines

    def _fd_cell(
        self,
        cell: FdCell,
        row_index: int,
        column_index: int,
        base_style: Style,
        width: int,
        cursor: bool,
        hover: bool,
    ) -> list[Segment]:
        component, post = self._get_styles_to_render_cell(
            False,
            False,
            column_index < self.fixed_columns,
            hover,
            cursor,
            self.show_cursor,
            self._show_hover_cursor,
            self.cursor_foreground_priority == "css",
            self.cursor_background_priority == "css",
        )
        pre = base_style + Style.from_meta({"row": row_index, "column": column_index}) + component
        plain_style = pre + Style.null() + post
        pad = self.cell_padding
        space = width - 2 * pad - cell.width  # what the text leaves of its column
        out = [Segment(" " * pad, plain_style)] if pad else []
        if cell.right:
            if space or cell.plain:
                out.append(Segment(" " * space + cell.plain, plain_style))
        elif cell.plain:
            out.append(Segment(cell.plain, plain_style))
        if cell.deleted:
            out.append(Segment(_DELETED, pre + _DELETED_STYLE + post))
        if space and not cell.right:
            out.append(Segment(" " * space, plain_style))
        if pad:
            out.append(Segment(" " * pad, plain_style))
        return out

    def _update_dimensions(self, new_rows: Iterable[RowKey]) -> None:
        console = self.app.console
        data = [self._data[key] for key in new_rows if key in self._data]
        for column in self.ordered_columns:
            for row in data:
                cell = row[column.key]
                if isinstance(cell, FdCell):
                    width = cell.width
                elif isinstance(cell, Text) and "\n" not in cell.plain:
                    width = cell.cell_len
                else:  # not one line of Text: as DataTable measures it
                    width = measure(console, cell, 1)
                if width > column.content_width:
                    column.content_width = width
        super()._update_dimensions(())  # the virtual size


def _scrollbars(screen: Screen[object]) -> list[tuple[bool, bool]]:
    """Which scrollbars each scrolling widget of ``screen`` shows."""
    return [
        (w.show_horizontal_scrollbar, w.show_vertical_scrollbar)
        for w in screen.walk_children(Widget)
        if w.is_scrollable
    ]


class Loaded(Message):
    """A read finished after ``on_mount`` (or ``r``) stopped waiting for it."""

    def __init__(self, done: Future[object]) -> None:
        super().__init__()
        self.done = done


class ProcScreen(Modal[None]):
    """Loads one thing about one process in a thread worker."""

    what = ""
    first_wait: float | None = None  # FIRST_WAIT

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        super().__init__()
        # the first read starts here, as the key is handled: it runs while Textual composes,
        # styles and mounts the screen (a thousand fds take tens of ms)
        self._begin(source, pid, starttime, command)

    def _begin(self, source: DetailsSource, pid: int, starttime: int | None, command: str) -> None:
        """This opening's process, nothing of an earlier one's; its read starts now."""
        self.source = source
        self.pid = pid
        self.starttime = starttime
        self.command = sanitize(command)
        self.target = str(pid)
        #: True once the load finished (tests wait on it)
        self.loaded = False
        self._gone = False  # closed: a read that comes in later is dropped
        self._first: Future[object] | None = self._start()

    def reopen(self, source: DetailsSource, pid: int, starttime: int | None, command: str) -> None:
        """Show ``pid`` as a new screen would (the app keeps this one): what the last opening
        showed is replaced before the screen is pushed, so not one frame of it is seen."""
        self._begin(source, pid, starttime, command)
        self.query_one(".proc-title", Label).update(Text(f"{self.what} of {pid}"))
        self._clear()
        self._wait_first()
        self.refilled()

    def _clear(self) -> None:  # pragma: no cover - overridden
        """The widgets as a new screen composes them (nothing of the last process)."""
        raise NotImplementedError

    def _start(self) -> Future[object]:
        """Read this opening's process in a thread: its identity and what the screen shows."""
        source, pid, starttime, read = self.source, self.pid, self.starttime, self._read

        def load() -> tuple[str, object]:
            handle = source.open(pid, starttime)
            try:
                return format_identity(handle.identity), read(handle)
            finally:
                handle.close()

        self._pending: Future[object] = read_in_thread(load)
        return self._pending

    def _read(self, handle: object) -> object:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_mount(self) -> None:
        self._wait_first()

    def _wait_first(self) -> None:
        """This opening's first read: waited for a moment (``_wait``), once."""
        first, self._first = self._first, None
        if first is not None:
            self._wait(first)

    def load(self) -> None:
        """Read again in a thread (``r``)."""
        self._wait(self._start())

    def _wait(self, done: Future[object]) -> None:
        """Show the read now if it is in within ``FIRST_WAIT``, else when it lands."""
        if not in_time(done, self.first_wait):
            done.add_done_callback(lambda d: self.post_message(Loaded(d)))
            return
        self._loaded(done)

    def closed(self) -> None:
        """A read that lands later is dropped, and the kept screen lets go of what it showed
        (up to MAX_ROWS fds)."""
        self._gone = True
        self._clear()

    def on_unmount(self) -> None:
        self._gone = True

    def on_loaded(self, event: Loaded) -> None:
        """A late read: shown in one frame, laid out at once (a repaint first drew the
        filled table without the scrollbar its rows need, the next layout added it)."""
        if event.done is not self._pending:  # an earlier opening's (or reload's)
            return
        with self.app.batch_update():  # the paint waits for the end of this block
            self._loaded(event.done)
            if not self._gone:
                before = _scrollbars(self)
                self._refresh_layout()
                if _scrollbars(self) != before:  # that layout showed one: again, as Textual would
                    self._refresh_layout()

    def _loaded(self, done: Future[object]) -> None:
        if self._gone:  # (during on_mount, is_mounted is still False)
            return
        err = done.exception()
        if err is not None:
            result: object = Unavailable(str(err))
        else:
            self.target, result = cast(tuple[str, object], done.result())
        self.query_one(".proc-title", Label).update(self._title(result))
        self._show(result)
        self.loaded = True

    def _title(self, result: object, counted: str = "") -> Text:
        """What, whose, ``counted`` (before the command line: a long one is cut at the
        screen's edge, and what comes after it with it), then the command line."""
        text = Text(f"{self.what} of ", style="bold")
        text.append(self.target, style="bold")
        if counted:
            text.append(f" — {counted}", style="dim")
        text.append(f"  {self.command}")
        return text

    def _show(self, result: object) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def action_close(self) -> None:
        self.dismiss(None)


class EnvironScreen(ProcScreen):
    """``e``: the environment, filtered as you type (name or value, case-insensitive)."""

    what = "Environment"
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        self.env: dict[str, str] | Unavailable | None = None
        self._needle = ""  # what the body was last drawn for
        super().__init__(source, pid, starttime, command)

    def compose(self) -> ComposeResult:
        with Vertical(id="env-box", classes="proc-box"):
            yield Label(Text(f"Environment of {self.pid}"), classes="proc-title")
            yield Input(placeholder="search names and values (Esc closes)", id="env-search")
            with VerticalScroll(id="env-lines"):
                yield Static(Text("reading…"), id="env-body", markup=False)

    def _read(self, handle: object) -> object:
        return self.source.environ(handle)  # type: ignore[arg-type]

    def _clear(self) -> None:
        self.env = None
        search = self.query_one("#env-search", Input)
        search.value = ""  # its Changed message, later, is for what is drawn already
        self.query_one("#env-body", Static).update(Text("reading…"))
        self.query_one("#env-lines").scroll_home(animate=False, immediate=True)
        search.focus()

    def _show(self, result: object) -> None:
        self.env = result if isinstance(result, dict | Unavailable) else Unavailable(str(result))
        self._draw(self.query_one("#env-search", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
        if event.value != self._needle:
            self._draw(event.value)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.query_one("#env-lines").focus()

    def lines(self, needle: str = "") -> list[str]:
        """The ``NAME=value`` lines shown for ``needle`` (sanitised)."""
        if not isinstance(self.env, dict):
            return []
        n = needle.lower()
        out = []
        for name in sorted(self.env):
            line = f"{sanitize(name)}={sanitize(self.env[name])}"
            if n in line.lower():
                out.append(line)
        return out

    def _draw(self, needle: str) -> None:
        self._needle = needle
        body = self.query_one("#env-body", Static)
        if isinstance(self.env, Unavailable):
            body.update(Text(f"Cannot read the environment: {self.env}", style="bold red"))
            return
        if self.env is None:
            return
        lines = self.lines(needle)
        text = Text()
        for i, line in enumerate(lines):
            name, _, value = line.partition("=")
            if i:
                text.append("\n")
            text.append(name, style="bold")
            text.append("=")
            text.append(value)
        if not lines:
            text = Text("no match" if needle else "(empty environment)", style="dim")
        body.update(text)


class FilesScreen(ProcScreen):
    """``l``: open files and sockets (fd, type, mode, path or endpoints), like ``lsof -p``."""

    what = "Open files"
    first_wait = FILES_WAIT
    BINDINGS = [
        Binding("escape,q,l", "close", "Close"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        self.rows: list[FdEntry] | Unavailable | None = None
        super().__init__(source, pid, starttime, command)

    def compose(self) -> ComposeResult:
        with Vertical(id="files-box", classes="proc-box"):
            yield Label(Text(f"Open files of {self.pid}"), classes="proc-title")
            yield FdTable(id="files-table", cursor_type="row", zebra_stripes=True)
            yield Label(Text("r reloads · Esc closes", style="dim"), id="files-hint")

    def on_mount(self) -> None:
        """The columns; Textual then runs ``ProcScreen.on_mount`` (it calls every class's
        handler in the MRO: calling it here too read the process twice)."""
        table = self.query_one(FdTable)
        table.add_columns("FD", "TYPE", "MODE", "NAME")
        table.focus()

    def _read(self, handle: object) -> object:
        return self.source.files(handle)  # type: ignore[arg-type]

    def _clear(self) -> None:
        self.rows = None
        table = self.query_one(FdTable)
        table.fill([])  # (its cursor and scroll back at the top)
        table.focus()

    def _title(self, result: object, counted: str = "") -> Text:
        return super()._title(result, f"{len(result)} open" if isinstance(result, list) else "")

    def _show(self, result: object) -> None:
        table = self.query_one(FdTable)
        if not isinstance(result, list):
            self.rows = result if isinstance(result, Unavailable) else Unavailable(str(result))
            table.fill([(Text(""), Text(""), Text(""), Text(f"cannot read: {self.rows}", "red"))])
            return
        self.rows = result
        rows: list[tuple[FdCell | Text, ...]] = [
            (
                FdCell(str(e.fd), right=True),
                FdCell(e.kind),
                FdCell(e.mode),
                FdCell(e.name, deleted=e.deleted),
            )
            for e in result[:MAX_ROWS]
        ]
        if len(result) > MAX_ROWS:
            more = Text(f"… and {len(result) - MAX_ROWS} more (the first {MAX_ROWS} are shown)")
            rows.append((Text(""), Text(""), Text(""), more))
        table.fill(rows)

    def action_reload(self) -> None:
        self.loaded = False
        self.load()
