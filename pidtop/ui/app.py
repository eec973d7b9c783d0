"""The pidtop Textual application: meters, the process view, prompts and the sampling loop.

Data flow: a *thread* worker calls ``source.sample()``; its result is merged into the
``ProcessTable`` on the UI loop (``on_worker_state_changed``), the view repaints the lines that
changed, and only then is the next sample armed with ``set_timer(delay)``. Samples therefore never
overlap, pausing is just "do not arm", and the UI loop never touches /proc.
"""

from __future__ import annotations

import contextlib
import signal
import sys
import time
from collections.abc import Awaitable, Iterable
from functools import partial
from pathlib import Path
from typing import Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Input
from textual.worker import Worker, WorkerState

from pidtop.process.events import EventLog
from pidtop.process.fmt import sanitize
from pidtop.process.handle import HandleError, features, parse_target, raise_fd_limit
from pidtop.process.history import History
from pidtop.process.journal import Journal
from pidtop.process.journal_scripted import ScriptedJournal
from pidtop.process.pins import (
    ActionResult,
    Pin,
    PinSet,
    Target,
    WatchAll,
    confirmation_reasons,
)
from pidtop.process.scripted import ScriptedSource
from pidtop.process.scripted_pins import SourceOpener
from pidtop.process.signals import signal_name
from pidtop.process.snapshot import ProcessSource, ProcKey, Snapshot
from pidtop.process.table import COLUMN_BY_ID, COLUMNS, ProcessTable, resolve_sort_key
from pidtop.process.watch import ExitEvent
from pidtop.ui.exits_actions import ExitsActions
from pidtop.ui.process_actions import ProcessActions
from pidtop.ui.screens.dialogs import ALL_USERS, DelayScreen, SortScreen, UserScreen
from pidtop.ui.screens.eventlog import EventLogScreen
from pidtop.ui.screens.help import HelpScreen
from pidtop.ui.screens.signals import ConfirmScreen, SignalChoice, SignalScreen
from pidtop.ui.terminal import TerminalApp, print_problem, run_in_terminal, tty_problem
from pidtop.ui.tree_kill import start_tree_kill, tree_offer
from pidtop.ui.typeahead import TypeaheadApp
from pidtop.ui.widgets.filterbar import FilterBar, PromptBar, PromptInput
from pidtop.ui.widgets.meters import Meters
from pidtop.ui.widgets.pinned import EXITED_MARK, RUNNING_MARK, PinnedStrip
from pidtop.ui.widgets.process_view import ProcessView

#: Steps for ``,``/``.`` (seconds).
DELAY_STEPS: tuple[float, ...] = (0.1, 0.2, 0.5, 1.0, 1.5, 2.0, 3.0, 5.0, 10.0, 30.0, 60.0)
#: The second sample comes quickly so that CPU% has a delta to show (htop does the same).
FIRST_DELTA = 0.5
#: Below this terminal height the meters collapse to one line.
COMPACT_HEIGHT = 20
#: a command in a one-line notification is cut to this many characters (with an ellipsis)
NOTIFY_COMMAND = 40
#: how a signal outcome is counted in a kill's summary notification
_OUTCOME_WORDS = {
    "delivered": "delivered",
    "exited_not_reaped": "already exited",
    "gone": "already exited",
    "not_permitted": "not permitted",
    "error": "failed",
}
_WORD_ORDER = tuple(dict.fromkeys(_OUTCOME_WORDS.values()))


class StartupError(ValueError):
    """A command-line option that cannot be honoured (bad --pin, unwritable --log ...).

    ``status`` is the exit status (the table in ``pidtop --help``): 3 a --pin process that
    does not exist, 5 one whose PID is now another process, 2 a usage problem.
    """

    def __init__(self, message: str, status: int = 2) -> None:
        super().__init__(message)
        self.status = status


def find_css() -> Path | None:
    """``styles/pidtop.tcss`` from an installed wheel (``pidtop/styles``) or a source checkout."""
    package = Path(__file__).resolve().parent.parent  # .../pidtop
    for candidate in (
        package / "styles" / "pidtop.tcss",  # wheel: force-included as pidtop/styles
        package.parent / "styles" / "pidtop.tcss",  # source checkout: <repo>/styles
    ):
        if candidate.is_file():
            return candidate
    return None


_CSS = find_css()


def _column_title(column_id: str) -> str:
    col = COLUMN_BY_ID.get(column_id)
    return col.title if col is not None else column_id


