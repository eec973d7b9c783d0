"""The monitor's pin actions: pin and unpin, kill (signal picker, escalation), wait, event log.

A mixin of :class:`pidtop.ui.app.PidtopApp`: what it uses of the rest of the app is
:class:`PinHost` (mypy checks the app has it); the keys that run these actions are in
:mod:`pidtop.ui.actions`.
"""

from __future__ import annotations

import signal
from collections.abc import Awaitable, Iterable
from typing import TYPE_CHECKING, Protocol

from pidtop.actions.pins import Pin, PinSet
from pidtop.actions.targets import ActionResult, Target, confirmation_reasons
from pidtop.actions.watch_all import WatchAll
from pidtop.kernel.errors import HandleError
from pidtop.kernel.signals import signal_name
from pidtop.kernel.watch import ExitEvent
from pidtop.sampling.snapshot import ProcInfo, ProcKey
from pidtop.ui.lazy import opens_screen, said_cannot_open
from pidtop.ui.notify import clip_command
from pidtop.ui.status import kill_summary
from pidtop.ui.widgets.pinned import EXITED_MARK, RUNNING_MARK, PinnedStrip
from pidtop.ui.widgets.process_view import ProcessView

if TYPE_CHECKING:
    from textual.app import App

    from pidtop.actions.eventlog import EventLog
    from pidtop.sampling.table import ProcessTable
    from pidtop.ui.screens.signals import SignalChoice
    from pidtop.ui.tree_kill import TreeKillRun


class PinHost(Protocol):
    """What the pin actions use of the app besides Textual's own (PidtopApp has it)."""

    table: ProcessTable
    pins: PinSet
    events: EventLog
    watch_all: WatchAll | None
    exit_when_gone: bool
    bell_enabled: bool
    confirm_over: int
    #: whole-tree kills with a signal still to come (:mod:`pidtop.ui.tree_kill`)
    tree_kills: list[TreeKillRun]

    @property
    def view(self) -> ProcessView: ...
    @property
    def strip(self) -> PinnedStrip: ...
    @property
    def waited(self) -> set[ProcKey]: ...
    def journal_pins_changed(self, pins: Iterable[Pin]) -> None: ...
    def _update_chrome(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], PinHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with a PinHost."""

else:
    _Mixin = object


class PinActions(_Mixin):
    """Pins, signals, waiting and the event log."""

    # the state these actions change (set first by PidtopApp.__init__)
    escalate_after: float
    wait_total: int
    wait_exited: int
    _chrome_pending: bool

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

    def _lookup(self, key: ProcKey) -> tuple[ProcInfo, float] | None:
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
            f"{pin.target} {clip_command(pin.command)}: {status.describe()}",
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
        self.kill_targets(targets, row.key if row is not None else None)

    def kill_targets(self, targets: list[Target], cursor: ProcKey | None = None) -> None:
        """The signal picker (then confirmation if needed) for ``targets``; owned ones are
        released when done. ``cursor``: the row the whole-tree option is offered for."""
        try:  # imported when first opened: out of fds, the targets are let go and it is said
            from pidtop.ui.screens.modal import kept_screen
            from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen
        except (ImportError, OSError) as e:
            self.pins.release(targets)
            if not said_cannot_open(self, "the signal picker", e):
                raise
            return

        pairs = [(t.target, t.command) for t in targets]
        tree, tree_first = self._tree_offer(targets, cursor)

        def chosen(choice: SignalChoice | None) -> None:
            if choice is None:
                self.pins.release(targets)
                return
            self.escalate_after = choice.after
            reasons = confirmation_reasons(
                targets, descendants=tree if choice.tree else (), over=self.confirm_over
            )
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
        after = self.escalate_after
        picker = kept_screen(
            self,
            SignalScreen,
            lambda s: s.fits(),
            lambda: SignalScreen(pairs, after=after, tree=size, tree_selected=tree_first),
            lambda s: s.reopen(pairs, after=after, tree=size, tree_selected=tree_first),
        )
        self.push_screen(picker, chosen)

    def _tree_offer(self, targets: list[Target], cursor: ProcKey | None) -> tuple[
        list[ProcInfo], bool
    ]:  # fmt: skip
        """The targets' descendants as the table lists them (empty: no "whole tree" option), and
        whether the option comes preselected: in tree view, on a collapsed subtree.

        Only real handles: in ``--demo`` the targets are scripted processes, and a real tree
        kill would act on real PIDs of the same numbers. (Here, not in :mod:`pidtop.ui.tree_kill`:
        the picker's first opening does not import the tree kill, ~10 ms at the first ``k``.)"""
        # a scripted handle's PID is not a real process's: its tree is not the script's
        if not targets or not all(t.handle.real for t in targets):
            return [], False
        from pidtop.actions.treescan import listed_descendants

        rows = [r.info for r in self.table.all_rows() if r.status != "dying"]
        descendants = listed_descendants(rows, [t.key for t in targets])
        table = self.table
        collapsed = (
            table.tree
            and len(targets) == 1
            and cursor is not None
            and targets[0].key == cursor
            and table.is_collapsed(cursor)
        )
        return descendants, bool(descendants) and collapsed

    def _send(self, targets: list[Target], choice: SignalChoice) -> None:
        if choice.tree:  # freeze, signal, continue: in a thread worker (pidtop.ui.tree_kill)
            from pidtop.ui.tree_kill import start_tree_kill

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
        """``q`` (and ctrl+c) ask first while a signal is still to come (an escalation of
        pins, or of a whole-tree kill)."""
        return bool(self.pins.pending_actions or self.tree_kills)

    async def action_quit(self) -> None:
        """``q``/F10: quit; with a signal still to come (an escalation), ask first."""
        from pidtop.ui.screens.signals import ConfirmScreen

        pending = self.pins.pending_actions
        trees = list(self.tree_kills)
        if not pending and not trees:
            self.exit()
            return
        pairs = [(t.target, t.command) for a in pending for t in a.targets]
        pairs += [pair for run in trees for pair in run.targets]
        described = [a.describe() for a in pending] + [run.describe() for run in trees]
        reasons = [f"{what} will not be sent" for what in described]

        def answered(yes: bool | None) -> None:
            if yes:
                self.exit()

        self.push_screen(
            ConfirmScreen("Quit and cancel the pending signal", pairs, reasons), answered
        )

    def _report(self, results: list[ActionResult]) -> None:
        """ONE notification per kill (see :func:`pidtop.ui.status.kill_summary`)."""
        if results:
            text, severity = kill_summary(results)
            self.notify(text, severity=severity, markup=False)

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
    @opens_screen("the event log")
    def action_event_log(self) -> None:
        """``L``: the session's event log."""
        from pidtop.ui.screens.eventlog import EventLogScreen  # imported when first opened
        from pidtop.ui.screens.modal import kept_screen

        if not isinstance(self.screen, EventLogScreen):
            log = self.events
            screen = kept_screen(
                self,
                EventLogScreen,
                lambda s: s.event_log is log,
                lambda: EventLogScreen(log),
                EventLogScreen.show,  # the entries of now, as a new one
            )
            self.push_screen(screen)
