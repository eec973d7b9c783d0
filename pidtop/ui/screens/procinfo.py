"""One process's environment (``e``, searchable) and open files and sockets (``l``, like lsof).

Both open their own verified handle in a thread worker, read through it (the core brackets the
read with the pidfd), close it, and show the result. Names and values are process text:
rendered as ``Text``, never as markup.
"""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import DataTable, Input, Label, Static
from textual.worker import Worker, WorkerState

from pidtop.details.model import DetailsSource, Unavailable
from pidtop.details.openfiles import FdEntry
from pidtop.kernel.identity import format_identity
from pidtop.sampling.fmt import sanitize

#: fds listed at most (a DataTable of 3,000 rows takes about a second to fill)
MAX_ROWS = 2000


class _ProcScreen(ModalScreen[None]):
    """Loads one thing about one process in a thread worker."""

    what = ""

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        super().__init__()
        self.source = source
        self.pid = pid
        self.starttime = starttime
        self.command = sanitize(command)
        self.target = str(pid)
        #: True once the load finished (tests wait on it)
        self.loaded = False

    def _load(self) -> object:
        handle = self.source.open(self.pid, self.starttime)
        try:
            self.target = format_identity(handle.identity)
            return self._read(handle)
        finally:
            handle.close()

    def _read(self, handle: object) -> object:  # pragma: no cover - overridden
        raise NotImplementedError

    def on_mount(self) -> None:
        self.run_worker(self._load, thread=True, name="load", exit_on_error=False)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.name != "load" or event.state not in (
            WorkerState.SUCCESS,
            WorkerState.ERROR,
        ):
            return
        if event.state == WorkerState.ERROR:
            result: object = Unavailable(str(event.worker.error))
        else:
            result = event.worker.result
        self.query_one(".proc-title", Label).update(self._title(result))
        self._show(result)
        self.loaded = True

    def _title(self, result: object) -> Text:
        text = Text(f"{self.what} of ", style="bold")
        text.append(self.target, style="bold")
        text.append(f"  {self.command}")
        return text

    def _show(self, result: object) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def action_close(self) -> None:
        self.dismiss(None)


class EnvironScreen(_ProcScreen):
    """``e``: the environment, filtered as you type (name or value, case-insensitive)."""

    what = "Environment"
    BINDINGS = [Binding("escape", "close", "Close")]

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        super().__init__(source, pid, starttime, command)
        self.env: dict[str, str] | Unavailable | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="env-box", classes="proc-box"):
            yield Label(Text(f"Environment of {self.pid}"), classes="proc-title")
            yield Input(placeholder="search names and values (Esc closes)", id="env-search")
            with VerticalScroll(id="env-lines"):
                yield Static(Text("reading…"), id="env-body", markup=False)

    def _read(self, handle: object) -> object:
        return self.source.environ(handle)  # type: ignore[arg-type]

    def _show(self, result: object) -> None:
        self.env = result if isinstance(result, dict | Unavailable) else Unavailable(str(result))
        self._draw(self.query_one("#env-search", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        event.stop()
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


class FilesScreen(_ProcScreen):
    """``l``: open files and sockets (fd, type, mode, path or endpoints), like ``lsof -p``."""

    what = "Open files"
    BINDINGS = [
        Binding("escape,q,l", "close", "Close"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        super().__init__(source, pid, starttime, command)
        self.rows: list[FdEntry] | Unavailable | None = None

    def compose(self) -> ComposeResult:
        with Vertical(id="files-box", classes="proc-box"):
            yield Label(Text(f"Open files of {self.pid}"), classes="proc-title")
            yield DataTable(id="files-table", cursor_type="row", zebra_stripes=True)
            yield Label(Text("r reloads · Esc closes", style="dim"), id="files-hint")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("FD", "TYPE", "MODE", "NAME")
        table.focus()
        super().on_mount()

    def _read(self, handle: object) -> object:
        return self.source.files(handle)  # type: ignore[arg-type]

    def _title(self, result: object) -> Text:
        text = super()._title(result)
        if isinstance(result, list):
            text.append(f" — {len(result)} open", style="dim")
        return text

    def _show(self, result: object) -> None:
        table = self.query_one(DataTable)
        table.clear()
        if not isinstance(result, list):
            self.rows = result if isinstance(result, Unavailable) else Unavailable(str(result))
            table.add_row(Text(""), Text(""), Text(""), Text(f"cannot read: {self.rows}", "red"))
            return
        self.rows = result
        for e in result[:MAX_ROWS]:
            name = Text(e.name)
            if e.deleted:
                name.append(" (deleted)", style="bold red")
            table.add_row(Text(str(e.fd), justify="right"), Text(e.kind), Text(e.mode), name)
        if len(result) > MAX_ROWS:
            more = Text(f"… and {len(result) - MAX_ROWS} more (the first {MAX_ROWS} are shown)")
            table.add_row(Text(""), Text(""), Text(""), more)

    def action_reload(self) -> None:
        self.loaded = False
        self.run_worker(self._load, thread=True, name="load", exit_on_error=False)
