"""Per-process actions as in htop, done through verified handles: details (Enter), environment
(``e``), open files (``l``), strace (``s``), renice (F7/``]``, F8/``[``), I/O priority (``i``),
CPU affinity (``a``) and copying ``PID:INODE`` (``y``).

A mixin of :class:`pidtop.ui.app.PidtopApp`: what it uses of the rest of the app is
:class:`ProcessHost` (mypy checks the app has it); it is what the details screen asks of the
app (:class:`pidtop.ui.screens.details.DetailsHost`). Renice, I/O priority and affinity act like
``k``: on every running pin, else on the cursor's process (a temporary handle verified against
the row). Every call is bracketed by the handle in :mod:`pidtop.actions.tuning`, runs in a
thread, and its per-process results go to the event log and one notification.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from pidtop.actions.targets import Target
from pidtop.actions.tuning import (
    TuneResult,
    apply,
    cpu_list_text,
    preflight,
    renice,
    set_affinity,
    set_ionice,
    summary,
)
from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import Handle, ProcessHandle
from pidtop.kernel.identity import Identity, format_identity
from pidtop.sampling.history import History
from pidtop.sampling.snapshot import ProcessSource, ProcKey
from pidtop.ui.lazy import opens_screen, said_cannot_open
from pidtop.ui.notify import clip_command

if TYPE_CHECKING:
    from textual.app import App

    from pidtop.actions.eventlog import EventLog
    from pidtop.actions.pins import Pin, PinSet
    from pidtop.details.model import DetailsSource
    from pidtop.sampling.table import ProcessTable
    from pidtop.ui.screens.details import DetailsHost, DetailsScreen
    from pidtop.ui.screens.procinfo import ProcScreen
    from pidtop.ui.status import Severity
    from pidtop.ui.widgets.pinned import PinnedStrip
    from pidtop.ui.widgets.process_view import ProcessView


#: lines of strace's own error output kept to explain a failure
STRACE_ERR_LINES = 5

Handles = list[tuple[Handle, str]]


class ProcessHost(Protocol):
    """What the process actions use of the app besides Textual's own (PidtopApp has it)."""

    source: ProcessSource
    table: ProcessTable
    pins: PinSet
    events: EventLog
    history: History

    @property
    def view(self) -> ProcessView: ...
    @property
    def strip(self) -> PinnedStrip: ...
    def kill_targets(self, targets: list[Target], cursor: ProcKey | None = None) -> None: ...
    def action_event_log(self) -> None: ...


if TYPE_CHECKING:

    class _Mixin(App[int], ProcessHost):
        """What the mixin is mixed into, as mypy sees it: a Textual app with a ProcessHost."""

else:
    _Mixin = object


