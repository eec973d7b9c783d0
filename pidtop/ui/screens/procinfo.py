"""What one process's screens share (environment, open files), and the environment (``e``,
searchable); the open files and sockets (``l``, like lsof) are in :mod:`~pidtop.ui.screens.files`
(their table widget is imported at the first ``l``, not at the first ``e``).

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

from collections.abc import Callable
from concurrent.futures import Future
from typing import cast

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input, Label, Static

from pidtop.details.model import DetailsSource, Unavailable
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import format_identity
from pidtop.sampling.fmt import sanitize
from pidtop.ui.screens.firstread import in_time, read_in_thread
from pidtop.ui.screens.modal import Modal


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
        read = self._read
        self._pending: Future[object] = self._in_thread(
            lambda h: (format_identity(h.identity), read(h))
        )
        return self._pending

    def _in_thread(self, read: Callable[[ProcessHandle], object]) -> Future[object]:
        """``read(handle)`` in a thread, through a handle of this opening's process opened for
        it (and closed after)."""
        source, pid, starttime = self.source, self.pid, self.starttime

        def load() -> object:
            handle = source.open(pid, starttime)
            try:
                return read(handle)
            finally:
                handle.close()

        return read_in_thread(load)

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
        (up to ``files.MAX_ROWS`` fds)."""
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
