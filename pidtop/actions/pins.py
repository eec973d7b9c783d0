"""Pins: processes held through a pidfd, watched for exit, and the actions taken on them.

No Textual here. The UI turns keys into calls on :class:`PinSet` and draws what it reports;
``pidtop --pin`` and the Pilot tests drive exactly the same code.

- A pin is opened from the identity a table row showed (PID + start time, and the pidfs inode
  once held), so a PID recycled since the last refresh is refused, never pinned.
- Every pin is watched on the running asyncio loop (:class:`Watcher`); its state goes
  running → exited (zombie) → reaped as the kernel reports it, with the exit status when known.
- Signals go through the pins' pidfds; a target that is not pinned gets a temporary verified
  handle for the one action (:meth:`PinSet.targets`).
- File descriptors are budgeted (:class:`~pidtop.kernel.fdbudget.FdBudget`); past the
  budget a pin is refused with a clear message and nothing else changes. ``--watch-all``
  (:class:`~pidtop.actions.watch_all.WatchAll`) is best effort.
- Actions in progress (an escalation, a wait) hold their own references to their processes.

Here: the set (pin, unpin, exits) and the kill of its targets. The running wait is
:mod:`pidtop.actions.pinwait`; what a kill aims at and reports (targets, confirmation reasons,
argv) :mod:`pidtop.actions.targets`; the escalation loop :mod:`pidtop.actions.escalate`.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Coroutine, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Literal

from pidtop.actions.escalate import run_escalation
from pidtop.actions.eventlog import EventKind, EventLog
from pidtop.actions.pinwait import PinWait
from pidtop.actions.targets import Action, ActionResult, Target, argv_data, read_argv
from pidtop.kernel.errors import HandleError
from pidtop.kernel.fdbudget import FdBudget, open_counted
from pidtop.kernel.handle import Handle, Opener, ProcessHandle
from pidtop.kernel.identity import Identity, format_identity
from pidtop.kernel.pidfdinfo import ExitStatus, SignalResult
from pidtop.kernel.signals import signal_name
from pidtop.kernel.watch import ExitEvent, Watcher, wait_all
from pidtop.sampling.fmt import format_duration
from pidtop.sampling.procfiles import read_command
from pidtop.sampling.snapshot import ProcInfo, ProcKey

PinState = Literal["running", "exited", "reaped"]


@dataclass(slots=True)
class Pin:
    """One pinned process and what is known about its end."""

    handle: Handle
    key: ProcKey  # (pid, starttime): the table's identity for the same process
    command: str
    user: str
    pinned_wall: float
    state: PinState = "running"
    exited_wall: float | None = None  # when the exit was observed
    lived: float | None = None  # seconds from start to exit
    status: ExitStatus | None = None
    info: ProcInfo | None = None  # latest sample of it (for CPU/RSS in the strip)
    cpu: float = 0.0
    argv: list[str] = field(default_factory=list)  # the real argv (for --log), capped
    _target: str = field(default="", repr=False, compare=False)

    @property
    def target(self) -> str:
        """``PID:INODE`` (or ``PID`` where inodes are not unique); formatted once."""
        if not self._target:
            self._target = format_identity(self.handle.identity)
        return self._target

    @property
    def alive(self) -> bool:
        return self.state == "running"


ChangeListener = Callable[[Pin, ExitEvent | None], None]
#: called once per waited pin when its wait is over (see :meth:`PinSet.start_wait`)
WaitListener = Callable[[Pin, ExitEvent], None]


class PinSet:
    """The pinned processes of a session, watched for exit on the running loop."""

    def __init__(
        self,
        log: EventLog,
        *,
        budget: FdBudget | None = None,
        watcher: Watcher | None = None,
        clock: Callable[[], float] = time.time,
        opener: Opener | None = None,
    ) -> None:
        """``opener`` opens a verified handle (default :meth:`ProcessHandle.open`); rendering
        tests pass :class:`pidtop.demo.handles.ScriptedOpener` instead."""
        self.log = log
        self.budget = budget if budget is not None else FdBudget()
        self._watcher = watcher if watcher is not None else Watcher()
        self._clock = clock
        self.opener: Opener = opener if opener is not None else ProcessHandle.open
        self._pins: dict[ProcKey, Pin] = {}
        self._alive: dict[ProcKey, Pin] = {}  # the running ones (an exit removes it)
        self._ordered: tuple[Pin, ...] | None = None  # iteration snapshot, None: rebuild
        #: pins made before an event loop runs (``--pin`` at start): watched by :meth:`start`
        self._deferred: list[tuple[Handle, ProcKey]] = []
        #: the running wait (``w``), with its own references to the processes
        self._wait: PinWait[Pin] = PinWait(log, self._dup, self._close_ref)
        #: called on the loop thread whenever a pin changes (exit, reap, pin, unpin)
        self.listeners: list[ChangeListener] = []
        #: called on the loop thread once per waited pin when its wait is over, with the event
        #: whose status to report (the "wait" notification; see :meth:`start_wait`)
        self.wait_listeners: list[WaitListener] = self._wait.listeners
        self._actions: list[Action] = []

    # -- the set

    def __len__(self) -> int:
        return len(self._pins)

    def __iter__(self) -> Iterator[Pin]:
        """The pins in pinning order. O(1) between pins/unpins (a tuple kept until the set
        changes; an exit does not change it), so a listener may iterate on every change."""
        if self._ordered is None:
            self._ordered = tuple(self._pins.values())
        return iter(self._ordered)

    def __contains__(self, key: object) -> bool:
        return key in self._pins

    def get(self, key: ProcKey) -> Pin | None:
        return self._pins.get(key)

    def alive(self) -> list[Pin]:
        """The running pins, in pinning order (O(running), not O(pins))."""
        return list(self._alive.values())

    @property
    def alive_count(self) -> int:
        """How many pins are running; O(1) (``len(alive())`` copies them)."""
        return len(self._alive)

    def is_pinned_alive(self, key: ProcKey) -> bool:
        """True if ``key`` is a pinned process still running (a newcomer reusing it is not)."""
        pin = self._pins.get(key)
        return pin is not None and pin.alive

    # -- pin / unpin

    def pin(self, info: ProcInfo) -> Pin:
        """Pin the process a row showed. Raises HandleError (logged) if it is not that process."""
        if info.key in self._pins:
            return self._pins[info.key]
        return self._open(Identity(info.pid, None, info.starttime), info.command, info.user, info)

    def pin_target(self, identity: Identity) -> Pin:
        """Pin ``PID`` or ``PID:INODE`` (``--pin``); command and user are read from /proc."""
        for pin in self._pins.values():
            same = pin.handle.pid == identity.pid and identity.inode in (None, pin.handle.inode)
            if same and pin.alive:
                return pin
        return self._open(identity, read_command(identity.pid), "", None)

    def _open(self, ident: Identity, command: str, user: str, info: ProcInfo | None) -> Pin:
        what = f"pin {format_identity(ident)}"
        try:
            handle = open_counted(
                self.budget,
                what,
                lambda: self.opener(
                    ident.pid, starttime=ident.starttime, inode=ident.inode, allow_exited=True
                ),
            )
        except HandleError as e:
            self.log.add(
                "pin_refused", format_identity(ident), f"{e} ({command})", ok=False, plain=str(e)
            )
            raise
        argv, cut = read_argv(handle.pid) if handle.real else ([], False)
        key = (handle.pid, handle.starttime if handle.starttime is not None else -1)
        pin = Pin(handle, key, command, user, self._clock(), info=info, argv=argv)
        self._pins[key] = pin
        self._alive[key] = pin
        self._ordered = None
        note = " (degraded: no pidfd, start time re-checked before kill)" if handle.degraded else ""
        self.log.add(
            "pin",
            pin.target,
            f"pinned {pin.target} {command}{note}",
            plain=f"pinned {pin.target}{note}",
            **argv_data(argv, cut),
        )
        self._watch(handle, key)
        self._changed(pin, None)
        return pin

    def _watch(self, handle: Handle, key: ProcKey) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop yet (pinned before the UI starts): see start()
            self._deferred.append((handle, key))
            return
        self._watcher.add(handle, partial(self._on_exit, key))

    def start(self) -> None:
        """Watch the pins made before the event loop ran; call once it runs."""
        deferred, self._deferred = self._deferred, []
        for handle, key in deferred:
            pin = self._pins.get(key)
            if pin is not None and pin.handle is handle and not handle.closed:
                self._watcher.add(handle, partial(self._on_exit, key))

    def unpin(self, key: ProcKey) -> Pin | None:
        """Stop holding a process (running or exited); returns the pin, or None.

        Actions in progress (an escalation, a wait) hold their own references: they go on.
        """
        pin = self._pins.pop(key, None)
        if pin is None:
            return None
        self._alive.pop(key, None)
        self._ordered = None
        self._watcher.remove(pin.handle)
        pin.handle.close()
        self.budget.release()
        self.log.add(
            "unpin",
            pin.target,
            f"unpinned {pin.target} {pin.command}",
            plain=f"unpinned {pin.target}",
        )
        self._changed(pin, None)
        return pin

    def unpin_all(self) -> int:
        keys = list(self._pins)
        for key in keys:
            self.unpin(key)
        return len(keys)

    def clear_exited(self) -> int:
        """Dismiss every pin whose process has exited; returns how many."""
        keys = [k for k, p in self._pins.items() if not p.alive]
        for key in keys:
            self.unpin(key)
        return len(keys)

    def update_info(self, lookup: Callable[[ProcKey], tuple[ProcInfo, float] | None]) -> None:
        """Refresh the strip's figures from the latest table (running pins only)."""
        for pin in self._pins.values():
            if pin.alive:
                found = lookup(pin.key)
                if found is not None:
                    pin.info, pin.cpu = found
                    pin.command = found[0].command
                    pin.user = found[0].user

    # -- exits

    def _on_exit(self, key: ProcKey, event: ExitEvent) -> None:
        pin = self._pins.get(key)
        if pin is None or pin.handle is not event.handle:
            return
        first = pin.state == "running"
        pin.state = "reaped" if event.reaped else "exited"
        self._alive.pop(key, None)
        pin.status = event.status
        if first:
            pin.exited_wall = event.observed_at_wall
            pin.lived = event.lived_seconds
        lived = f", lived {format_duration(pin.lived)}" if pin.lived is not None else ""
        if first or event.status.known:
            kind: EventKind = "exit" if first else "reaped"
            self.log.add(
                kind,
                pin.target,
                f"{pin.target} {pin.command}: {event.status.describe()}{lived}",
                plain=f"{pin.target}: {event.status.describe()}{lived}",
                argv=pin.argv,
                code=event.status.code,
                signal=event.status.signal,
                core_dumped=event.status.core_dumped,
                lived=pin.lived,
                reaped=event.reaped,
            )
        self._changed(pin, event)

    def _changed(self, pin: Pin, event: ExitEvent | None) -> None:
        for listener in list(self.listeners):
            listener(pin, event)

    # -- wait (pidtop.actions.pinwait)

    @property
    def waiting(self) -> set[ProcKey]:
        """The processes the running wait (``w``) still waits for (unpinned ones included)."""
        return self._wait.waiting

    def start_wait(self) -> int:
        """Wait for every running pin; returns how many (0: nothing to wait for). When each
        one's wait is over, :attr:`wait_listeners` are called (see
        :meth:`~pidtop.actions.pinwait.PinWait.start`)."""
        return self._wait.start(self.alive())

    def cancel_wait(self, *, log: bool = True) -> None:
        self._wait.cancel(log=log)

    # -- references held by actions

    def _dup(self, handle: Handle, what: str) -> Handle:
        """An action's own reference to ``handle``'s process, counted in the budget."""
        self.budget.acquire(what, "action")
        try:
            return handle.dup()
        except BaseException:
            self.budget.release("action")
            raise

    def _close_ref(self, ref: Handle) -> None:
        if not ref.closed:
            ref.close()
            self.budget.release("action")

    # -- actions

    def targets(self, cursor: ProcInfo | None) -> list[Target]:
        """What a kill aims at: every running pin, or else the cursor's process.

        The cursor's process gets a temporary handle verified against the identity the row
        showed; raises HandleError (logged) if that PID is now another process or gone. That
        one handle may always be had, even with the budget full (see :class:`FdBudget`).
        """
        alive = self.alive()
        if alive:
            return [Target(p.handle, p.key, p.command, p.info, argv=p.argv) for p in alive]
        if cursor is None:
            return []
        what = f"signal {cursor.pid}"
        try:
            self.budget.acquire(what, "cursor")
            try:
                handle = self.opener(cursor.pid, starttime=cursor.starttime)
            except BaseException:
                self.budget.release("cursor")
                raise
        except HandleError as e:
            self.log.add("signal", str(cursor.pid), f"not signalled: {e}", ok=False)
            raise
        argv = read_argv(handle.pid)[0] if handle.real else []
        return [Target(handle, cursor.key, cursor.command, cursor, owned=True, argv=argv)]

    def release(self, targets: Iterable[Target]) -> None:
        """Close the handles among ``targets`` that are not borrowed from pins."""
        for t in targets:
            if t.owned and not t.handle.closed:
                t.handle.close()
                self.budget.release(t.holder)

    def send(self, targets: Iterable[Target], sig: int) -> list[SignalResult]:
        """Signal each target through its handle; every result is logged."""
        results = []
        for t in targets:
            res = t.handle.send_signal(sig)
            self.log.add(
                "signal",
                res.target,
                f"{res.describe()} ({t.command})",
                plain=res.describe(),
                ok=res.ok,
                argv=t.argv,
                signal=signal_name(sig),
                outcome=res.outcome,
                errno=res.errno,
            )
            results.append(res)
        return results

    @property
    def pending_actions(self) -> list[Action]:
        """Actions with a signal still to send (quitting now would drop it: ask first)."""
        return [a for a in self._actions if a.then is not None]

    def escalate(
        self,
        targets: list[Target],
        first: int = signal.SIGTERM,
        then: int | None = signal.SIGKILL,
        after: float = 5.0,
        *,
        reclaim: bool = False,
    ) -> Coroutine[Any, Any, list[ActionResult]]:
        """Send ``first``; ``after`` seconds later send ``then`` to those still alive.

        Takes its own reference to every target *now* (a dup of a pin's pidfd; the cursor's
        temporary handle is taken over), before returning the coroutine to await: unpinning,
        clearing or dismissing pins meanwhile never cancels it, and ``then`` goes to the same
        processes (a PID reused in between is never hit). With ``reclaim`` and a SIGKILL, the
        memory of each killed target is released at once (process_mrelease). Every reference
        is closed when it ends. FdLimit (nothing sent, ``targets`` released) when the budget
        cannot hold the references.
        """
        own: list[Target] = []
        try:
            for t in targets:
                if t.owned:
                    own.append(t)  # taken over: closed by this action
                    continue
                ref = self._dup(t.handle, f"{signal_name(first)} {t.target}")
                own.append(Target(ref, t.key, t.command, t.info, True, "action", t.argv))
        except HandleError:
            self.release(own)
            self.release(targets)
            raise
        action = Action(own, then, time.monotonic() + max(0.0, after))
        self._actions.append(action)
        return self._escalate(action, first, after, reclaim)

    async def _escalate(
        self, action: Action, first: int, after: float, reclaim: bool
    ) -> list[ActionResult]:
        targets, then = action.targets, action.then
        out = [ActionResult(t) for t in targets]
        steps = [(after, then)] if then is not None else []
        try:
            await run_escalation(out, first, steps, send=self._send_step, wait=_still_running)
            action.then = None
            killed = [
                ar
                for ar in out
                if any(r.signal == signal.SIGKILL and r.outcome == "delivered" for r in ar.results)
            ]
            if reclaim:
                for ar in killed:
                    ar.reclaim = await asyncio.to_thread(ar.target.handle.reclaim)
                    self.log.add(
                        "reclaim", ar.reclaim.target, ar.reclaim.describe(), ok=ar.reclaim.ok
                    )
        finally:
            if action in self._actions:
                self._actions.remove(action)
            self.release(targets)
        return out

    def _send_step(
        self, ars: list[ActionResult], sig: int, _after: float | None
    ) -> list[ActionResult]:
        """One signal of an escalation: sent and logged (:meth:`send`), kept in each result;
        returns those it was delivered to."""
        for ar, res in zip(ars, self.send([ar.target for ar in ars], sig), strict=True):
            ar.results.append(res)
        return [ar for ar in ars if ar.results[-1].outcome == "delivered"]

    def close(self) -> None:
        """Drop every pin and close its pidfd (and the running wait's references)."""
        self.cancel_wait(log=False)
        self._watcher.close()
        for pin in self._pins.values():
            with contextlib.suppress(OSError):
                pin.handle.close()
        self._pins.clear()
        self._alive.clear()
        self._ordered = None


async def _still_running(ars: list[ActionResult], after: float) -> list[ActionResult]:
    """An escalation's wait on the monitor's loop: up to ``after`` seconds for them to exit
    (on readiness), then those still running."""
    if after > 0:
        await wait_all([ar.target.handle for ar in ars], timeout=after)
    return [ar for ar in ars if ar.target.handle.state() == "running"]


__all__ = ["Pin", "PinSet"]