class ProcessActions(_Mixin):
    """The actions on one process (or on the pins, for renice/ionice/affinity)."""

    _details_source: DetailsSource | None = None

    @property
    def details_source(self) -> DetailsSource:
        """Where details, environment and files come from (scripted for the scripted source)."""
        if self._details_source is None:
            # A source may bring its own (the scripted one: never the real process that happens
            # to have the same PID); otherwise /proc. Duck-typed so the UI needs no demo import.
            own = getattr(self.source, "details_source", None)
            if own is not None:
                self._details_source = own()
            else:
                from pidtop.details.reader import ProcDetails  # when first needed

                self._details_source = ProcDetails()
        return self._details_source

    def history_of(self, key: ProcKey) -> tuple[list[float], list[float], float | None]:
        return self.history.series(key)

    def cpu_count(self) -> int:
        snap = self.table.snapshot
        return snap.system.ncpu if snap is not None else (os.cpu_count() or 1)

    # ------------------------------------------------------------------ which process
    def focused_process(self) -> tuple[int, int | None, str, Pin | None] | None:
        """(pid, start time, command, pin) of the strip's cursor pin when the strip has focus,
        else of the table's cursor row; None (with a notification) when there is none."""
        if self.strip.has_focus:
            pin = self.strip.cursor_pin
            if pin is not None:
                return pin.handle.pid, pin.handle.starttime, pin.command, pin
        row = self.view.cursor_row
        if row is None:
            self.notify("No process selected", severity="warning", markup=False, timeout=2)
            return None
        return row.info.pid, row.info.starttime, row.info.command, self.pins.get(row.key)

    def _exited_pin(self, pin: Pin | None) -> bool:
        if pin is None or pin.alive:
            return False
        status = pin.status.describe() if pin.status is not None else "exited"
        self.notify(f"{pin.target} {clip_command(pin.command)}: {status}", markup=False)
        return True

    # ------------------------------------------------------------------ screens
    def action_details(self) -> None:
        """Enter: the details screen of the cursor's process (or the strip's pin)."""
        found = self.focused_process()
        if found is None or self._exited_pin(found[3]):
            return
        self.show_details(*found[:3])

    @opens_screen("the details")
    def show_details(self, pid: int, starttime: int | None, command: str) -> None:
        from pidtop.ui.screens.details import DetailsScreen  # imported when first opened

        self._push_kept(DetailsScreen, pid, starttime, command)

    def action_environ(self) -> None:
        """``e``: the environment of the cursor's process."""
        found = self.focused_process()
        if found is not None and not self._exited_pin(found[3]):
            self.show_environ(*found[:3])

    @opens_screen("the environment")
    def show_environ(self, pid: int, starttime: int | None, command: str) -> None:
        from pidtop.ui.screens.procinfo import EnvironScreen  # imported when first opened

        self._push_kept(EnvironScreen, pid, starttime, command)

    def action_files(self) -> None:
        """``l``: open files and sockets of the cursor's process."""
        found = self.focused_process()
        if found is not None and not self._exited_pin(found[3]):
            self.show_files(*found[:3])

    @opens_screen("the open files")
    def show_files(self, pid: int, starttime: int | None, command: str) -> None:
        from pidtop.ui.screens.files import FilesScreen  # imported when first opened

        self._push_kept(FilesScreen, pid, starttime, command)

    def _push_kept(
        self, cls: type[DetailsScreen | ProcScreen], pid: int, starttime: int | None, command: str
    ) -> None:
        """The app's kept screen of ``cls``, refilled for ``pid`` (or a new one), pushed: its
        widgets are not composed, styled and mounted again at each opening."""
        from pidtop.ui.screens.modal import kept_screen

        at = (self.details_source, pid, starttime, command)
        fresh, make = (lambda _: True), (lambda: cls(*at))
        self.push_screen(kept_screen(self, cls, fresh, make, lambda kept: kept.reopen(*at)))

    # ------------------------------------------------------------------ copy
    def action_copy_identity(self) -> None:
        """``y``: copy the cursor's process as ``PID:INODE`` (OSC 52)."""
        found = self.focused_process()
        if found is None:
            return
        pid, starttime, _, pin = found
        if pin is not None:
            self.copy_identity(pin.target)
            return

        async def copy() -> None:
            try:
                handle = await asyncio.to_thread(self.details_source.open, pid, starttime)
            except HandleError as e:
                self.notify(f"Not copied: {e}", severity="error", markup=False)
                return
            try:
                self.copy_identity(format_identity(handle.identity))
            finally:
                handle.close()

        self.run_worker(copy(), group="copy", exit_on_error=False)

    def copy_identity(self, text: str) -> None:
        """Put ``text`` on the clipboard (OSC 52, through the terminal) and say so."""
        self.copy_to_clipboard(text)
        self.notify(
            f"Copied {text} (for pidtop kill/wait, kill(1) or waitpid(1))",
            title="Clipboard",
            markup=False,
            timeout=4,
        )

    # ------------------------------------------------------------------ strace
    def action_strace(self) -> None:
        """``s``: ``strace -p`` the cursor's process in the terminal, then come back."""
        found = self.focused_process()
        if found is None or self._exited_pin(found[3]):
            return
        pid, starttime, command, pin = found
        if shutil.which("strace") is None:
            self._no_strace()
            return

        async def trace() -> None:
            try:
                handle = await asyncio.to_thread(self.details_source.open, pid, starttime)
            except HandleError as e:
                self.notify(f"Not traced: {e}", severity="error", markup=False)
                return
            try:
                self.strace(handle, command)
            finally:
                handle.close()

        if pin is not None and pin.alive:
            self.strace(pin.handle, command)
        else:
            self.run_worker(trace(), group="strace", exit_on_error=False)

    def _no_strace(self) -> None:
        self.notify(
            "strace is not installed (or not on PATH): install it, e.g. `apt install strace`",
            title="strace",
            severity="error",
            markup=False,
            timeout=8,
        )

    def strace(self, handle: Handle, command: str) -> None:
        """Run ``strace -p`` on ``handle``'s process with the terminal handed over to it."""
        exe = shutil.which("strace")
        if exe is None:
            self._no_strace()
            return
        target = format_identity(handle.identity)
        if not handle.real:  # a scripted PID is not a real process's
            self.notify(f"{target} is a scripted process: nothing to trace", markup=False)
            return
        if handle.pid == os.getpid():  # every line it printed would make pidtop write more
            self.notify(
                f"{target} is pidtop itself: not traced (its own output would flood the terminal)",
                title="strace",
                severity="warning",
                markup=False,
            )
            return
        refused = preflight(handle, "strace")
        if refused is not None:
            self.notify(refused.describe(), severity="error", markup=False)
            return
        from textual.app import SuspendNotSupported

        try:
            with self.suspend():
                rc, errors = _run_strace(exe, handle.pid, target)
        except SuspendNotSupported:
            self.notify("strace needs a real terminal", severity="error", markup=False)
            return
        if rc in (0, -signal.SIGINT, 128 + signal.SIGINT):  # Ctrl-C: detached, as asked
            self.notify(f"strace of {target} ended", markup=False, timeout=3)
        elif any("Operation not permitted" in line for line in errors):
            self.notify(
                f"strace: not permitted to trace {target} (ptrace needs the same user and "
                "kernel.yama.ptrace_scope ≤ 1, or root)",
                title="strace",
                severity="error",
                markup=False,
                timeout=10,
            )
        else:
            detail = errors[0] if errors else ""
            self.notify(
                f"strace of {target} exited with status {rc}: {detail}",
                title="strace",
                severity="warning",
                markup=False,
            )

    # ------------------------------------------------------------------ renice, ionice, affinity
    def _targets(self) -> list[Target] | None:
        row = self.view.cursor_row
        try:
            targets = self.pins.targets(row.info if row is not None else None)
        except HandleError as e:
            self.notify(f"Not changed: {e}", title="Refused", severity="error", markup=False)
            return None
        if not targets:
            self.notify("Nothing selected", severity="warning", markup=False)
            return None
        return targets

    def _tune_from_table(self, kind: str, arg: int | None = None) -> None:
        targets = self._targets()
        if targets is None:
            return
        handles = [(t.handle, t.command) for t in targets]
        self.tune_handles(kind, handles, arg, release=lambda: self.pins.release(targets))

    def action_nice(self, delta: int) -> None:
        """F7/``]``: nice -1 (higher priority); F8/``[``: nice +1."""
        self._tune_from_table("nice", delta)

    def action_ionice(self) -> None:
        """``i``: pick an I/O priority class and level."""
        self._tune_from_table("ionice")

    def action_affinity(self) -> None:
        """``a``: pick the CPUs the process may run on."""
        self._tune_from_table("affinity")

    def tune_handles(
        self,
        kind: str,
        handles: Handles,
        arg: int | None = None,
        *,
        after: Callable[[], None] | None = None,
        release: Callable[[], None] | None = None,
    ) -> None:
        """Renice by ``arg``, or ask for an I/O priority or CPU set, then apply it to
        ``handles`` in a thread. The picker is pushed here, synchronously, so keys typed after
        ``i``/``a`` reach it."""
        names = [format_identity(h.identity) for h, _ in handles]

        def done() -> None:
            if release is not None:
                release()

        if kind == "nice":
            delta = arg or 0
            self._apply(handles, lambda h: renice(h, delta), after, done)
            return
        try:  # the picker's module, imported when first opened
            from pidtop.ui.screens import tuning
        except (ImportError, OSError) as e:
            done()
            what = "the I/O priority picker" if kind == "ionice" else "the CPU picker"
            if not said_cannot_open(self, what, e):
                raise
            return
        if kind == "ionice":

            def io_chosen(choice: tuple[int, int] | None) -> None:
                if choice is None:
                    done()
                else:
                    self._apply(handles, lambda h: set_ionice(h, *choice), after, done)

            self.push_screen(tuning.IoniceScreen(names, ioprio_of(handles[0][0])), io_chosen)
        else:
            current = _affinity_of(handles[0][0])
            cpus = sorted(os.sched_getaffinity(0) | current)

            def cpus_chosen(chosen: set[int] | None) -> None:
                if chosen is None:
                    done()
                else:
                    self._apply(handles, lambda h: set_affinity(h, chosen), after, done)

            self.push_screen(tuning.AffinityScreen(names, cpus, current or set(cpus)), cpus_chosen)

    def _apply(
        self,
        handles: Handles,
        fn: Callable[[Any], TuneResult],  # tuning takes ProcessHandle | its own _Handle
        after: Callable[[], None] | None,
        done: Callable[[], None],
    ) -> None:
        async def work() -> None:
            try:
                results = await asyncio.to_thread(apply, handles, fn, self.events)
            finally:
                done()
            bad = [r for r in results if not r.ok]
            severity: Severity = "information" if not bad else "error"
            if bad and all(r.outcome == "gone" for r in bad):
                severity = "warning"
            self.notify(summary(results), severity=severity, markup=False)
            if after is not None:
                after()

        self.run_worker(work(), group="tune", exit_on_error=False)

    # ------------------------------------------------------------------ from the details screen
    def kill_handle(self, handle: ProcessHandle, key: ProcKey, command: str) -> None:
        """``k`` in the details screen: the signal picker for that one process."""
        self.kill_targets([Target(handle, key, command)])

    def toggle_pin_of(self, pid: int, starttime: int | None, handle: ProcessHandle | None) -> None:
        """Space in the details screen: pin (or unpin) that process."""
        key = (pid, starttime if starttime is not None else -1)
        if key in self.pins:
            self.pins.unpin(key)
            self.notify(f"Unpinned {pid}", markup=False, timeout=2)
            return
        row = self.table.get(key)
        try:
            if row is not None:
                pin = self.pins.pin(row.info)
            else:
                inode = handle.inode if handle is not None else None
                pin = self.pins.pin_target(Identity(pid, inode, starttime))
        except HandleError as e:
            self.notify(f"Not pinned: {e}", title="Refused", severity="error", markup=False)
            return
        self.notify(f"Pinned {pin.target}", markup=False, timeout=2)


