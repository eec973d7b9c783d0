"""The monitor's side of the exit journal: the reader thread, ``E``, the header words.

A mixin for :class:`~pidtop.ui.app.PidtopApp`: what it uses of the rest of the app is
:class:`ExitsHost` (mypy checks the app has it). The journal is read by a
:class:`~pidtop.journal.service.JournalReader` thread (its start check forks a child and waits
up to 2 s: never on the UI loop); the UI only looks at its counters once a second (header) and
at its records four times a second while the Exits screen is open. Short-lived processes
therefore never become table rows; they are in the journal.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Iterable
from contextlib import suppress
from operator import attrgetter
from typing import TYPE_CHECKING, Protocol

from textual.css.query import NoMatches
from textual.message import Message

from pidtop.journal.records import status_text
from pidtop.journal.service import ExitRecord, Journal, JournalReader, Record
from pidtop.ui.later import call_later
from pidtop.ui.lazy import opens_screen

if TYPE_CHECKING:
    from textual.app import App

    from pidtop.actions.pins import Pin
    from pidtop.kernel.handle import Handle
    from pidtop.sampling.snapshot import Snapshot
    from pidtop.sampling.table import ProcessTable, Row
    from pidtop.ui.screens.exits import ExitsScreen
    from pidtop.ui.widgets.process_view import ProcessView

_PID = attrgetter("pid")
#: the journal's thread wakes the UI loop anyway when this many exit records wait
INBOX_WAKE = 512
#: seconds between updates of the header's exit counters
HEADER_EVERY = 1.0
#: the header timer's tick is skipped while a merge came within HEADER_EVERY + this (the
#: table's refresh redraws the counters in its own frame: one frame a second, not two)
MERGE_SLACK = 0.25


class ExitsHost(Protocol):
    """What the exits actions use of the app besides Textual's own (PidtopApp has it)."""

    table: ProcessTable

    @property
    def view(self) -> ProcessView: ...
    def show_details(self, pid: int, starttime: int | None, command: str) -> None: ...
    def _update_chrome(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], ExitsHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with an ExitsHost."""

else:
    _Mixin = object


class ExitsSeen(Message):
    """The journal's thread has exit records waiting (``ExitsActions._exit_inbox``)."""


