"""The monitor in replay mode (``pidtop --replay``): a recorded moment, not now.

A mixin for :class:`~pidtop.ui.app.PidtopApp`. With ``replay`` set (a
:class:`~pidtop.record.replay.ReplaySource`, which is also the app's source) the app does not
sample on a timer: ``f``/``b`` step to the next/previous recorded sample, ``g`` goes to a time,
and each move merges the sample before the moment then the moment itself, so CPU% is the
recorded interval's. Every action on a process (signals, nice, pins, details, environment,
open files, strace...: the table's "Pins, signals and waiting" and "One process" groups but
the event log) is refused with a message: those processes may be gone and their PIDs reused.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from pidtop.ui import actions
from pidtop.ui.lazy import opens_screen

if TYPE_CHECKING:
    from textual.actions import ActionParseResult
    from textual.app import App
    from textual.dom import DOMNode

    from pidtop.journal.service import Journal
    from pidtop.record.replay import ReplaySource
    from pidtop.sampling.snapshot import Snapshot
    from pidtop.sampling.table import ProcessTable

#: the actions a replay refuses (method names): everything that acts on or reads a live process
REFUSED = frozenset(
    a.action.split("(", 1)[0]
    for a in actions.ACTIONS
    if a.group in (actions.PINS, actions.PROC) and a.id != "event_log" and a.action
)
#: the replay's own actions (method names): in the footer of a replay only
REPLAY_ONLY = frozenset(
    a.action.split("(", 1)[0] for a in actions.ACTIONS if a.group == actions.REPLAY
)
REFUSAL = (
    "Replay: {what} is refused: this is a recording; its processes may be gone and their "
    "PIDs reused"
)


class ReplayHost(Protocol):
    """What the replay actions use of the app besides Textual's own (PidtopApp has it)."""

    table: ProcessTable
    journal: Journal | None

    def sample_now(self) -> None: ...
    def _update_chrome(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], ReplayHost):
        """What the mixin is mixed into, as mypy sees it."""

else:
    _Mixin = object


class ReplayActions(_Mixin):
    """``f``/``b``/``g`` and the refusals. Mixed into the app before the process actions."""

    #: the recording shown (None: the live monitor)
    replay: ReplaySource | None = None

    def replay_words(self) -> str:
        """``REPLAY 2026-12-06 03:12:10`` for the header; "" when live."""
        if self.replay is None:
            return ""
        from pidtop.record.times import stamp

        moment = self.replay.moment
        gap = "" if moment.exits_complete else " (exits before it incomplete)"
        return f"REPLAY {stamp(moment.wall)} [{moment.index + 1}/{len(self.replay.reader)}]{gap}"

    def journal_status(self) -> str | None:
        """In a replay, what the recording knows at the moment shown: the exits recorded up
        to it (``none recorded by then`` before the first), and whether some may be missing."""
        if self.replay is None:
            return super().journal_status()  # type: ignore[misc,no-any-return]
        journal = self.journal
        if journal is None:
            return None
        if not journal.started:
            return "Exits: reading the recording"
        stats = journal.stats
        if stats.exits:
            text = f"Exits: {stats.exits:,} recorded, {stats.failed:,} failed"
        else:
            text = "Exits: none recorded by then"
        if stats.lost_events:
            text += f", {stats.lost_events:,} events lost"
        if not journal.complete:
            text += " (some may be missing)"
        return text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """The footer (and the palette) offer the replay's keys in a replay, and neither them
        nor what a replay refuses elsewhere; a key still runs (and is refused with a reason)
        through :meth:`run_action`."""
        if action in (REFUSED if self.replay is not None else REPLAY_ONLY):
            return False
        return super().check_action(action, parameters)

    def replay_prepare(self, snap: Snapshot) -> None:
        """Before a recorded moment is merged: start the table from the sample before it (so
        CPU% is measured over the recorded interval, and new/gone rows are relative to it)."""
        replay = self.replay
        if replay is None:
            return
        self.table.forget()  # the recorded interval, whichever way the cursor moved
        self.table.update(replay.before if replay.before is not None else snap)

    def _replay_only(self) -> bool:
        if self.replay is None:
            self.notify("Only in a replay (pidtop --replay)", severity="warning", markup=False)
            return False
        return True

    def action_replay_step(self, n: int) -> None:
        """``f``/``b``: the next/previous recorded sample."""
        if not self._replay_only():
            return
        assert self.replay is not None
        if not self.replay.step(n):
            self.notify(
                "The last recorded sample" if n > 0 else "The first recorded sample",
                markup=False,
                timeout=2,
            )
            return
        self.sample_now()

    @opens_screen("the time prompt")
    def action_replay_goto(self) -> None:
        """``g``: go to a time (``03:12``, ``-30m``, ``yesterday 14:00``, ISO)."""
        if not self._replay_only():
            return
        from pidtop.record.times import parse_time, stamp
        from pidtop.ui.screens.replay_time import TimeScreen

        replay = self.replay
        assert replay is not None
        moments = replay.reader.moments
        span = f"recorded: {stamp(moments[0].wall)} to {stamp(moments[-1].wall)}"

        def done(when: float | None) -> None:
            if when is not None:
                replay.jump(when)
                self.sample_now()

        self.push_screen(
            TimeScreen(stamp(replay.moment.wall), lambda t: parse_time(t, time.time()), span),
            done,
        )

    def refused_in_replay(self, name: str) -> bool:
        """True (after saying so) when ``name`` acts on a process and this is a replay."""
        if self.replay is None or name not in REFUSED:
            return False
        action = next((a for a in actions.ACTIONS if a.action.split("(", 1)[0] == name), None)
        what = action.title if action is not None else name
        self.notify(REFUSAL.format(what=what), severity="warning", markup=False)
        return True

    async def run_action(
        self,
        action: str | ActionParseResult,
        default_namespace: DOMNode | None = None,
        namespaces: Mapping[str, DOMNode] | None = None,
    ) -> bool:
        """Every key, palette entry and click goes through here: refused in a replay when it
        acts on a process."""
        if isinstance(action, str):
            name = action.split("(", 1)[0].rsplit(".", 1)[-1]
            if self.refused_in_replay(name):
                return True
            if self.replay is None and name in REPLAY_ONLY:
                self._replay_only()  # says so (check_action would drop the key silently)
                return True
        return await super().run_action(action, default_namespace, namespaces)

    def show_details(self, pid: int, starttime: int | None, command: str) -> None:
        """The details read /proc now: refused in a replay (from the Exits screen too)."""
        if self.refused_in_replay("details"):
            return
        super().show_details(pid, starttime, command)  # type: ignore[misc]