def ioprio_of(handle: Handle) -> tuple[int, int] | None:
    """(class, level) of ``handle``'s process (to preselect the picker); None if unknown
    (one syscall: fine on the loop)."""
    from pidtop.kernel.ioprio import ioprio_get

    if not handle.real:  # scripted: its PID is not real
        return None
    try:
        return ioprio_get(handle.pid)
    except OSError:
        return None


def _affinity_of(handle: Handle) -> set[int]:
    if not handle.real:  # scripted: its PID is not a real process's
        return set()
    try:
        return set(os.sched_getaffinity(handle.pid))
    except OSError:
        return set()


def _run_strace(exe: str, pid: int, target: str) -> tuple[int, Sequence[str]]:
    """strace -p PID with the terminal; its stderr is copied through, the first lines kept.

    Ctrl-C reaches both strace (it detaches) and pidtop: pidtop ignores it meanwhile with a
    Python handler (SIG_IGN would be inherited by strace and make it impossible to stop).
    """
    kept: list[str] = []
    old = signal.signal(signal.SIGINT, lambda *_: None)
    try:
        print(f"pidtop: strace -p {pid} ({target}); Ctrl-C detaches and returns to pidtop")
        proc = subprocess.Popen([exe, "-p", str(pid)], stderr=subprocess.PIPE)
        assert proc.stderr is not None
        err = sys.__stderr__
        for raw in proc.stderr:
            line = raw.decode("utf-8", "replace")
            if len(kept) < STRACE_ERR_LINES:
                kept.append(line.strip())
            if err is not None:
                err.write(line)
                err.flush()
        return proc.wait(), kept
    finally:
        signal.signal(signal.SIGINT, old)


if TYPE_CHECKING:

    def _details_host(actions: ProcessActions) -> DetailsHost:
        """mypy checks here that these actions are what the details screen asks of its app."""
        return actions


__all__ = ["ProcessActions", "cpu_list_text"]