class ExitsActions(_Mixin):
    """``E``: the Exits screen; ``journal_status()``: the header's words. Mixed into the app."""

    journal: Journal | None = None
    _journal_reader: JournalReader | None = None
    _journal_words = ""
    _journal_words_at = float("-inf")  # monotonic time the words were last looked at
    _journal_merged_at = float("-inf")  # ... by a merge
    #: the header timer: pushed back by each merge, so it fires only when no merge came
    _journal_due_at: asyncio.TimerHandle | None = None
    _pin_inodes: dict[int, int] = {}
    _pin_handles: dict[int, Handle] = {}
    #: the PIDs of the latest sample (an exit of any other PID is not looked up)
    _listed_pids: frozenset[int] = frozenset()
    _exit_posted = False
    _exit_inbox: deque[Record]  # set by the app's __init__

    # ------------------------------------------------------------------ exit marks
    def _journal_exits(self, records: list[Record]) -> None:
        """The journal's listener (its reader thread): queue the records; wake the loop once
        per batch only when one of them is a listed process's exit (or many are waiting). The
        exits of processes no sample listed (a build's, a busy shell's) wait for the next merge,
        which reads the queue against its own sample: the UI loop is not woken for each batch."""
        self._exit_inbox.extend(records)  # a deque: thread-safe; the flag is cleared first
        if self._exit_posted:
            return
        listed = self._listed_pids  # swapped whole by a merge: a complete set either way
        if len(self._exit_inbox) > INBOX_WAKE or any(
            type(r) is ExitRecord and r.pid in listed for r in records
        ):
            self._exit_posted = True
            self.post_message(ExitsSeen())

    def on_exits_seen(self, _: ExitsSeen) -> None:
        """Mark every listed process that exited, by identity (PID and start time), with its
        status, until the next refresh removes its row (:mod:`pidtop.sampling.exitmarks`)."""
        self._exit_posted = False
        self._mark_exits(repaint=True)

    def _mark_exits(self, *, repaint: bool) -> None:
        """Mark the listed processes among the queued exits; ``repaint``: their lines now
        (not in a merge: its ``rows_changed`` repaints every line whose mark changed)."""
        inbox = self._exit_inbox
        records = [inbox.popleft() for _ in range(len(inbox))]
        snap = self.table.snapshot
        if snap is None or not records:
            return
        get = self.table.get
        listed = self._listed_pids
        view = self.view
        marked = []
        for r in records:
            if type(r) is ExitRecord and r.pid in listed:
                key = view.exits.match(
                    r.pid,
                    r.monotonic,
                    r.lifetime_s,
                    status_text(r),
                    lambda k: get(k) is not None,
                    snap.clk_tck,
                )
                if key is not None:
                    marked.append(key)
        if repaint and marked:
            view.refresh_keys(marked)

    def exits_merged(self, snap: Snapshot) -> None:
        """After a merge: the PIDs to look exits up for; marks of rows gone are dropped; the
        exits queued meanwhile are read against this sample (one that lists a process that
        exited before the merge gets its mark)."""
        self._listed_pids = frozenset(map(_PID, snap.processes))  # ~3x a generator's speed
        exits = self.view.exits
        if exits.marks:
            exits.prune(lambda k: self.table.get(k) is not None)
        if self._exit_inbox:
            self._mark_exits(repaint=False)  # the merge's rows_changed repaints them
        self.journal_merged()  # the header's exit words, in the merge's frame

    def start_journal(self) -> None:
        """Start reading the journal (if the app has one) and refreshing the header."""
        journal = self.journal
        if journal is None or self._journal_reader is not None:
            return
        journal.inode_of = self._pin_inodes_get
        journal.coredump_of = self._pin_coredump_get
        self._journal_reader = JournalReader(journal, start={})
        self._journal_reader.start()
        self._journal_arm(HEADER_EVERY)

    def stop_journal(self) -> None:
        reader, self._journal_reader = self._journal_reader, None
        if self._journal_due_at is not None:
            self._journal_due_at.cancel()
            self._journal_due_at = None
        if reader is not None:
            reader.stop()
        if self.journal is not None:
            self.journal.close()

    def _pin_inodes_get(self, pid: int) -> int | None:
        return self._pin_inodes.get(pid)

    def _pin_coredump_get(self, pid: int) -> str:
        handle = self._pin_handles.get(pid)
        coredump = getattr(handle, "coredump", None)
        return coredump() if coredump is not None else "unknown"

    def journal_pins_changed(self, pins: Iterable[Pin]) -> None:
        """The pins' PID -> inode and PID -> handle, for the journal's ``inode`` and
        ``coredump`` fields (new dicts each time: the reader thread only ever sees complete
        ones; a handle closed meanwhile answers ``unknown``)."""
        self._pin_inodes = {p.key[0]: inode for p in pins if (inode := p.handle.inode)}
        self._pin_handles = {p.key[0]: p.handle for p in pins if hasattr(p.handle, "coredump")}

    def journal_status(self) -> str | None:
        """``Exits: 2.5/s, 3 failed`` for the header; None without a journal."""
        journal = self.journal
        if journal is None:
            return None
        if journal.error:
            return "Exits: journal stopped (E)"
        if not journal.started:
            return "Exits: starting"
        stats = journal.stats
        text = f"Exits: {journal.rate():.1f}/s, {stats.failed:,} failed"
        if stats.lost_events:
            text += f", {stats.lost_events:,} events lost"
        if not journal.complete:
            text += " (exits between refreshes may be missed)"
        return text

    def _journal_arm(self, delay: float) -> None:
        """(Re)schedule the header timer ``delay`` s from now: an asyncio handle, not a Textual
        interval, which woke the loop each second to find that a merge had done its work."""
        if self._journal_due_at is not None:
            self._journal_due_at.cancel()
        self._journal_due_at = call_later(self, delay, self._journal_due)

    def _journal_due(self) -> None:
        """No merge for ``HEADER_EVERY + MERGE_SLACK`` s: the timer's turn, then every
        ``HEADER_EVERY`` s until a merge comes."""
        self._journal_due_at = None
        if self._journal_reader is None:
            return
        self._journal_timer()
        self._journal_arm(HEADER_EVERY)

    def _journal_timer(self) -> None:
        if time.monotonic() - self._journal_merged_at >= HEADER_EVERY + MERGE_SLACK:
            self._journal_tick()  # paused, a replay, a slow refresh: no merge redraws them

    def journal_merged(self) -> None:
        """A merge: the header's exit words redrawn in the table's frame, at most about once
        per HEADER_EVERY (at ``-d 1`` not ten times a second)."""
        now = time.monotonic()
        self._journal_merged_at = now
        if self._journal_reader is None:
            return
        self._journal_arm(HEADER_EVERY + MERGE_SLACK)  # the timer waits for a merge-less span
        if now - self._journal_words_at >= 0.9 * HEADER_EVERY:
            self._journal_tick()

    def _journal_tick(self) -> None:
        self._journal_words_at = time.monotonic()
        words = self.journal_status() or ""
        if words != self._journal_words:
            self._journal_words = words
            with suppress(NoMatches):  # the app is closing: its header is gone (seen in tests)
                self._update_chrome()

    @opens_screen("the Exits screen")
    def action_exits(self) -> None:
        """``E``: every process exit since pidtop started (the exit journal)."""
        from pidtop.ui.screens.exits import ExitsScreen
        from pidtop.ui.screens.modal import kept_screen

        journal = self.journal
        if journal is None:
            self.notify("The exit journal is off", severity="warning", markup=False)
        elif not isinstance(self.screen, ExitsScreen):
            screen = kept_screen(
                self,
                ExitsScreen,
                lambda s: s.journal is journal,
                lambda: ExitsScreen(journal),
                ExitsScreen.show,  # the exits of now, as a new one
            )
            self.push_screen(screen)

    def living_relative(self, record: ExitRecord) -> tuple[int, Row] | None:
        """The parent of ``record`` if the table lists it, else the nearest listed ancestor
        (a parent that exited too is followed through its own exit record); (index, row)."""
        table = self.table
        index_of = {row.info.pid: i for i, row in enumerate(table.rows)}
        parents: dict[int, int] = {}
        if self.journal is not None:
            with self.journal.lock:
                for r in self.journal.records:
                    if isinstance(r, ExitRecord):
                        parents[r.pid] = r.ppid
        pid, seen = record.ppid, set()
        while pid and pid not in index_of and pid in parents and pid not in seen:
            seen.add(pid)
            pid = parents[pid]
        if pid in index_of:
            return index_of[pid], table.rows[index_of[pid]]
        return None

    def on_exits_screen_open_parent(self, event: ExitsScreen.OpenParent) -> None:
        """Enter on an exit: back to the table with the cursor on its parent (or the nearest
        living ancestor); ``d``: that process's details, over the Exits screen."""
        record: ExitRecord = event.record
        found = self.living_relative(record)
        if found is None:
            self.notify(
                f"Parent PID {record.ppid} of {record.pid} is not listed "
                "(it has exited, or a filter hides it)",
                severity="warning",
                markup=False,
            )
            return
        index, row = found
        if row.info.pid != record.ppid:
            self.notify(
                f"Parent PID {record.ppid} has exited too; showing its ancestor PID {row.info.pid}",
                markup=False,
                timeout=3,
            )
        if event.details:
            info = row.info
            self.show_details(info.pid, info.starttime, info.command)
            return
        self.pop_screen()
        self.view.set_cursor(index)
        self.view.focus()
