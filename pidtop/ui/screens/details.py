"""The details screen (Enter on a row or a pin): one process, live, through its own pidfd.

The screen opens its own verified handle and reads it once in a thread started at compose (the
open re-reads /proc; a read can block on a process's memory lock); ``on_mount`` waits for it a
moment (:mod:`~pidtop.ui.screens.firstread`), so the first frame shows the data, and a read
that takes longer lands later. It then reads every refresh delay in a thread worker, and
watches the handle for exit on the loop
(:class:`~pidtop.kernel.watch.Watcher`): the exit is shown at once with its status, and the
last data stays on screen marked as stale. A read that finds the process gone is thrown away
by the core, so nothing from a recycled PID is ever drawn. The handle is closed when the screen
goes, by the reading thread if a read is under way.

The app keeps one details screen and refills it for the next process before it is pushed
(:meth:`DetailsScreen.reopen`); what an earlier opening's thread, timer or exit watch brings in
later is dropped (each opening has its own :class:`_Opening`).

The body is rendered once per content: each section is kept while what it draws is the same
(:class:`~pidtop.ui.screens.details_render.Sections`, kept across openings), and a
read that changes nothing visible updates no widget (an update is a layout and a paint).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, Protocol, cast

from rich.console import Group
from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Static
from textual.worker import Worker, WorkerState

from pidtop.details.model import Details, DetailsSource
from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import Handle, ProcessHandle
from pidtop.kernel.identity import format_identity
from pidtop.kernel.watch import ExitEvent, Watcher
from pidtop.sampling.snapshot import ProcKey
from pidtop.ui.screens.details_render import RenderOnce, Sections, content_key, details_body
from pidtop.ui.screens.firstread import in_time, read_in_thread
from pidtop.ui.screens.modal import OneLayout
from pidtop.ui.widgets.footer import KeyFooter

#: fastest refresh of the details screen (seconds), whatever the table's delay
MIN_REFRESH = 0.5


class DetailsHost(Protocol):
    """What the screen asks of its app: the process actions (:mod:`pidtop.ui.process_actions`,
    which mypy checks against this) on the one process shown, and its CPU and memory history."""

    def history_of(self, key: ProcKey) -> tuple[list[float], list[float], float | None]: ...
    def cpu_count(self) -> int: ...
    def show_environ(self, pid: int, starttime: int | None, command: str) -> None: ...
    def show_files(self, pid: int, starttime: int | None, command: str) -> None: ...
    def strace(self, handle: Handle, command: str) -> None: ...
    def kill_handle(self, handle: ProcessHandle, key: ProcKey, command: str) -> None: ...
    def toggle_pin_of(
        self, pid: int, starttime: int | None, handle: ProcessHandle | None
    ) -> None: ...
    def tune_handles(
        self,
        kind: str,
        handles: list[tuple[Handle, str]],
        arg: int | None = None,
        *,
        after: Callable[[], None] | None = None,
    ) -> None: ...
    def copy_identity(self, text: str) -> None: ...
    def action_event_log(self) -> None: ...


class _Opening:
    """One opening's handle, and the reads through it: closed when the opening ends, by the
    reading thread if a read is under way then. A thread of an earlier opening touches only
    its own."""

    def __init__(self, source: DetailsSource, pid: int, starttime: int | None) -> None:
        self.source = source
        self.pid = pid
        self.starttime = starttime
        self.handle: ProcessHandle | None = None
        self.closing = False
        self._lock = threading.Lock()
        self._reading = False

    def open(self, full_memory: bool) -> Details | None:
        """Open the handle and read once (in a thread)."""
        if not self._start():
            return None
        try:
            self.handle = self.source.open(self.pid, self.starttime)
            return self.source.read(self.handle, None, full_memory=full_memory)
        finally:
            self._done()

    def read(self, last: Details | None, full_memory: bool) -> Details | None:
        """Read again (in a thread)."""
        if self.handle is None or not self._start():
            return None
        try:
            return self.source.read(self.handle, last, full_memory=full_memory)
        finally:
            self._done()

    def close(self) -> None:
        with self._lock:
            if self.closing:
                return
            self.closing = True
            if not self._reading and self.handle is not None:
                self.handle.close()

    @property
    def reading(self) -> bool:
        return self._reading

    def _start(self) -> bool:
        with self._lock:
            if self.closing:
                return False
            self._reading = True
            return True

    def _done(self) -> None:
        with self._lock:
            self._reading = False
            if self.closing and self.handle is not None:
                self.handle.close()


class FirstRead(Message):
    """The first read (open and read) finished after ``on_mount`` stopped waiting."""

    def __init__(self, done: Future[Details | None]) -> None:
        super().__init__()
        self.done = done


class DetailsScreen(OneLayout, Screen[None]):
    """Everything about one process; its keys act on that process only."""

    # the footer shows them in this order: m and p, this screen's own, first (80 columns cut
    # the rest); Enter here is this screen already: it opens no second copy
    BINDINGS = [
        Binding("escape,q", "close", "Close"),
        Binding("m", "full_memory", "USS/PSS"),
        Binding("p", "parent", "Parent"),
        Binding("e", "environ", "Env"),
        Binding("l", "files", "Files"),
        Binding("s", "strace", "strace"),
        Binding("k,f9", "kill", "Signal"),
        Binding("space", "pin", "Pin"),
        Binding("f7,right_square_bracket", "nice(-1)", "Nice-"),
        Binding("f8,left_square_bracket", "nice(1)", "Nice+"),
        Binding("i", "ionice", "IO prio"),
        Binding("a", "affinity", "Affinity"),
        Binding("y", "copy", "Copy"),
        Binding("L", "event_log", "Log", show=False),
        Binding("enter", "already_open", "Details", show=False),
    ]

    def __init__(
        self, source: DetailsSource, pid: int, starttime: int | None, command: str
    ) -> None:
        super().__init__()
        #: the body's sections, rendered once per content (kept across openings)
        self.sections = Sections()
        self._shown_width = 0  # the width the body was last built for
        self._shown_key: object = None  # what the body draws now (content_key)
        self._shown_title = ""
        #: what the body shows now (tests render it to text)
        self.rendered: Group = Group()
        self._begin(source, pid, starttime, command)

    def _begin(self, source: DetailsSource, pid: int, starttime: int | None, command: str) -> None:
        """This opening's state, nothing of an earlier one's; its first read starts now."""
        self.source = source
        self.pid = pid
        self.starttime = starttime
        self.command = command
        self._opening = _Opening(source, pid, starttime)
        self.details: Details | None = None
        self.error: str | None = None  # the open failed: why
        self.exited: ExitEvent | None = None
        self.stale = False  # the last read found the process gone
        self.full_memory = False
        #: reads done in this opening (tests wait on it)
        self.reads = 0
        self._watcher: Watcher | None = None
        self._timer: Timer | None = None
        self._worker: Worker[Details | None] | None = None
        self._want_parent = False  # p pressed before the first read
        opening = self._opening
        self._first: Future[Details | None] = read_in_thread(lambda: opening.open(False))

    def reopen(self, source: DetailsSource, pid: int, starttime: int | None, command: str) -> None:
        """Show ``pid`` as a new screen would (the app keeps this one): what the last opening
        showed is replaced before the screen is pushed, so not one frame of it is seen."""
        self._end()
        self._begin(source, pid, starttime, command)
        box = self.query_one("#details-box")
        box.scroll_home(animate=False, immediate=True)
        box.focus()
        if not self._wait_first():
            self._show()  # "opening…" and this process's title until the read is in
        self.refilled()

    @property
    def actions(self) -> DetailsHost:
        return cast(DetailsHost, self.app)  # the monitor (PidtopApp): its ProcessActions

    @property
    def handle(self) -> ProcessHandle | None:
        """This opening's handle (None until it is open)."""
        return self._opening.handle

    @property
    def key(self) -> ProcKey:
        return (self.pid, self.starttime if self.starttime is not None else -1)

    @property
    def target(self) -> str:
        if self.handle is not None:
            return format_identity(self.handle.identity)
        return str(self.pid)

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        title = self._title()
        self._shown_title = title.plain
        yield Static(title, id="details-title", markup=False)
        with VerticalScroll(id="details-box"):
            yield Static(Text("opening…"), id="details-body", markup=False)
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#details-box").focus()
        self._wait_first()

    def _wait_first(self) -> bool:
        """Show the first read if it is in within FIRST_WAIT (True), else when it is."""
        first = self._first
        if not in_time(first):
            first.add_done_callback(lambda done: self.post_message(FirstRead(done)))
            return False
        self._opened(first)
        return True

    def closed(self) -> None:
        """This opening ends."""
        self._end()

    def on_unmount(self) -> None:
        self._end()

    def _end(self) -> None:
        """No more reads, timers or exit watch for this opening; its handle is closed."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None
        self._worker = None
        self._opening.close()

    # ------------------------------------------------------------------ reading
    def on_first_read(self, event: FirstRead) -> None:
        if event.done is self._first:  # not an earlier opening's
            self._opened(event.done)

    def _opened(self, done: Future[Details | None]) -> None:
        """The first read is in (or failed): watch the handle for exit, show, and go on."""
        if self._opening.closing:  # gone before it came in (the reading thread closed the handle)
            return
        err = done.exception()
        if err is not None:
            self._failed(err)
            return
        if self.handle is not None and self._watcher is None:
            self._watcher = Watcher()
            opening = self._opening

            def on_exit(event: ExitEvent) -> None:
                if opening is self._opening:  # not an earlier opening's
                    self._on_exit(event)

            self._watcher.add(self.handle, on_exit)
        self._read_done(done.result())

    def _failed(self, err: BaseException | None) -> None:
        self.error = str(err) if isinstance(err, HandleError) else f"cannot read: {err}"
        self._show()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker is not self._worker:  # not this opening's read
            return
        if event.state == WorkerState.ERROR:
            self._failed(worker.error)
        elif event.state == WorkerState.SUCCESS:
            self._read_done(worker.result)

    def _read_done(self, result: Details | None) -> None:
        self.reads += 1
        if isinstance(result, Details):
            self.details, self.stale = result, False
        elif self.details is not None or self.handle is not None:
            self.stale = True
        self._show()
        if self._want_parent and self.details is not None:
            self.action_parent()
        if self.exited is None and not self._opening.closing:
            delay = max(MIN_REFRESH, getattr(self.app, "delay", 1.5))
            self._timer = self.set_timer(delay, self.refresh_now)

    def refresh_now(self) -> None:
        """Read again now (unless a read is running or the process has exited)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        opening = self._opening
        if self.exited is not None or opening.reading or self.handle is None:
            return
        if opening.closing or not self.is_mounted:  # e.g. a renice finished after Esc
            return
        last, full = self.details, self.full_memory
        self._worker = self.run_worker(
            lambda: opening.read(last, full), thread=True, name="details-read", exit_on_error=False
        )

    def _on_exit(self, event: ExitEvent) -> None:
        first = self.exited is None
        self.exited = event
        if first and self._timer is not None:
            self._timer.stop()
            self._timer = None
        self._show()

    # ------------------------------------------------------------------ drawing
    def _title(self) -> Text:
        text = Text()
        text.append(f" {self.target} ", style="bold reverse")
        text.append(" ")
        command = self.details.command if self.details is not None else self.command
        text.append(command)
        return text

    def _status(self) -> Text | None:
        if self.error is not None:
            return Text(f"Refused: {self.error}", style="bold red")
        if self.exited is not None:
            when = time.strftime("%H:%M:%S", time.localtime(self.exited.observed_at_wall))
            at = f"at {when}"
            if self.handle is not None and self.handle.opened_exited:
                at = "before this screen opened (a zombie until its parent reaps it)"
            text = Text(f"EXITED {at}: {self.exited.status.describe()}", style="bold red")
            if self.details is not None:
                seen = time.strftime("%H:%M:%S", time.localtime(self.details.read_at))
                text.append(f" — the data below is its last read, at {seen}", style="red")
            return text
        if self.stale and self.details is not None:
            seen = time.strftime("%H:%M:%S", time.localtime(self.details.read_at))
            return Text(f"Gone — the data below is stale (last read {seen})", style="bold red")
        return None

    def _show(self) -> None:
        if self._opening.closing:  # e.g. an exit seen after Esc
            return
        title = self._title()
        if title.plain != self._shown_title:  # an update is a new layout, even if the same
            self._shown_title = title.plain
            self.query_one("#details-title", Static).update(title)
        body: list[Any] = []
        status = self._status()
        if status is not None:
            body.append(status)
            body.append(Text(""))
        d = self.details
        width = self._body_width()
        self._shown_width = width
        if d is not None:
            history = self.actions.history_of(self.key)
            ncpu = self.actions.cpu_count()
            sections = self.sections
            body.append(details_body(d, width=width, ncpu=ncpu, history=history, sections=sections))
            sections.keep_used()
        elif status is None:
            body.append(Text("opening…"))
        rendered = Group(*body)
        key = (width, content_key(rendered))
        if key != self._shown_key:  # else the same cells: no new layout, no repaint
            self._shown_key = key
            self.rendered = rendered
            self.query_one("#details-body", Static).update(RenderOnce(rendered))
        self.set_class(self.exited is not None or self.stale, "-stale")

    def _body_width(self) -> int:
        """The width the body is built for: the box's, less one; before the first layout, the
        screen's less the box's padding and that one (no scrollbar: a Resize corrects it)."""
        region = self.query_one("#details-box").scrollable_content_region
        width = region.width if region.width > 0 else self.app.size.width - 2
        return max(20, width - 1)

    def on_resize(self, event: events.Resize) -> None:
        """A new width: the body again (Textual also runs OneLayout's handler: not super())."""
        if self._body_width() != self._shown_width:
            self._show()

    # ------------------------------------------------------------------ actions
    def _live_handle(self, what: str) -> ProcessHandle | None:
        if self.handle is None or self.exited is not None:
            reason = "has exited" if self.exited is not None else (self.error or "is not open yet")
            self.app.notify(f"{what}: {self.target} {reason}", severity="warning", markup=False)
            return None
        return self.handle

    def action_already_open(self) -> None:
        """Enter: these are the details already (the table's Enter opens them)."""
        self.notify("These are the details already: Esc goes back", markup=False, timeout=2)

    def action_close(self) -> None:
        self.dismiss(None)

    def action_environ(self) -> None:
        self.actions.show_environ(self.pid, self.starttime, self.command)

    def action_files(self) -> None:
        self.actions.show_files(self.pid, self.starttime, self.command)

    def action_strace(self) -> None:
        handle = self._live_handle("strace")
        if handle is not None:
            self.actions.strace(handle, self.command)

    def action_kill(self) -> None:
        handle = self._live_handle("Signal")
        if handle is not None:
            self.actions.kill_handle(handle, self.key, self.command)

    def action_pin(self) -> None:
        self.actions.toggle_pin_of(self.pid, self.starttime, self.handle)

    def action_nice(self, delta: int) -> None:
        handle = self._live_handle("Renice")
        if handle is not None:
            self.actions.tune_handles(
                "nice", [(handle, self.command)], delta, after=self.refresh_now
            )

    def action_ionice(self) -> None:
        handle = self._live_handle("I/O priority")
        if handle is not None:
            self.actions.tune_handles("ionice", [(handle, self.command)], after=self.refresh_now)

    def action_affinity(self) -> None:
        handle = self._live_handle("Affinity")
        if handle is not None:
            self.actions.tune_handles("affinity", [(handle, self.command)], after=self.refresh_now)

    def action_copy(self) -> None:
        if self.handle is None:
            self.app.notify("Nothing to copy yet", severity="warning", markup=False)
            return
        self.actions.copy_identity(format_identity(self.handle.identity))

    def action_full_memory(self) -> None:
        self.full_memory = not self.full_memory
        self.refresh_now()

    def action_parent(self) -> None:
        d = self.details
        if d is None and self.error is None and self.exited is None:
            self._want_parent = True  # typed ahead of the first read: go once it is in
            return
        self._want_parent = False
        if d is None or not d.parents:
            self.app.notify("No parent to show", severity="warning", markup=False)
            return
        parent = d.parents[0]
        self.app.push_screen(DetailsScreen(self.source, parent.pid, parent.starttime, parent.name))

    def action_event_log(self) -> None:
        self.actions.action_event_log()
