"""The monitor's view actions: sorting, search and filter, tree and threads, pause and delay.

A mixin of :class:`pidtop.ui.app.PidtopApp`: what it uses of the rest of the app is
:class:`ViewHost` (mypy checks the app has it); the keys that run these actions are in
:mod:`pidtop.ui.actions`.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Protocol

from textual.widgets import Input

from pidtop.settings.options import DELAY_STEPS, MAX_DELAY, MIN_DELAY
from pidtop.ui.widgets.filterbar import PromptBar, PromptInput
from pidtop.ui.widgets.process_view import ProcessView

if TYPE_CHECKING:
    import asyncio

    from textual.app import App

    from pidtop.sampling.snapshot import ProcKey
    from pidtop.sampling.table import ProcessTable
    from pidtop.settings.options import Options
    from pidtop.ui.widgets.meters import Meters

#: digits typed within this many seconds of each other make one PID (htop's PID search)
PID_SEARCH_GAP = 2.0


class ViewHost(Protocol):
    """What the view actions use of the app besides Textual's own (PidtopApp has it)."""

    table: ProcessTable
    options: Options

    @property
    def view(self) -> ProcessView: ...
    @property
    def prompt(self) -> PromptBar: ...
    @property
    def meters(self) -> Meters: ...
    @property
    def waited(self) -> set[ProcKey]: ...
    def start_sample(self) -> None: ...
    def sample_now(self) -> None: ...
    def cancel_wait(self) -> None: ...
    def _arm(self) -> None: ...
    def _update_chrome(self) -> None: ...
    def _table_changed(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], ViewHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with a ViewHost."""

else:
    _Mixin = object


class ViewActions(_Mixin):
    """Sorting, searching, filtering, tree, threads, pause and delay."""

    # the state these actions change (set first by PidtopApp.__init__)
    search_text: str
    paused: bool
    delay: float
    _timer: asyncio.TimerHandle | None
    #: the PID typed so far (digits) and when its last digit came
    _pid_typed: tuple[str, float] = ("", 0.0)

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
        ids = [c.id for c in self.table.columns]
        try:
            i = ids.index(self.table.sort_column)
        except ValueError:
            i = 0
        self.action_sort(ids[(i + step) % len(ids)])

    def action_choose_sort(self) -> None:
        """F6: pick the sort column from a list."""
        from pidtop.ui.screens.dialogs import SortScreen
        from pidtop.ui.screens.modal import kept_screen

        def done(column: str | None) -> None:
            if column:
                self.action_sort(column)

        options = [(c.id, c.title) for c in self.table.columns]
        current = self.table.sort_column
        screen = kept_screen(
            self,
            SortScreen,
            lambda s: s.shows(options),
            lambda: SortScreen(options, current),
            lambda s: s.reopen(current),
        )
        self.push_screen(screen, done)

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
        else clear the text and user filters. A ``-p`` given on the command line stays (as in
        htop); the cursor stays on its process."""
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
            return
        if self.waited:
            self.cancel_wait()
            return
        table = self.table
        given = frozenset(self.options.pids) if self.options.pids else None
        if not (table.filter_text or table.user_filter or table.pid_filter != given):
            return
        self.view.following = self.view.cursor_key is not None
        table.set_filter("")
        table.set_user(None)
        table.set_pids(given)
        self._table_changed()
        self.notify("Filters cleared", markup=False, timeout=2)

    def action_choose_user(self) -> None:
        """``u``: show one user's processes (or all)."""
        from pidtop.ui.screens.dialogs import ALL_USERS, UserScreen
        from pidtop.ui.screens.modal import kept_screen

        snap = self.table.snapshot
        users = sorted({p.user for p in snap.processes if p.user}) if snap else []

        def done(user: str | None) -> None:
            if user is None:
                return
            self.table.set_user(None if user == ALL_USERS else user)
            self._table_changed()

        current = self.table.user_filter
        screen = kept_screen(
            self,
            UserScreen,
            lambda s: s.lists(users),
            lambda: UserScreen(users, current),
            lambda s: s.reopen(current or ALL_USERS),
        )
        self.push_screen(screen, done)

    def action_pid_digit(self, digit: str) -> None:
        """A digit: htop's incremental PID search. Digits typed within ``PID_SEARCH_GAP`` add
        up to one PID; the cursor goes to the process with exactly that PID when it is shown."""
        typed, last = self._pid_typed
        now = time.monotonic()
        typed = (typed if now - last < PID_SEARCH_GAP else "") + digit
        self._pid_typed = (typed, now)
        pid = int(typed)
        for i, row in enumerate(self.table.rows):
            if row.info.pid == pid and not row.context:
                self.view.set_cursor(i)
                return
        if not any(str(r.info.pid).startswith(typed) for r in self.table.rows):
            self.notify(f"No process with PID {typed} shown", markup=False, timeout=2)

    def action_next_area(self) -> None:
        """Tab / shift+Tab on the table: into the pinned strip (htop's screen tabs have no
        counterpart: the strip needs the key, the I/O columns are in setup)."""
        strip = self.query_one("PinnedStrip")
        if strip.display:
            strip.focus()
        else:
            self.notify(
                "Tab moves to the pinned strip: nothing is pinned (Space pins)",
                markup=False,
                timeout=2,
            )

    def action_follow(self) -> None:
        """``F``: htop's "cursor follows process" is always on here."""
        self.notify(
            "The cursor always follows its process in pidtop (htop's F is always on)",
            markup=False,
            timeout=3,
        )

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

    def action_collapse_all(self) -> None:
        """``*``: expand every subtree, or collapse every subtree when none is collapsed."""
        if not self.table.tree:
            self.notify("Collapse/expand works in tree view (t)", markup=False, timeout=2)
            return
        rows = self.table.all_rows()
        collapsed = [r.key for r in rows if self.table.is_collapsed(r.key)]
        self.view.following = True
        if collapsed:
            for key in collapsed:
                self.table.set_collapsed(key, False)
        else:
            parents = {r.info.ppid for r in self.table.rows}
            for r in list(self.table.rows):
                if r.info.pid in parents and r.depth > 0:
                    self.table.set_collapsed(r.key, True)
        self._table_changed()

    def action_toggle_meters(self) -> None:
        """``#``: hide / show the header meters (and the status line: they are one widget)."""
        self.meters.set_class(not self.meters.has_class("-hidden"), "-hidden")

    def action_toggle_path(self) -> None:
        """``p``: show / hide the program's directory in the Command column."""
        self.view.set_program_path(not self.view.program_path)

    def action_merged_command(self) -> None:
        """``m``: htop merges name, executable and command line in its Command column; pidtop
        shows the three apart in the details (Enter)."""
        self.notify(
            "Name, executable and command line: Enter (details) shows them together",
            markup=False,
            timeout=3,
        )

    def action_show_command(self) -> None:
        """``W``: the cursor's whole command line, wrapped, in a box (htop's ``w`` wraps it in
        the table; pidtop's ``w`` waits for pins)."""
        from pidtop.ui.screens.dialogs import TextScreen

        row = self.view.cursor_row
        if row is None:
            return
        self.push_screen(TextScreen(f"Command of PID {row.info.pid}", row.info.command))

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
                self._timer.cancel()
                self._timer = None
        else:
            self.start_sample()
        self._update_chrome()

    def set_delay(self, seconds: float) -> None:
        """Change the refresh delay now (re-arms the pending timer); kept within the steps of
        ``,``/``.``, the same bounds as ``d`` and ``-d`` (0.1-60 s)."""
        self.delay = min(MAX_DELAY, max(MIN_DELAY, seconds))
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
        from pidtop.ui.screens.dialogs import DelayScreen

        def done(seconds: float | None) -> None:
            if seconds is not None:
                self.set_delay(seconds)

        self.push_screen(DelayScreen(self.delay), done)