class PidtopApp(ExitsActions, ProcessActions, TypeaheadApp, TerminalApp, App[int]):
    """The live process monitor. Keys typed ahead reach the screen the keys before them opened
    (:mod:`pidtop.ui.typeahead`)."""

    CSS_PATH = str(_CSS) if _CSS is not None else None
    TITLE = "pidtop"

    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("question_mark", "help", "Help", show=False),
        Binding("f3", "next_match", "Search"),  # htop: F3 again finds the next match
        Binding("slash", "search", "Search", show=False),
        Binding("n", "next_match", "Next match", show=False),
        Binding("f4", "filter", "Filter"),
        Binding("backslash", "filter", "Filter", show=False),
        Binding("f5", "toggle_tree", "Tree"),
        Binding("t", "toggle_tree", "Tree", show=False),
        Binding("f6", "choose_sort", "SortBy"),
        Binding("P", "sort('cpu')", "Sort CPU", show=False),
        Binding("M", "sort('mem')", "Sort MEM", show=False),
        Binding("T", "sort('time')", "Sort TIME", show=False),
        Binding("N", "sort('pid')", "Sort PID", show=False),
        Binding("I", "invert_sort", "Invert sort", show=False),
        Binding("less_than_sign", "sort_step(-1)", "Prev column", show=False),
        Binding("greater_than_sign", "sort_step(1)", "Next column", show=False),
        Binding("u", "choose_user", "User", show=False),
        Binding("escape", "clear_filters", "Clear filters / cancel wait", show=False),
        Binding("minus", "collapse(True)", "Collapse", show=False),
        Binding("plus", "collapse(False)", "Expand", show=False),
        Binding("H", "toggle_threads", "Threads", show=False),
        Binding("K", "toggle_kthreads", "Kernel threads", show=False),
        Binding("Z", "toggle_pause", "Pause"),
        Binding("comma", "delay_step(-1)", "Faster", show=False),
        Binding("full_stop", "delay_step(1)", "Slower", show=False),
        Binding("d", "choose_delay", "Delay", show=False),
        Binding("space", "toggle_pin", "Pin"),
        Binding("c", "pin_tree", "Pin tree", show=False),
        Binding("U", "unpin_all", "Unpin all", show=False),
        Binding("x,delete", "dismiss_exited", "Dismiss exited", show=False),
        Binding("X", "clear_exited", "Clear exited", show=False),
        Binding("f9", "kill", "Kill"),
        Binding("k", "kill", "Kill", show=False),
        Binding("w", "wait", "Wait"),
        Binding("L", "event_log", "Log"),
        Binding("enter", "details", "Details", show=False),
        Binding("e", "environ", "Environment", show=False),
        Binding("l", "files", "Files", show=False),
        Binding("s", "strace", "strace", show=False),
        Binding("f7,right_square_bracket", "nice(-1)", "Nice -", show=False),
        Binding("f8,left_square_bracket", "nice(1)", "Nice +", show=False),
        Binding("i", "ionice", "I/O priority", show=False),
        Binding("a", "affinity", "Affinity", show=False),
        Binding("y", "copy_identity", "Copy PID:INODE", show=False),
        Binding("E", "exits", "Exits", show=False),
        Binding("f10", "quit", "Quit"),
        Binding("q", "quit", "Quit", show=False),
    ]

    def __init__(
        self,
        source: ProcessSource,
        *,
        delay: float = 1.5,
        sort_column: str | None = None,
        sort_reverse: bool | None = None,
        user: str | None = None,
        pids: frozenset[int] | None = None,
        tree: bool = False,
        sample_limit: int | None = None,
        pins: PinSet | None = None,
        watch_all: bool = False,
        exit_when_gone: bool = False,
        bell: bool = True,
        journal: Journal | None = None,
    ) -> None:
        """``sample_limit`` stops sampling after that many merges (snapshots, screenshots).

        ``pins`` (default: an empty set logging on the source's clock) holds the pinned
        processes; ``watch_all`` watches every listed process for exit; ``exit_when_gone``
        quits (status 0) once every pinned process has exited; ``bell`` rings on waited exits.
        """
        super().__init__()
        self.source = source
        if pins is None:
            clock = getattr(source, "now", time.time)
            pins = PinSet(EventLog(clock=clock), clock=clock)
        self.pins = pins
        self.events = pins.log
        self.watch_all: WatchAll | None = (
            WatchAll(pins.budget, self._on_watched_exit, opener=pins.opener) if watch_all else None
        )
        self.exit_when_gone = exit_when_gone
        self.bell_enabled = bell
        #: every process exit on the machine (``E``, header); None: off
        self.journal = journal
        #: seconds before SIGKILL in the escalation offered by the signal picker
        self.escalate_after = 5.0
        #: how many pins the running wait (``w``) started with, and whose wait is over
        self.wait_total = self.wait_exited = 0
        self.delay = max(0.1, float(delay))
        self.sample_limit = sample_limit
        self.table = ProcessTable(sort_column=sort_column or "cpu", sort_reverse=sort_reverse)
        #: CPU% and RSS per process since first seen (bounded), for the details screen
        self.history = History()
        if user:
            self.table.set_user(user)
        if pids:
            self.table.set_pids(frozenset(pids))
        if tree:
            self.table.set_tree(True)
        self.paused = False
        #: number of snapshots merged so far (tests wait on it)
        self.samples_merged = 0
        self.search_text = ""
        self._sampling = False
        self._timer: Timer | None = None
        self._seen_errors: set[str] = set()
        self._chrome_pending = False

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        """Meters, the (empty for now) pinned strip, the table, filter bar, prompt, footer."""
        with Vertical(id="top"):
            yield Meters(id="meters")
        yield PinnedStrip(self.pins, id="pinned")
        yield ProcessView(self.table, mark_provider=self._mark, id="procs")
        yield FilterBar(id="filterbar")
        yield PromptBar(id="prompt")
        yield Footer()

    @property
    def waited(self) -> set[ProcKey]:
        """The pins still waited for (``w``): the pin set's, which ends each one's wait."""
        return self.pins.waiting

    @property
    def view(self) -> ProcessView:
        """The process view."""
        return self.query_one(ProcessView)

    @property
    def strip(self) -> PinnedStrip:
        """The pinned strip."""
        return self.query_one(PinnedStrip)

    @property
    def meters(self) -> Meters:
        """The header meters."""
        return self.query_one(Meters)

    @property
    def prompt(self) -> PromptBar:
        """The search/filter prompt."""
        return self.query_one(PromptBar)

    def on_mount(self) -> None:
        """Start sampling."""
        self.pins.listeners.append(self._on_pin_changed)
        self.pins.wait_listeners.append(self._on_wait_over)
        self.pins.start()
        self._pins_changed()
        self.prompt.close()
        self.view.focus()
        self._update_chrome()
        self._apply_compact(self.size.height, self.size.width)
        self._report_kernel_limits()
        self.start_journal()
        self.start_sample()

    def _report_kernel_limits(self) -> None:
        """What this kernel lacks (``features().notes``): each note in the event log and ONE
        warning, so a degraded mode (kill(2) after a start-time check, no exit codes...) is
        never silent."""
        try:
            notes = features().notes
        except HandleError as e:  # out of fds while probing: say so, do not guess
            notes = (f"kernel support unknown: {e}",)
        if not notes:
            return
        for note in notes:
            self.events.add("kernel", "", note, ok=False)
        # the part before the explanation: "pidfd_open unavailable", "no PIDFD_GET_INFO"
        short = [note.split(":", 1)[0].split(" (", 1)[0] for note in notes]
        self.notify(
            f"Kernel support is limited: {'; '.join(short)} — see L",
            title="Degraded mode",
            severity="warning",
            timeout=15,
            markup=False,
        )

    def on_unmount(self) -> None:
        """Release every pidfd."""
        self.stop_journal()
        if self._on_pin_changed in self.pins.listeners:
            self.pins.listeners.remove(self._on_pin_changed)
        if self._on_wait_over in self.pins.wait_listeners:
            self.pins.wait_listeners.remove(self._on_wait_over)
        if self.watch_all is not None:
            self.watch_all.close()
        self.pins.close()

    def on_resize(self, event: Resize) -> None:
        """Collapse the meters on tiny terminals."""
        self._apply_compact(event.size.height, event.size.width)

    def _apply_compact(self, height: int, width: int) -> None:
        self.meters.set_class(height < COMPACT_HEIGHT or width < 60, "-compact")

    # ------------------------------------------------------------------ sampling
    def start_sample(self) -> None:
        """Start one sample in a thread worker unless one is running or we are paused."""
        self._timer = None
        if self._sampling or self.paused:
            return
        if self.sample_limit is not None and self.samples_merged >= self.sample_limit:
            return
        self._sampling = True
        self.run_worker(
            partial(self.source.sample, threads=self.table.show_threads, fields=self.table.fields),
            name="sample",
            group="sample",
            thread=True,
            exit_on_error=False,
        )

    def sample_now(self) -> None:
        """Drop the pending timer and sample at once (after a setting that needs new data)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        self.start_sample()

    def _arm(self) -> None:
        """Schedule the next sample ``delay`` seconds from now."""
        if self._timer is not None:
            self._timer.stop()
        if self.paused:
            self._timer = None
            return
        delay = min(self.delay, FIRST_DELTA) if self.samples_merged == 1 else self.delay
        self._timer = self.set_timer(delay, self.start_sample, name="sample-timer")

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A sample finished: merge it (unless paused), then arm the next one."""
        worker = event.worker
        if worker.group == "signal" and event.state == WorkerState.ERROR:
            self.notify(f"Signal action failed: {worker.error}", severity="error", markup=False)
            return
        if worker.group != "sample":
            return
        if event.state == WorkerState.SUCCESS:
            self._sampling = False
            if not self.paused and isinstance(worker.result, Snapshot):
                self.merge(worker.result)
            self._arm()
        elif event.state == WorkerState.ERROR:
            self._sampling = False
            self.notify(f"Sampling failed: {worker.error}", severity="error", markup=False)
            self._arm()
        elif event.state == WorkerState.CANCELLED:
            self._sampling = False

    def merge(self, snap: Snapshot) -> None:
        """Merge one snapshot into the table and repaint what changed."""
        self.table.update(snap)
        self.history.record(
            ((r.key, r.cpu, r.info.rss) for r in self.table.all_rows() if r.status != "dying"),
            snap.wall,
        )
        self.samples_merged += 1
        self.meters.update_snapshot(snap, self.table.tasks)
        if len(self.pins):
            self.pins.update_info(self._lookup)
            self.strip.refresh_pins()
        if self.watch_all is not None:
            self.watch_all.sync(  # an exit keeps its mark while its (dying) row is shown
                snap.processes,
                lambda key: key in self.pins,
                lambda key: self.table.get(key) is not None,
            )
            self._update_chrome()
        self.view.rows_changed()
        for err in snap.errors:
            if err not in self._seen_errors:
                self._seen_errors.add(err)
                self.notify(err, severity="warning", markup=False)

    # ------------------------------------------------------------------ chrome
    def _update_chrome(self) -> None:
        """Status words in the meters and the filter bar."""
        table = self.table
        arrow = "▼" if table.sort_reverse else "▲"
        parts = [f"Sort: {_column_title(table.sort_column)}{arrow}", f"Delay: {self.delay:g}s"]
        if table.tree:
            parts.append("Tree")
        if table.show_threads:
            parts.append("+threads")
        if not table.show_kernel_threads:
            parts.append("-kthreads")
        if len(self.pins):
            alive = self.pins.alive_count
            parts.append(f"Pinned: {len(self.pins)}" + (f" ({alive} alive)" if alive else ""))
        if self.waited:
            n = len(self.waited)
            parts.append(f"Waiting for {n} process{'es' if n != 1 else ''}")
        if not _proc_is_own():
            parts.append("/proc: other PID namespace, actions refused")
        if self.watch_all is not None:
            wa = self.watch_all
            skipped = f" ({wa.skipped} skipped: fd budget)" if wa.skipped else ""
            parts.append(f"Watch: {len(wa)}{skipped}")
        exits = self.journal_status()
        if exits:
            parts.append(exits)
        self.meters.set_status(tuple(parts), self.paused)
        filters: list[tuple[str, str]] = []
        if table.filter_text:
            filters.append(("Filter", table.filter_text))
        if table.user_filter:
            filters.append(("User", table.user_filter))
        if table.pid_filter:
            filters.append(("PIDs", ",".join(str(p) for p in sorted(table.pid_filter))))
        self.query_one(FilterBar).set_filters(tuple(filters))

    def _table_changed(self) -> None:
        self.view.rows_changed(full=True)
        self._update_chrome()

    # ------------------------------------------------------------------ sorting
    def action_sort(self, column: str) -> None:
        """Sort by a column (its default direction)."""
        self.table.sort_by(column)
        self._table_changed()

    def action_invert_sort(self) -> None:
        """Invert the sort order."""
        self.table.invert_sort()
        self._table_changed()

    def action_sort_step(self, step: int) -> None:
        """``<``/``>``: sort by the previous/next column."""
        ids = [c.id for c in COLUMNS]
        try:
            i = ids.index(self.table.sort_column)
        except ValueError:
            i = 0
        self.action_sort(ids[(i + step) % len(ids)])

    def action_choose_sort(self) -> None:
        """F6: pick the sort column from a list."""

        def done(column: str | None) -> None:
            if column:
                self.action_sort(column)

        options = [(c.id, c.title) for c in COLUMNS]
        self.push_screen(SortScreen(options, self.table.sort_column), done)

    def on_process_view_sort_requested(self, event: ProcessView.SortRequested) -> None:
        """Header click: sort by it, or invert when it is already the sort column."""
        if event.column == self.table.sort_column:
            self.action_invert_sort()
        else:
            self.action_sort(event.column)

    def on_process_view_cursor_lost(self, event: ProcessView.CursorLost) -> None:
        """Tell the user the followed process exited."""
        if event.new_pid is None:
            msg = f"PID {event.old_pid} exited."
        elif event.new_pid == event.old_pid:  # reused: "moved to PID N" read as "still on N"
            msg = f"PID {event.old_pid} exited; a new process now has PID {event.new_pid}"
        else:
            msg = f"PID {event.old_pid} exited; cursor moved to PID {event.new_pid}"
        self.notify(msg, markup=False)

    # ------------------------------------------------------------------ search & filter
    def action_search(self) -> None:
        """``/``/F3: open the search prompt (F3 inside it: next match)."""
        self.prompt.open("search", self.search_text)

    def action_filter(self) -> None:
        """``\\``/F4: open the filter prompt."""
        self.prompt.open("filter", self.table.filter_text)

    def action_next_match(self) -> None:
        """``n``/F3: next row matching the last search (the prompt stays closed), or open the
        search prompt when there is none."""
        if not self.search_text:
            self.action_search()
            return
        self._jump(self.view.cursor_index + 1)

    def _jump(self, start: int) -> bool:
        rows = self.table.rows
        if not rows or not self.search_text:
            return False
        index = self.table.search(self.search_text, start % len(rows))
        self.prompt.set_class(index is None, "-nomatch")
        if index is not None:
            self.view.set_cursor(index)
            return True
        return False

    def on_input_changed(self, event: Input.Changed) -> None:
        """Incremental search / live filter."""
        if not isinstance(event.input, PromptInput):
            return
        event.stop()
        if self.prompt.mode == "search":
            self.search_text = event.value
            self._jump(self.view.cursor_index)
        else:
            self.table.set_filter(event.value)
            self._table_changed()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        """Enter keeps the search/filter and returns to the table."""
        if not isinstance(event.input, PromptInput):
            return
        event.stop()
        self._close_prompt()

    def on_prompt_input_next(self, event: PromptInput.Next) -> None:
        """F3 while searching."""
        if self.prompt.mode == "search":
            self._jump(self.view.cursor_index + 1)

    def on_prompt_input_cancel(self, event: PromptInput.Cancel) -> None:
        """Esc in the prompt: close it; for the filter, also clear it."""
        if self.prompt.mode == "filter":
            self.table.set_filter("")
            self._table_changed()
        self._close_prompt()

    def _close_prompt(self) -> None:
        self.prompt.close()
        self.prompt.remove_class("-nomatch")
        self.view.focus()

    def action_clear_filters(self) -> None:
        """Esc on the table: close the palette's "Keys" panel, else cancel a running wait,
        else clear text, user and PID filters."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
            return
        if self.waited:
            self.cancel_wait()
            return
        table = self.table
        if not (table.filter_text or table.user_filter or table.pid_filter):
            return
        table.set_filter("")
        table.set_user(None)
        table.set_pids(None)
        self._table_changed()
        self.notify("Filters cleared", markup=False, timeout=2)

    def action_choose_user(self) -> None:
        """``u``: show one user's processes (or all)."""
        snap = self.table.snapshot
        users = sorted({p.user for p in snap.processes if p.user}) if snap else []

        def done(user: str | None) -> None:
            if user is None:
                return
            self.table.set_user(None if user == ALL_USERS else user)
            self._table_changed()

        self.push_screen(UserScreen(users, self.table.user_filter), done)

    # ------------------------------------------------------------------ tree & threads
    def action_toggle_tree(self) -> None:
        """``t``/F5: tree view on/off."""
        self.table.set_tree(not self.table.tree)
        self._table_changed()

    def action_collapse(self, collapsed: bool) -> None:
        """``-``/``+``: collapse/expand the cursor's subtree (tree view only)."""
        if not self.table.tree:
            self.notify("Collapse/expand works in tree view (t)", markup=False, timeout=2)
            return
        key = self.view.cursor_key
        if key is None:
            return
        self.view.following = True
        self.table.set_collapsed(key, collapsed)
        self._table_changed()

    def action_toggle_threads(self) -> None:
        """``H``: show/hide userland threads (needs a new sample with threads)."""
        self.table.set_threads(user=not self.table.show_threads)
        self._table_changed()
        self.sample_now()

    def action_toggle_kthreads(self) -> None:
        """``K``: show/hide kernel threads."""
        self.table.set_threads(kernel=not self.table.show_kernel_threads)
        self._table_changed()

    # ------------------------------------------------------------------ pause & delay
    def action_toggle_pause(self) -> None:
        """``Z``: freeze the display; no samples are taken or merged while paused."""
        self.paused = not self.paused
        if self.paused:
            if self._timer is not None:
                self._timer.stop()
                self._timer = None
        else:
            self.start_sample()
        self._update_chrome()

    def set_delay(self, seconds: float) -> None:
        """Change the refresh delay now (re-arms the pending timer); kept within the steps of
        ``,``/``.``, the same bounds as ``d`` and ``-d`` (0.1-60 s)."""
        self.delay = min(DELAY_STEPS[-1], max(DELAY_STEPS[0], seconds))
        if self._timer is not None:
            self._arm()
        self._update_chrome()  # the header shows "Delay: Ns": no notification per keypress

    def action_delay_step(self, step: int) -> None:
        """``,``/``.``: refresh faster/slower."""
        if step < 0:
            smaller = [d for d in DELAY_STEPS if d < self.delay - 1e-9]
            self.set_delay(smaller[-1] if smaller else DELAY_STEPS[0])
        else:
            larger = [d for d in DELAY_STEPS if d > self.delay + 1e-9]
            self.set_delay(larger[0] if larger else DELAY_STEPS[-1])

    def action_choose_delay(self) -> None:
        """``d``: type a delay."""

        def done(seconds: float | None) -> None:
            if seconds is not None:
                self.set_delay(seconds)

        self.push_screen(DelayScreen(self.delay), done)

    # ------------------------------------------------------------------ pins
    def _mark(self, key: ProcKey) -> str | None:
        """Gutter mark: ● a running pin, ✕ a pinned (or --watch-all) process that exited.

        Keys are (PID, start time): a newcomer that reuses a pinned PID has another key, so
        it is drawn unpinned.
        """
        pin = self.pins.get(key)
        if pin is not None:
            return RUNNING_MARK if pin.alive else EXITED_MARK
        if self.watch_all is not None and key in self.watch_all.exited:
            return EXITED_MARK
        return None

    def _lookup(self, key: ProcKey) -> tuple[Any, float] | None:
        row = self.table.get(key)
        return None if row is None else (row.info, row.cpu)

    def _pins_changed(self) -> None:
        self.strip.refresh_pins()
        self.journal_pins_changed(self.pins)
        self.view.set_show_marks(len(self.pins) > 0 or self.watch_all is not None)
        self._chrome_soon()

    def _chrome_soon(self) -> None:
        """The header status once per batch of pin changes: rebuilding the meters on each of
        3,000 exits of one kill (or pins of one ``c``) froze the UI for seconds."""
        if not self._chrome_pending:
            self._chrome_pending = True
            self.call_later(self._chrome_flush)

    def _chrome_flush(self) -> None:
        self._chrome_pending = False
        self._update_chrome()

    def _on_pin_changed(self, pin: Pin, event: ExitEvent | None) -> None:
        """Called by the pin set on the loop thread: repaint the strip and the row at once."""
        self._pins_changed()
        self.view.refresh_key(pin.key)
        if event is None:
            if self.wait_total and pin.key not in self.pins:  # unpinned while waited
                self._wait_progress()
            return
        if self.exit_when_gone and len(self.pins) and not self.pins.alive():
            self.exit(0)

    def _on_wait_over(self, pin: Pin, event: ExitEvent) -> None:
        """A waited pin's wait is over (final status, or REAP_GRACE after an unknown exit):
        its notification and the bell, with the status the pin set settled on."""
        self.wait_exited += 1
        status = event.status
        bad = not status.known or status.signal is not None or status.code
        self.notify(
            f"{pin.target} {pin.command}: {status.describe()}",
            title="Waited process exited",
            severity="warning" if bad else "information",
            markup=False,
        )
        if self.bell_enabled:
            self.bell()
        self._wait_progress()

    def _on_watched_exit(self, key: ProcKey, event: ExitEvent) -> None:
        """--watch-all: a listed process exited; mark its row now."""
        self.view.refresh_key(key)

    def _refuse(self, what: str, error: HandleError) -> None:
        self.notify(f"{what}: {error}", title="Refused", severity="error", markup=False)

    def action_toggle_pin(self) -> None:
        """Space: pin/unpin the cursor's process (or, in the strip, unpin its cursor's pin)."""
        if self.strip.has_focus:
            pin = self.strip.cursor_pin
            if pin is not None:
                self.pins.unpin(pin.key)
            return
        row = self.view.cursor_row
        if row is None:
            return
        if row.key in self.pins:
            self.pins.unpin(row.key)
        else:
            try:
                self.pins.pin(row.info)
            except HandleError as e:
                self._refuse(f"Not pinned: {row.info.pid}", e)
                return
        self.view.action_cursor(1)

    def action_pin_tree(self) -> None:
        """``c``: pin the cursor's process and all its descendants."""
        row = self.view.cursor_row
        if row is None:
            return
        pinned, refused = 0, []
        for key in [row.key, *self.table.descendants(row.key)]:
            found = self.table.get(key)
            if found is None or key in self.pins or found.info.is_thread:
                continue
            try:
                self.pins.pin(found.info)
                pinned += 1
            except HandleError as e:
                refused.append(str(e))
        if refused:
            self.notify(
                f"Pinned {pinned}; {len(refused)} refused: {refused[0]}",
                severity="error",
                markup=False,
            )
        else:
            self.notify(f"Pinned {pinned} process{'es' if pinned != 1 else ''}", markup=False)

    def action_unpin_all(self) -> None:
        """``U``: unpin everything."""
        n = self.pins.unpin_all()
        self.notify(f"Unpinned {n} process{'es' if n != 1 else ''}", markup=False, timeout=2)

    def action_dismiss_exited(self) -> None:
        """``x``/Delete: dismiss the exited pin under the strip's (or the table's) cursor."""
        pin = None
        if self.strip.has_focus:
            pin = self.strip.cursor_pin
        else:
            row = self.view.cursor_row
            if row is not None:
                pin = self.pins.get(row.key)
            if pin is None or pin.alive:
                exited = [p for p in self.pins if not p.alive]
                pin = exited[0] if len(exited) == 1 else pin
        if pin is None:
            self.notify("No exited pin here (Tab into the pinned strip)", markup=False, timeout=2)
        elif pin.alive:
            self.notify(f"{pin.target} is still running: Space unpins it", markup=False, timeout=2)
        else:
            self.pins.unpin(pin.key)

    def action_clear_exited(self) -> None:
        """``X``: dismiss every exited pin."""
        n = self.pins.clear_exited()
        self.notify(f"Cleared {n} exited pin{'s' if n != 1 else ''}", markup=False, timeout=2)

    # ------------------------------------------------------------------ kill
    def action_kill(self) -> None:
        """``k``/F9: pick a signal for every running pin, or else the cursor's process."""
        row = self.view.cursor_row
        try:
            targets = self.pins.targets(row.info if row is not None else None)
        except HandleError as e:
            self._refuse("Not signalled", e)
            return
        if not targets:
            self.notify("Nothing to signal", severity="warning", markup=False)
            return
        self.kill_targets(targets)

    def kill_targets(self, targets: list[Target]) -> None:
        """The signal picker (then confirmation if needed) for ``targets``; owned ones are
        released when done."""
        pairs = [(t.target, t.command) for t in targets]
        tree, tree_first = tree_offer(self, targets, self.view.cursor_key)

        def chosen(choice: SignalChoice | None) -> None:
            if choice is None:
                self.pins.release(targets)
                return
            self.escalate_after = choice.after
            reasons = confirmation_reasons(targets, descendants=tree if choice.tree else ())
            if not reasons:
                self._send(targets, choice)
                return
            label = (
                f"SIGTERM, then SIGKILL after {choice.after:g} s"
                if choice.escalate
                else f"Send {signal_name(choice.signal)}"
            ) + (" (whole tree)" if choice.tree else "")

            def confirmed(yes: bool | None) -> None:
                if yes:
                    self._send(targets, choice)
                    return
                self.pins.release(targets)
                self.events.add("signal", "", f"{label}: not confirmed, nothing sent", ok=False)
                self.notify("Nothing sent", markup=False, timeout=2)

            self.push_screen(ConfirmScreen(label, pairs, reasons), confirmed)

        size = len(targets) + len(tree) if tree else 0
        picker = SignalScreen(pairs, after=self.escalate_after, tree=size, tree_selected=tree_first)
        self.push_screen(picker, chosen)

    def _send(self, targets: list[Target], choice: SignalChoice) -> None:
        if choice.tree:  # freeze, signal, continue: in a thread worker (pidtop.ui.tree_kill)
            start_tree_kill(self, targets, choice)
            return
        if choice.escalate or (choice.reclaim and choice.signal == signal.SIGKILL):
            then = signal.SIGKILL if choice.escalate else None
            try:  # the action takes its own references now: unpinning cannot cancel it
                action = self.pins.escalate(
                    targets, choice.signal, then, choice.after, reclaim=choice.reclaim
                )
            except HandleError as e:
                self._refuse("Nothing sent", e)
                return
            self.run_worker(self._escalate(action), group="signal", exit_on_error=False)
            return
        try:
            results = self.pins.send(targets, choice.signal)
        finally:
            self.pins.release(targets)
        self._report([ActionResult(t, [r]) for t, r in zip(targets, results, strict=True)])

    async def _escalate(self, action: Awaitable[list[ActionResult]]) -> None:
        self._report(await action)

    def quit_needs_confirmation(self) -> bool:
        """``q`` (and ctrl+c) ask first while a signal is still to come."""
        return bool(self.pins.pending_actions)

    async def action_quit(self) -> None:
        """``q``/F10: quit; with a signal still to come (an escalation), ask first."""
        pending = self.pins.pending_actions
        if not pending:
            self.exit()
            return
        pairs = [(t.target, t.command) for a in pending for t in a.targets]
        reasons = [f"{a.describe()} will not be sent" for a in pending]

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmScreen("Quit and cancel the pending signal", pairs, reasons), answered
        )

    def _report(self, results: list[ActionResult]) -> None:
        """ONE notification per kill (the per-process results are in the event log).

        A single target: ``PID:INODE command…: SIGTERM delivered``; several: counts per signal,
        ``SIGTERM: 8 delivered, 1 already exited — see L for details``.
        """
        if not results:
            return
        severity = "information"
        for ar in results:
            outcomes = {r.outcome for r in ar.results}
            if outcomes & {"not_permitted", "error"} or (ar.reclaim and not ar.reclaim.ok):
                severity = "error"
            elif outcomes & {"gone", "exited_not_reaped"} and severity != "error":
                severity = "warning"
        if len(results) == 1:
            ar = results[0]
            parts = [r.describe().removeprefix(f"{r.target}: ") for r in ar.results]
            if ar.reclaim is not None:
                parts.append(ar.reclaim.describe().removeprefix(f"{ar.reclaim.target}: "))
            t = ar.target
            text = f"{t.target} {_short(t.command)}: " + "; ".join(parts)
        else:
            counts: dict[str, dict[str, int]] = {}  # signal -> outcome words -> n
            for ar in results:
                for r in ar.results:
                    per = counts.setdefault(signal_name(r.signal), {})
                    word = _OUTCOME_WORDS.get(r.outcome, "failed")
                    per[word] = per.get(word, 0) + 1
            text = "; ".join(
                f"{name}: " + ", ".join(f"{per[w]} {w}" for w in _WORD_ORDER if w in per)
                for name, per in counts.items()
            )
            reclaims = [ar.reclaim for ar in results if ar.reclaim is not None]
            if reclaims:
                ok = sum(1 for r in reclaims if r.ok)
                text += f"; memory reclaimed: {ok} of {len(reclaims)}"
            text += " — see L for details"
        self.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ wait
    def action_wait(self) -> None:
        """``w``: wait for every running pin (``w`` again or Esc cancels)."""
        if self.waited:
            self.cancel_wait()
            return
        try:
            n = self.pins.start_wait()
        except HandleError as e:
            self._refuse("Not waiting", e)
            return
        if n == 0:
            self.notify(
                "Nothing to wait for: pin running processes first (Space)",
                severity="warning",
                markup=False,
            )
            return
        self.wait_total, self.wait_exited = n, 0
        self._wait_progress()

    def cancel_wait(self) -> None:
        """Stop waiting (the pins stay)."""
        n = len(self.waited)
        self.wait_total = self.wait_exited = 0
        self.pins.cancel_wait()
        self._wait_progress()
        self.notify(f"Wait cancelled ({n} still alive)", markup=False, timeout=2)

    def _wait_progress(self) -> None:
        n = len(self.waited)
        self.strip.waiting_text = f"waiting for {n} process{'es' if n != 1 else ''}" if n else ""
        self.strip.refresh_pins()
        self._chrome_soon()
        if not n and self.wait_total:
            total, gone = self.wait_total, self.wait_exited
            self.wait_total = self.wait_exited = 0
            if gone == total:
                text = f"All {total} waited process{'es' if total != 1 else ''} exited"
            else:
                text = f"Wait over: {gone} of {total} exited, the others were unpinned"
            self.notify(text, title="Wait done", markup=False)

    # ------------------------------------------------------------------ event log
    def action_event_log(self) -> None:
        """``L``: the session's event log."""
        if not isinstance(self.screen, EventLogScreen):
            self.push_screen(EventLogScreen(self.events))

    # ------------------------------------------------------------------ misc
    def action_help(self) -> None:
        """``?``/F1."""
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Command palette entries (ctrl+p)."""
        yield from super().get_system_commands(screen)
        for col in COLUMNS:
            yield SystemCommand(
                f"Sort by {col.title}",
                f"Order processes by {col.title}",
                partial(self.action_sort, col.id),
                discover=False,
            )
        commands = (
            ("Invert sort order", "Reverse the current order", self.action_invert_sort),
            ("Filter processes", "Hide processes not matching a text", self.action_filter),
            ("Clear filters", "Show all processes again", self.action_clear_filters),
            ("Search processes", "Jump to a matching process", self.action_search),
            ("Filter by user", "Show one user's processes", self.action_choose_user),
            ("Toggle tree view", "Show processes as a tree", self.action_toggle_tree),
            ("Pause / resume", "Freeze the display (no sampling)", self.action_toggle_pause),
            ("Toggle user threads", "Show/hide userland threads", self.action_toggle_threads),
            ("Toggle kernel threads", "Show/hide kernel threads", self.action_toggle_kthreads),
            ("Set refresh delay", "Seconds between samples", self.action_choose_delay),
            ("Pin / unpin process", "Hold the cursor's process by pidfd", self.action_toggle_pin),
            ("Pin process tree", "Pin the process and its descendants", self.action_pin_tree),
            ("Unpin all", "Release every pinned process", self.action_unpin_all),
            ("Clear exited pins", "Dismiss every exited pinned process", self.action_clear_exited),
            ("Kill / send signal", "Signal the pins, or the cursor's process", self.action_kill),
            ("Wait for pinned processes", "Tell me as each pin exits", self.action_wait),
            ("Event log", "Pins, signals and exits of this session", self.action_event_log),
            ("Process details", "Everything about the cursor's process", self.action_details),
            ("Environment", "The cursor's process's environment", self.action_environ),
            ("Open files", "Files and sockets of the cursor's process", self.action_files),
            ("strace", "Trace the cursor's process (strace -p)", self.action_strace),
            (
                "Nice -1",
                "Raise the priority (pins, else the cursor)",
                partial(self.action_nice, -1),
            ),
            ("Nice +1", "Lower the priority (pins, else the cursor)", partial(self.action_nice, 1)),
            ("I/O priority", "I/O class and level (pins, else the cursor)", self.action_ionice),
            ("CPU affinity", "CPUs to run on (pins, else the cursor)", self.action_affinity),
            ("Copy PID:INODE", "Copy the process's exact identity", self.action_copy_identity),
            ("Exits", "Every process exit since start (the exit journal)", self.action_exits),
        )
        for title, help_text, callback in commands:
            yield SystemCommand(title, help_text, callback)


def _proc_is_own() -> bool:
    """False when /proc is another PID namespace's (see handle.ForeignProc)."""
    try:
        return features().proc_is_own
    except HandleError:
        return True  # out of fds while probing: reported by _report_kernel_limits


