"""The open files and sockets of one process (``l``, like ``lsof -p``).

Opened, read and kept as the environment is (:class:`~pidtop.ui.screens.procinfo.ProcScreen`).
The first read takes only the first :data:`FIRST_FDS` fds (a screen's worth) and lists the
others: they are read after the first frame and put in their rows in place. A module of its own
so that the first ``e`` does not import the table widget (a DataTable, ~8 ms at +1,000).
"""

from __future__ import annotations

from concurrent.futures import Future
from functools import partial

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Label

from pidtop.details.model import DetailsSource, Unavailable
from pidtop.details.openfiles import FdEntry
from pidtop.ui.screens.procinfo import ProcScreen
from pidtop.ui.widgets.fdtable import FdCell, FdTable

#: seconds the open-files screen waits for its first read while it mounts: a thousand fds
#: take tens of ms to read, and a read that misses the wait costs an empty frame, then a
#: second layout and paint of the whole table (more than the wait saves)
FILES_WAIT = 0.15

#: fds listed at most (a DataTable of 3,000 rows takes about a second to fill)
MAX_ROWS = 2000

#: fds read before the first frame (more than a screen of rows): the others are listed (their
#: count and fd numbers, one ``listdir``) and read after it, :data:`COMPLETE_AFTER` s later
FIRST_FDS = 150
COMPLETE_AFTER = 0.2


class Completed(Message):
    """The pending fds of the read ``token`` (an opening's or a reload's), read."""

    def __init__(self, token: Future[object], done: Future[object]) -> None:
        super().__init__()
        self.token = token
        self.done = done


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
        # Text labels: a str is read as markup, and Rich imports its emoji table (~2 ms) for that
        table.add_columns(*(Text(label) for label in ("FD", "TYPE", "MODE", "NAME")))
        table.focus()

    def _read(self, handle: object) -> object:
        return self.source.files(handle, FIRST_FDS)  # type: ignore[arg-type]

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
        empty = FdCell("")  # a pending fd's three cells (most of a thousand fds' first read)
        rows: list[tuple[FdCell | Text, ...]] = [
            (
                FdCell(str(e.fd), right=True),
                FdCell(e.kind) if e.kind else empty,
                FdCell(e.mode) if e.mode else empty,
                FdCell(e.name, deleted=e.deleted) if e.name or e.deleted else empty,
            )
            for e in result[:MAX_ROWS]
        ]
        if len(result) > MAX_ROWS:
            more = Text(f"… and {len(result) - MAX_ROWS} more (the first {MAX_ROWS} are shown)")
            rows.append((Text(""), Text(""), Text(""), more))
        table.fill(rows)
        if any(e.mode is None for e in result[:MAX_ROWS]):  # after the first frame
            self.set_timer(COMPLETE_AFTER, partial(self._complete, self._pending))

    def _complete(self, token: Future[object]) -> None:
        """Read the fds shown but not read yet (after the first :data:`FIRST_FDS`), in a
        thread, through a handle of this opening's process."""
        rows = self.rows
        if token is not self._pending or self._gone or not isinstance(rows, list):
            return
        source, shown = self.source, rows[:MAX_ROWS]
        done = self._in_thread(lambda handle: source.complete_files(handle, shown))
        done.add_done_callback(lambda d: self.post_message(Completed(token, d)))

    def on_completed(self, event: Completed) -> None:
        """The fds read late, in their rows (what the first frame showed of them is kept:
        cursor, scroll); why not, if they could not be read (the process exited). Dropped if
        this opening or read is over."""
        rows = self.rows
        if event.token is not self._pending or self._gone or not isinstance(rows, list):
            return
        err = event.done.exception()
        done = event.done.result() if err is None else Unavailable(str(err))
        cells: dict[int, dict[int, FdCell | Text]] = {}
        if not isinstance(done, list):
            why = Text(f"cannot read: {done}", "red")
            cells = {i: {3: why} for i, row in enumerate(rows[:MAX_ROWS]) if row.mode is None}
        else:
            for i, (old, new) in enumerate(zip(rows, done, strict=False)):
                if old.mode is None:
                    cells[i] = {
                        1: FdCell(new.kind or ""),
                        2: FdCell(new.mode or ""),
                        3: FdCell(new.name, deleted=new.deleted),
                    }
            self.rows = done + rows[len(done) :]
        self.query_one(FdTable).update_cells(cells)

    def action_reload(self) -> None:
        self.loaded = False
        self.load()
