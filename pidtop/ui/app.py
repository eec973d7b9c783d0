"""The pidtop Textual application: meters, the process view, prompts and the sampling loop.

Data flow: an executor thread calls ``source.sample()``; its result is merged into the
``ProcessTable`` on the UI loop (``_sampled``), the view repaints the lines that
changed, and only then is the next sample armed (``loop.call_later(delay)``). Samples therefore
never overlap, pausing is just "do not arm", and the UI loop never touches /proc.

The keys come from :mod:`pidtop.ui.actions` (one table), the options from
:class:`pidtop.settings.options.Options`, the stylesheet from :func:`find_css`; start-up is
:mod:`pidtop.ui.startup`. The actions themselves live in mixins (``view_actions``,
``pin_actions``, ``process_actions``, ``settings_actions``, ``exits_actions``); each says in a
Protocol (``ViewHost``, ``PinHost``...) what it uses of the rest of the app, and mypy checks
that this class has it.

One thing: the app's state and its sampling loop; what else it does is in those mixins.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable, Sequence
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import Vertical
from textual.events import Resize
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.actions.watch_all import WatchAll
from pidtop.kernel.errors import HandleError
from pidtop.kernel.probes import features
from pidtop.sampling.columns import COLUMNS
from pidtop.sampling.history import History
from pidtop.sampling.snapshot import ProcessSource, ProcKey, Snapshot
from pidtop.sampling.table import ProcessTable
from pidtop.settings.options import Options
from pidtop.ui import actions
from pidtop.ui.exits_actions import ExitsActions
from pidtop.ui.gcpolicy import GcScheduled
from pidtop.ui.later import call_later
from pidtop.ui.lazy import opens_screen
from pidtop.ui.notify import NotifyApp
from pidtop.ui.pin_actions import PinActions
from pidtop.ui.process_actions import ProcessActions
from pidtop.ui.quit import QuickExit
from pidtop.ui.replay_actions import ReplayActions
from pidtop.ui.settings_actions import SettingsActions
from pidtop.ui.status import StatusState, status_parts
from pidtop.ui.terminal import TerminalApp
from pidtop.ui.typeahead import TypeaheadApp
from pidtop.ui.view_actions import ViewActions
from pidtop.ui.widgets.filterbar import FilterBar, PromptBar
from pidtop.ui.widgets.footer import KeyFooter
from pidtop.ui.widgets.meters import Meters
from pidtop.ui.widgets.pinned import PinnedStrip
from pidtop.ui.widgets.process_view import ProcessView

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from pidtop.journal.service import Journal, Record
    from pidtop.ui.tree_kill import TreeKillRun

#: The second sample comes quickly so that CPU% has a delta to show (htop does the same).
FIRST_DELTA = 0.5
#: The exit journal starts after the first frame, at the latest this many seconds after mount.
JOURNAL_LATEST = 2.0
#: The pickers' widget styles are parsed this many seconds after mount (ui/screens/warm.py).
WARM_STYLES_AT = 3.0
#: Below this terminal height the meters collapse to one line.
COMPACT_HEIGHT = 20


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


class PidtopApp(
    ReplayActions,
    SettingsActions,
    ViewActions,
    PinActions,
    ExitsActions,
    ProcessActions,
    QuickExit,
    GcScheduled,
    TypeaheadApp,
    NotifyApp,
    TerminalApp,
    App[int],
):
    """The live process monitor. Keys typed ahead reach the screen the keys before them opened
    (:mod:`pidtop.ui.typeahead`)."""

    CSS_PATH = str(_CSS) if _CSS is not None else None
    TITLE = "pidtop"
    BINDINGS = actions.bindings("app")
    STAYS_PUT = actions.STAYS_PUT  # keys the type-ahead queue never holds others behind

    def __init__(
        self,
        source: ProcessSource,
        options: Options | None = None,
        *,
        pins: PinSet | None = None,
        sample_limit: int | None = None,
        notes: Sequence[str] = (),
        journal: Journal | None = None,
        **changes: Any,
    ) -> None:
        """``options`` (default: ``Options()``) with ``changes`` (``delay=0.1``...) applied.

        ``pins`` (default: an empty set logging on the source's clock) holds the pinned
        processes; ``sample_limit`` stops sampling after that many merges (snapshots,
        screenshots); ``notes`` are start-up warnings shown once the screen is up;
        ``journal`` (None: off) records every process exit on the machine (``E``, header).
        """
        super().__init__()
        opts = (options or Options()).replace(**changes) if changes else (options or Options())
        self.options = opts
        self.source = source
        if pins is None:
            clock = getattr(source, "now", time.time)
            pins = PinSet(EventLog(clock=clock), clock=clock)
        self.pins = pins
        self.events = pins.log
        source.share_fd_budget(pins.budget)  # its open stat files (the sampler)
        self.watch_all: WatchAll | None = (
            WatchAll(pins.budget, self._on_watched_exit, opener=pins.opener)
            if opts.watch_all
            else None
        )
        self.exit_when_gone = opts.exit_when_gone
        self.bell_enabled = opts.bell
        #: every process exit on the machine (``E``, header); None: off
        self.journal = journal
        self._exit_inbox: deque[Record] = deque()  # exits from the journal's thread
        if journal is not None:  # listed processes' exits marked on their rows
            journal.listeners.append(self._journal_exits)
        #: seconds before SIGKILL in the escalation offered by the signal picker
        self.escalate_after = opts.escalate_after
        #: whole-tree kills with an escalation still to come (pidtop.ui.tree_kill)
        self.tree_kills: list[TreeKillRun] = []
        #: ask before signalling more processes than this at once
        self.confirm_over = opts.confirm_over
        #: how many pins the running wait (``w``) started with, and whose wait is over
        self.wait_total = self.wait_exited = 0
        self.delay = opts.delay
        self.sample_limit = sample_limit
        self.startup_notes = tuple(notes)
        self.table = ProcessTable(
            sort_column=opts.sort_column, sort_reverse=opts.sort_reverse, columns=opts.columns
        )
        #: CPU% and RSS per process since first seen (bounded), for the details screen
        self.history = History()
        if opts.user:
            self.table.set_user(opts.user)
        if opts.pids:
            self.table.set_pids(frozenset(opts.pids))
        if opts.tree:
            self.table.set_tree(True)
        self.table.set_threads(user=opts.show_threads, kernel=opts.show_kernel_threads)
        self.paused = False
        #: number of snapshots merged so far (tests wait on it)
        self.samples_merged = 0
        self.search_text = ""
        self._sampling = False
        self._timer: asyncio.TimerHandle | None = None
        self._seen_errors: set[str] = set()
        self._chrome_pending = False
        #: a sample taken before the event loop started (:meth:`sample_first`)
        self._first: Snapshot | None = None

    # ------------------------------------------------------------------ layout
    def compose(self) -> ComposeResult:
        """Meters, the (empty for now) pinned strip, the table, filter bar, prompt, footer."""
        with Vertical(id="top"):
            yield Meters(self.options.meters, id="meters")
        yield PinnedStrip(self.pins, id="pinned")
        yield ProcessView(self.table, mark_provider=self._mark, id="procs")
        yield FilterBar(id="filterbar")
        yield PromptBar(id="prompt")
        # no palette key (^p would take the place of F10 at 80 columns): the help lists it
        yield KeyFooter(compact=True)

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
        if self.options.keymap:
            self.set_keymap(actions.valid_keymap(self.options.keymap))
        self.pins.listeners.append(self._on_pin_changed)
        self.pins.wait_listeners.append(self._on_wait_over)
        self.pins.start()
        self.events.flush_later(asyncio.get_running_loop().call_soon_threadsafe)  # per burst
        self._pins_changed()
        self.prompt.close()
        self.view.focus()
        self._update_chrome()
        self._apply_compact(self.size.height, self.size.width)
        self._apply_theme(self.options.theme)
        self._report_kernel_limits()
        if self.startup_notes:  # config file problems: one warning, each line named
            shown = "\n".join(self.startup_notes[:6])
            more = len(self.startup_notes) - 6
            self.notify(
                shown + (f"\n… and {more} more" if more > 0 else ""),
                title="Settings file: defaults used for these",
                severity="warning",
                timeout=30,
                markup=False,
            )
        self._settings_baseline = self.current_options()
        first, self._first = self._first, None
        if first is not None:  # sampled before the loop started: rows in the first frame
            self.merge(first)
            self._arm()
        else:
            self.start_sample()
        # The exit journal starts once the first sample is on screen (see merge): its start
        # check forks and its thread would take the GIL from the first sample and paint.
        # Started anyway after a while if no sample arrives.
        self.set_timer(JOURNAL_LATEST, self.start_journal, name="journal-start")
        self.set_timer(WARM_STYLES_AT, self._warm_styles, name="warm-styles")

    def _warm_styles(self) -> None:
        """The pickers' widget styles parsed at idle, not at their first opening."""
        from pidtop.ui.screens.warm import warm_styles

        warm_styles(self)

    def _apply_theme(self, name: str) -> None:
        """Use theme ``name`` (a Textual theme); an unknown name keeps the current one."""
        if name == self.theme:
            return
        if name in self.available_themes:
            self.theme = name
        else:
            self.notify(
                f"Unknown theme {name!r}: kept {self.theme}", severity="warning", markup=False
            )

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

    def on_resize(self, event: Resize) -> None:
        """Collapse the meters on tiny terminals."""
        self._apply_compact(event.size.height, event.size.width)

    def _apply_compact(self, height: int, width: int) -> None:
        self.meters.set_class(height < COMPACT_HEIGHT or width < 60, "-compact")

    # ------------------------------------------------------------------ sampling
    def sample_first(self, first: Snapshot | None = None) -> None:
        """Take the first sample now, before the app runs (:func:`pidtop.ui.startup.build_app`):
        the first frame then shows the processes. In the thread worker the same sample took
        3-4 times as long (measured at 1,000 processes): each of its many small /proc reads
        gives up the GIL and waits to get it back from the loop painting the first frame.
        A failure is left to the app's own sample, which reports it; ``first``: taken already."""
        try:
            self._first = first or self.source.sample(
                threads=self.table.show_threads, fields=self.table.fields
            )
        except Exception:  # sampled again (and reported) once running
            self._first = None

    def start_sample(self) -> None:
        """Start one sample in a thread worker unless one is running or we are paused."""
        self._timer = None
        if self._sampling or self.paused:
            return
        if self.sample_limit is not None and self.samples_merged >= self.sample_limit:
            return
        self._sampling = True
        # not a Textual worker (an object and three messages a tick): one message, _sampled
        job = partial(self.source.sample, threads=self.table.show_threads, fields=self.table.fields)
        future = asyncio.get_running_loop().run_in_executor(None, job)
        future.add_done_callback(lambda done: self.call_later(self._sampled, done))

    def sample_now(self) -> None:
        """Drop the pending timer and sample at once (after a setting that needs new data)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self.start_sample()

    def _arm(self) -> None:
        """Schedule the next sample ``delay`` seconds from now (:func:`pidtop.ui.later.call_later`:
        not a Textual ``set_timer``, a Timer object and a task of its own each tick)."""
        if self._timer is not None:
            self._timer.cancel()
        if self.paused or self.replay is not None:  # a replay moves by key only
            self._timer = None
            return
        delay = min(self.delay, FIRST_DELTA) if self.samples_merged == 1 else self.delay
        self._timer = call_later(self, delay, self.start_sample)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """A thread worker ended: a signal action's error; --watch-all's pidfds opened."""
        worker = event.worker
        if worker.group == "signal" and event.state == WorkerState.ERROR:
            self.notify(f"Signal action failed: {worker.error}", severity="error", markup=False)
            return
        if worker.group == "watch":  # --watch-all's pidfds, opened in a thread
            wa, opened = self.watch_all, worker.result
            if event.state == WorkerState.SUCCESS and wa is not None and isinstance(opened, list):
                wa.adopt(opened, lambda key: key in self.pins)
            return

    def _sampled(self, done: asyncio.Future[Snapshot]) -> None:
        """A sample finished (on the loop, as a message: an error in the merge is the app's):
        merge it (unless paused), then arm the next one."""
        self._sampling = False
        if not self.is_running or done.cancelled():  # shutting down: the widgets may be gone
            return
        error = done.exception()
        if error is not None:
            self.notify(f"Sampling failed: {error}", severity="error", markup=False)
        else:
            snap = done.result()
            if not self.paused and isinstance(snap, Snapshot):
                self.merge(snap)
        self._arm()

    def merge(self, snap: Snapshot) -> None:
        """Merge one snapshot into the table and repaint what changed."""
        self.replay_prepare(snap)
        self.table.update(snap)
        table = self.table
        if self.replay is None:  # what changed: an idle process is not visited
            rows = ((r.key, r.cpu, r.info.rss) for r in table.changed)
            self.history.record_changes(rows, table.gone, snap.wall)
        else:  # the table started from another recorded moment: every row
            rows = ((r.key, r.cpu, r.info.rss) for r in table.all_rows() if r.status != "dying")
            self.history.record(rows, snap.wall)
        self.samples_merged += 1
        self.meters.hold_status = True  # the exit words: drawn by update_snapshot below
        try:
            self.exits_merged(snap)
        finally:  # a failed merge must not hold the header's status words for good
            self.meters.hold_status = False
        if self.samples_merged == 1:
            self.call_after_refresh(self.start_journal)  # after the first frame
        self.meters.update_snapshot(snap, self.table.tasks)
        if len(self.pins):
            self.pins.update_info(self._lookup)
            self.strip.refresh_pins()
        if self.watch_all is not None:  # the pidfds are opened in a thread (plan/adopt)
            todo = self.watch_all.plan(  # an exit keeps its mark while its (dying) row is shown
                snap.processes,
                lambda key: key in self.pins,
                lambda key: self.table.get(key) is not None,
            )
            if todo:
                opening = partial(self.watch_all.open_all, todo)
                self.run_worker(opening, group="watch", thread=True, exit_on_error=False)
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
        wa = self.watch_all
        state = StatusState(
            sort_column=table.sort_column,
            sort_reverse=table.sort_reverse,
            delay=self.delay if self.replay is None else None,
            tree=table.tree,
            show_threads=table.show_threads,
            show_kernel_threads=table.show_kernel_threads,
            pinned=len(self.pins),
            pinned_alive=self.pins.alive_count if len(self.pins) else 0,
            waiting=len(self.waited),
            watched=None if wa is None else len(wa),
            watch_skipped=0 if wa is None else wa.skipped,
            proc_foreign=not _proc_is_own(),
        )
        exits = self.journal_status()
        self.meters.set_status(
            status_parts(state) + ((exits,) if exits else ()), self.paused, self.replay_words()
        )
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

    def update_styles(self, node: DOMNode, animate: bool = True) -> None:
        """Not a widget not yet in the DOM (Textual styles one at each class change, even in
        its constructor): mounting styles it, with the classes it has then."""
        if node is self or node._parent is not None:
            super().update_styles(node, animate)

    # ------------------------------------------------------------------ help & palette
    def get_key_display(self, binding: Binding) -> str:
        """Keys as htop's footer and our help show them: ``F9``, ``?``, ``Space``."""
        if binding.key_display or "+" in binding.key:  # ctrl+p: Textual's ^p
            return super().get_key_display(binding)
        return actions.key_label(binding.key)

    @opens_screen("the help")
    def action_help(self) -> None:
        """``?``/F1: every action of the table, with the keys bound now."""
        from pidtop.ui.screens.help import HelpScreen  # not needed for the first frame
        from pidtop.ui.screens.modal import kept_screen

        if not isinstance(self.screen, HelpScreen):
            keymap = self.options.keymap
            help_screen = kept_screen(
                self,
                HelpScreen,
                lambda s: s.shows(keymap),
                lambda: HelpScreen(keymap),
                HelpScreen.reopen,
            )
            self.push_screen(help_screen)

    def action_command_palette(self) -> None:
        """ctrl+p: Textual's command palette, laid out once when it opens."""
        from pidtop.ui.screens.modal import kept_screen
        from pidtop.ui.screens.palette import Palette

        if self.use_command_palette and not isinstance(self.screen, Palette):
            under = self.screen
            # (no id: a kept one being removed and the new one would have the same)
            palette = kept_screen(
                self, Palette, lambda p: p.lists_for(under), Palette, Palette.reopen
            )
            self.push_screen(palette)

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        """Command palette entries (ctrl+p): every palette action of the table, then a
        "Sort by" entry per column not already one of them."""
        titles = {a.title for a in actions.palette_actions()}
        # Textual's own (Theme, Keys, Screenshot...), except those the table has (Quit)
        yield from (c for c in super().get_system_commands(screen) if c.title not in titles)
        for action in actions.palette_actions():
            keys = actions.keys_label(action, self.options.keymap)
            yield SystemCommand(
                action.title,
                f"{action.description} ({keys})",
                partial(self.run_action, action.action),
            )
        for col in COLUMNS:
            title = f"Sort by {col.title}"
            if title not in titles:
                yield SystemCommand(
                    title,
                    f"Order processes by {col.title}",
                    partial(self.action_sort, col.id),
                    discover=False,
                )


def _proc_is_own() -> bool:
    """False when /proc is another PID namespace's (see handle.ForeignProc)."""
    try:
        return features().proc_is_own
    except HandleError:
        return True  # out of fds while probing: reported by _report_kernel_limits