def _short(command: str, width: int = NOTIFY_COMMAND) -> str:
    """A command line for a one-line message: at most ``width`` characters, ``…`` if cut."""
    command = sanitize(command)
    return command if len(command) <= width else command[: width - 1] + "…"


def _parse_pids(value: object) -> frozenset[int] | None:
    if value is None or value == "":
        return None
    if isinstance(value, (list, tuple, set, frozenset)):
        items: Iterable[object] = value
    else:
        items = str(value).replace(" ", ",").split(",")
    pids = set()
    for item in items:
        text = str(item).strip()
        if text:
            pids.add(int(text.split(":", 1)[0]))
    return frozenset(pids) or None


def make_pins(source: ProcessSource, args: object) -> PinSet:
    """The event log (``--log``) and the pins of ``--pin``, opened before the UI starts.

    Raises StartupError (exit status 2) for an unwritable log, a --pin target that cannot be
    pinned, or --exit-when-gone without --pin.
    """
    clock = getattr(source, "now", time.time)
    path = getattr(args, "log", None)
    try:
        log = EventLog(clock=clock, path=path)
    except OSError as e:
        raise StartupError(f"--log {path}: cannot write it: {e.strerror or e}") from None
    opener = None
    if isinstance(source, ScriptedSource):  # --demo: pins and kills act on the script only
        opener = SourceOpener(source)
    pins = PinSet(log, clock=clock, opener=opener)
    for target in getattr(args, "pin", None) or []:
        try:
            ident = parse_target(target) if isinstance(target, str) else target
            pins.pin_target(ident)
        except (ValueError, HandleError) as e:
            pins.close()
            log.close()
            raise StartupError(f"--pin {target}: {e}", _pin_status(e)) from None
    if getattr(args, "exit_when_gone", False) and not len(pins):
        pins.close()
        log.close()
        raise StartupError("--exit-when-gone needs processes to watch: add --pin TARGET...")
    return pins


def _pin_status(error: Exception) -> int:
    """The documented exit status for a --pin that failed (see pidtop --help)."""
    from pidtop.cli import status_for

    return status_for(error) if isinstance(error, HandleError) else 2


def build_app(args: object) -> PidtopApp:
    """Build the app from argparse-like ``args`` (missing attributes get defaults).

    The kernel feature probe runs here, before Textual starts any thread: it forks.
    """
    with contextlib.suppress(HandleError):  # out of fds: the app reports it at start
        features()
    if getattr(args, "demo", False):
        from pidtop.process.scripted import ScriptedSource

        source: ProcessSource = ScriptedSource()
    else:
        from pidtop.process.sample import ProcSampler

        source = ProcSampler()
    delay_tenths = getattr(args, "delay", None)
    delay = 1.5 if delay_tenths is None else max(1, int(delay_tenths)) / 10.0
    sort_name = getattr(args, "sort_key", None)
    sort_column = resolve_sort_key(sort_name)
    pins = make_pins(source, args)
    journal = ScriptedJournal() if getattr(args, "demo", False) else Journal()
    app = PidtopApp(
        source,
        delay=delay,
        sort_column=sort_column,
        user=getattr(args, "user", None) or None,
        pids=_parse_pids(getattr(args, "pid", None)),
        tree=bool(getattr(args, "tree", False)),
        pins=pins,
        watch_all=bool(getattr(args, "watch_all", False)),
        exit_when_gone=bool(getattr(args, "exit_when_gone", False)),
        bell=not getattr(args, "no_bell", False),
        journal=journal,
    )
    if sort_name and sort_column is None:
        print(f"pidtop: unknown sort key {sort_name!r}; sorting by CPU%", file=sys.stderr)
    return app


def run_tui(args: object) -> int:
    """Run the monitor until the user quits; returns the exit status."""
    raise_fd_limit()  # once, before any pidfd: the fd budget is computed from it
    try:
        app = build_app(args)  # --pin/--log problems are reported before anything is drawn
    except ValueError as exc:
        print(f"pidtop: {exc}", file=sys.stderr)
        return exc.status if isinstance(exc, StartupError) else 2
    problem = tty_problem()
    if problem is not None:
        # Without a terminal Textual's input thread spins on EOF (a whole core, measured).
        app.pins.close()
        app.events.close()
        print_problem(problem)
        return 2
    try:
        return run_in_terminal(app)  # signals and crashes restore the terminal
    finally:
        app.events.close()
