"""Pins: processes held through a pidfd, watched for exit, and the actions taken on them.

No Textual here. The UI turns keys into calls on :class:`PinSet` and draws what it reports;
``pidtop --pin`` and the Pilot tests drive exactly the same code.

- A pin is opened from the identity a table row showed (PID + start time, and the pidfs inode
  once held), so a PID recycled since the last refresh is refused, never pinned.
- Every pin is watched on the running asyncio loop (:class:`Watcher`); its state goes
  running → exited (zombie) → reaped as the kernel reports it, with the exit status when known.
- Signals go through the pins' pidfds; a target that is not pinned gets a temporary verified
  handle for the one action (:meth:`PinSet.targets`).
- File descriptors are budgeted (:class:`FdBudget`); past the budget a pin is refused with a
  clear message and nothing else changes. ``--watch-all`` (:class:`WatchAll`) is best effort:
  it leaves a reserve for pins and kills and gives its fds back one by one when they need them.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import resource
import signal
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

from pidtop.process.events import EventLog
from pidtop.process.fmt import format_duration
from pidtop.process.handle import (
    ExitStatus,
    FdLimit,
    HandleError,
    Identity,
    ProcessHandle,
    ReclaimResult,
    SignalResult,
    format_identity,
)
from pidtop.process.sample import read_command
from pidtop.process.signals import signal_name
from pidtop.process.snapshot import ProcInfo, ProcKey
from pidtop.process.watch import REAP_GRACE, ExitEvent, Watcher, wait_all

PinState = Literal["running", "exited", "reaped"]
#: who holds a budgeted pidfd: a pin, the temporary handle of a kill, or ``--watch-all``
FdHolder = Literal["pin", "kill", "watch"]

#: fds kept free for everything that is not a pidfd (terminal, /proc reads, log file, ...).
FD_RESERVE = 64
#: a kill aimed at more processes than this asks for confirmation first.
CONFIRM_OVER = 5
#: ``--watch-all`` leaves at least this many fds of the budget (or 10 % of it, if more) free
#: for pins and the temporary handle of a kill.
WATCH_ALL_RESERVE = 8


class FdBudget:
    """How many pidfds pidtop may hold: the soft RLIMIT_NOFILE minus a reserve.

    Counted per holder (:data:`FdHolder`) so a refusal says what holds the fds. Best-effort
    holders (``--watch-all``) take fds with :meth:`acquire_spare`, which leaves
    :attr:`spare_reserve` free, and register a *yielder*: when a pin or a kill finds the budget
    full, a yielder is asked to give one fd back before the request is refused.
    """

    def __init__(self, limit: int | None = None, reserve: int = FD_RESERVE) -> None:
        if limit is None:
            limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
            if limit == resource.RLIM_INFINITY:
                limit = 1 << 20
        self.limit = max(0, limit - reserve)
        self.used = 0
        self.held: dict[FdHolder, int] = {"pin": 0, "kill": 0, "watch": 0}
        self.yielders: list[Callable[[], bool]] = []  # each frees one fd if it can -> True

    @property
    def free(self) -> int:
        return self.limit - self.used

    @property
    def spare_reserve(self) -> int:
        """What best-effort holders leave free: max(8, 10 % of the budget)."""
        return max(WATCH_ALL_RESERVE, self.limit // 10)

    def acquire(self, what: str, holder: FdHolder = "pin") -> None:
        """Take one fd from the budget or raise FdLimit saying why (and who holds them)."""
        if self.used >= self.limit and holder != "watch":
            for give_back in list(self.yielders):
                if give_back() and self.used < self.limit:
                    break
        if self.used >= self.limit:
            raise FdLimit(
                f"{what}: fd budget exhausted ({self.describe()}; limit {self.limit}); "
                "unpin something or raise `ulimit -n`"
            )
        self.used += 1
        self.held[holder] += 1

    def acquire_spare(self, what: str) -> bool:
        """Best effort (``--watch-all``): take one fd only if :attr:`spare_reserve` stays free."""
        if self.free <= self.spare_reserve:
            return False
        self.acquire(what, "watch")
        return True

    def release(self, holder: FdHolder = "pin") -> None:
        if self.held[holder] > 0:
            self.held[holder] -= 1
            self.used -= 1

    def describe(self) -> str:
        """Who holds the budget: ``"10 pins, 6 watched (--watch-all)"``."""
        h = self.held
        parts = [f"{h['pin']} pin{'s' if h['pin'] != 1 else ''}"]
        if h["kill"]:
            parts.append(f"{h['kill']} kept for a kill")
        if h["watch"] or self.yielders:
            parts.append(f"{h['watch']} watched (--watch-all)")
        return ", ".join(parts)


@dataclass(slots=True)
class Pin:
    """One pinned process and what is known about its end."""

    handle: ProcessHandle
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


@dataclass(slots=True)
class Target:
    """A process an action is aimed at: a pin's handle or a temporary one (``owned``)."""

    handle: ProcessHandle
    key: ProcKey
    command: str
    info: ProcInfo | None = None
    owned: bool = False  # opened for this action only: closed by :meth:`PinSet.release`

    @property
    def target(self) -> str:
        return format_identity(self.handle.identity)


@dataclass(slots=True)
class ActionResult:
    """What happened to one target in a kill/escalation."""

    target: Target
    results: list[SignalResult] = field(default_factory=list)
    reclaim: ReclaimResult | None = None


def confirmation_reasons(
    targets: Iterable[Target], *, self_pid: int | None = None, parent_pid: int | None = None
) -> list[str]:
    """Why signalling ``targets`` should be confirmed first (empty: no need)."""
    targets = list(targets)
    me = os.getpid() if self_pid is None else self_pid
    parent = os.getppid() if parent_pid is None else parent_pid
    reasons: list[str] = []
    for t in targets:
        pid = t.handle.pid
        if pid == 1:
            reasons.append(f"PID 1 ({t.command}) is the init process")
        elif pid == me:
            reasons.append(f"PID {pid} is pidtop itself")
        elif pid == parent:
            reasons.append(f"PID {pid} is pidtop's parent ({t.command})")
        elif t.info is not None and t.info.is_kernel_thread:
            reasons.append(f"PID {pid} is a kernel thread ({t.command})")
    if len(targets) > CONFIRM_OVER:
        reasons.append(f"{len(targets)} processes")
    return reasons


ChangeListener = Callable[[Pin, ExitEvent | None], None]
#: called once per waited pin when its wait is over (see :meth:`PinSet.start_wait`)
WaitListener = Callable[[Pin, ExitEvent], None]
#: ``opener(pid, *, starttime=, inode=, allow_exited=)`` -> a verified handle
Opener = Callable[..., ProcessHandle]


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
        tests pass :class:`pidtop.process.scripted_pins.ScriptedOpener` instead."""
        self.log = log
        self.budget = budget if budget is not None else FdBudget()
        self._watcher = watcher if watcher is not None else Watcher()
        self._clock = clock
        self._opener: Opener = opener if opener is not None else ProcessHandle.open
        self._pins: dict[ProcKey, Pin] = {}
        self._alive: dict[ProcKey, Pin] = {}  # the running ones (an exit removes it)
        self._ordered: tuple[Pin, ...] | None = None  # iteration snapshot, None: rebuild
        #: pins made before an event loop runs (``--pin`` at start): watched by :meth:`start`
        self._deferred: list[tuple[ProcessHandle, ProcKey]] = []
        #: pins still waited for (``w``); a pin leaves it when its wait is over
        self.waiting: set[ProcKey] = set()
        #: called on the loop thread whenever a pin changes (exit, reap, pin, unpin)
        self.listeners: list[ChangeListener] = []
        #: called on the loop thread once per waited pin when its wait is over, with the event
        #: whose status to report (the "wait" notification; see :meth:`start_wait`)
        self.wait_listeners: list[WaitListener] = []
        self._wait_timers: dict[ProcKey, asyncio.TimerHandle] = {}

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
            self.budget.acquire(what)
            try:
                handle = self._opener(
                    ident.pid, starttime=ident.starttime, inode=ident.inode, allow_exited=True
                )
            except BaseException:
                self.budget.release()
                raise
        except HandleError as e:
            self.log.add("pin_refused", format_identity(ident), str(e), ok=False, command=command)
            raise
        key = (handle.pid, handle.starttime if handle.starttime is not None else -1)
        pin = Pin(handle, key, command, user, self._clock(), info=info)
        self._pins[key] = pin
        self._alive[key] = pin
        self._ordered = None
        note = " (degraded: no pidfd, start time re-checked before kill)" if handle.degraded else ""
        self.log.add("pin", pin.target, f"pinned {pin.target} {command}{note}", command=command)
        self._watch(handle, key)
        self._changed(pin, None)
        return pin

    def _watch(self, handle: ProcessHandle, key: ProcKey) -> None:
        try:
            asyncio.get_running_loop()
        except RuntimeError:  # no loop yet (pinned before the UI starts): see start()
            self._deferred.append((handle, key))
            return
        self._watcher.add(handle, lambda ev, k=key: self._on_exit(k, ev))

    def start(self) -> None:
        """Watch the pins made before the event loop ran; call once it runs."""
        deferred, self._deferred = self._deferred, []
        for handle, key in deferred:
            pin = self._pins.get(key)
            if pin is not None and pin.handle is handle and not handle.closed:
                self._watcher.add(handle, lambda ev, k=key: self._on_exit(k, ev))

    def unpin(self, key: ProcKey) -> Pin | None:
        """Stop holding a process (running or exited); returns the pin, or None."""
        pin = self._pins.pop(key, None)
        if pin is None:
            return None
        self._alive.pop(key, None)
        self._ordered = None
        self.waiting.discard(key)
        self._cancel_wait_timer(key)
        self._watcher.remove(pin.handle)
        pin.handle.close()
        self.budget.release()
        self.log.add("unpin", pin.target, f"unpinned {pin.target} {pin.command}")
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
            kind = "exit" if first else "reaped"
            self.log.add(
                kind,
                pin.target,
                f"{pin.target} {pin.command}: {event.status.describe()}{lived}",
                command=pin.command,
                code=event.status.code,
                signal=event.status.signal,
                core_dumped=event.status.core_dumped,
                lived=pin.lived,
                reaped=event.reaped,
            )
        self._changed(pin, event)
        if key in self.waiting:
            if event.final or event.status.known:
                self._wait_over(key, event)
            elif key not in self._wait_timers:  # exited, status unknown: give the reap a chance
                loop = asyncio.get_running_loop()
                self._wait_timers[key] = loop.call_later(REAP_GRACE, self._wait_over, key, event)

    def _changed(self, pin: Pin, event: ExitEvent | None) -> None:
        for listener in list(self.listeners):
            listener(pin, event)

    # -- wait

    def start_wait(self) -> int:
        """Wait for every running pin; returns how many (0: nothing to wait for).

        Same semantics as ``pidtop wait``: a waited pin's wait is over at its final exit event
        (status known, or reaped), or -- if it exited and its status is still unknown (a
        non-child not reaped yet) -- ``REAP_GRACE`` seconds after its exit, with what is known
        then. Only then does it leave :attr:`waiting`, is a "wait" entry logged with its status
        and are :attr:`wait_listeners` called (the place for the notification and the bell).
        """
        self._cancel_wait_timer(None)
        self.waiting = {p.key for p in self.alive()}
        if self.waiting:
            self.log.add("wait", "", f"waiting for {len(self.waiting)} processes")
        return len(self.waiting)

    def cancel_wait(self) -> None:
        self._cancel_wait_timer(None)
        if self.waiting:
            self.log.add("wait", "", f"wait cancelled ({len(self.waiting)} still running)")
        self.waiting = set()

    def _wait_over(self, key: ProcKey, event: ExitEvent) -> None:
        self._cancel_wait_timer(key)
        pin = self._pins.get(key)
        if key not in self.waiting or pin is None:
            return
        self.waiting.discard(key)
        left = len(self.waiting)
        self.log.add(
            "wait",
            pin.target,
            f"wait: {pin.target} {pin.command}: {event.status.describe()}; "
            f"{left} still to wait for",
            ok=event.status.known,
        )
        for listener in list(self.wait_listeners):
            listener(pin, event)

    def _cancel_wait_timer(self, key: ProcKey | None) -> None:
        """Cancel the reap-grace timer of ``key`` (``None``: all of them)."""
        if key is None:
            timers = list(self._wait_timers.values())
            self._wait_timers.clear()
        else:
            timer = self._wait_timers.pop(key, None)
            timers = [] if timer is None else [timer]
        for timer in timers:
            timer.cancel()

    # -- actions

    def targets(self, cursor: ProcInfo | None) -> list[Target]:
        """What a kill aims at: every running pin, or else the cursor's process.

        The cursor's process gets a temporary handle verified against the identity the row
        showed; raises HandleError (logged) if that PID is now another process or gone.
        """
        alive = self.alive()
        if alive:
            return [Target(p.handle, p.key, p.command, p.info) for p in alive]
        if cursor is None:
            return []
        what = f"signal {cursor.pid}"
        try:
            self.budget.acquire(what, "kill")
            try:
                handle = self._opener(cursor.pid, starttime=cursor.starttime)
            except BaseException:
                self.budget.release("kill")
                raise
        except HandleError as e:
            self.log.add("signal", str(cursor.pid), f"not signalled: {e}", ok=False)
            raise
        return [Target(handle, cursor.key, cursor.command, cursor, owned=True)]

    def release(self, targets: Iterable[Target]) -> None:
        """Close the temporary handles among ``targets``."""
        for t in targets:
            if t.owned and not t.handle.closed:
                t.handle.close()
                self.budget.release("kill")

    def send(self, targets: Iterable[Target], sig: int) -> list[SignalResult]:
        """Signal each target through its handle; every result is logged."""
        results = []
        for t in targets:
            res = t.handle.send_signal(sig)
            self.log.add(
                "signal",
                res.target,
                f"{res.describe()} ({t.command})",
                ok=res.ok,
                signal=signal_name(sig),
                outcome=res.outcome,
                errno=res.errno,
            )
            results.append(res)
        return results

    async def escalate(
        self,
        targets: list[Target],
        first: int = signal.SIGTERM,
        then: int | None = signal.SIGKILL,
        after: float = 5.0,
        *,
        reclaim: bool = False,
    ) -> list[ActionResult]:
        """Send ``first``; ``after`` seconds later send ``then`` to those still alive.

        Bound to the same processes: ``then`` goes through the same handles, so a PID reused
        in between is never hit. With ``reclaim`` and a SIGKILL, the memory of each killed
        target is released at once (process_mrelease). Temporary handles are closed at the end.
        """
        out = [ActionResult(t) for t in targets]
        try:
            for ar, res in zip(out, self.send(targets, first), strict=True):
                ar.results.append(res)
            if then is not None:
                pending = [ar for ar in out if ar.results[-1].outcome == "delivered"]
                if pending and after > 0:
                    await self._wait_exits([ar.target for ar in pending], after)
                still = [ar for ar in pending if ar.target.handle.state() == "running"]
                for ar, res in zip(still, self.send([a.target for a in still], then), strict=True):
                    ar.results.append(res)
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
            self.release(targets)
        return out

    async def _wait_exits(self, targets: list[Target], timeout: float) -> None:
        """Wait until every target has exited, or ``timeout`` seconds.

        Pinned targets are already watched by this set's Watcher: their exits come through
        the listeners. A second Watcher must not register the same pidfd with the loop (one
        reader per fd: it would replace, then remove, the pin's own reader). Only temporary
        handles get a Watcher of their own (``wait_all``).
        """
        loop = asyncio.get_running_loop()
        keys = {t.key for t in targets if not t.owned and (p := self._pins.get(t.key)) and p.alive}
        owned = [t.handle for t in targets if t.owned]
        waits: list[asyncio.Future[object]] = []
        pinned_done: asyncio.Future[object] = loop.create_future()

        def listener(pin: Pin, event: ExitEvent | None) -> None:
            if pin.key in keys and (event is not None or pin.key not in self._pins):
                keys.discard(pin.key)
                if not keys and not pinned_done.done():
                    pinned_done.set_result(None)

        if keys:
            self.listeners.append(listener)
            waits.append(pinned_done)
        if owned:
            waits.append(asyncio.ensure_future(wait_all(owned, timeout=timeout)))
        try:
            if waits:
                await asyncio.wait(waits, timeout=timeout)
        finally:
            if listener in self.listeners:
                self.listeners.remove(listener)
            for w in waits:
                w.cancel()
            # Let the cancelled wait_all finish its cleanup (it removes its loop readers) now,
            # while its handles are still open: run later, it would remove the reader of a
            # new pidfd that reused the fd number after release() closed them.
            await asyncio.gather(*waits, return_exceptions=True)

    def close(self) -> None:
        """Drop every pin and close its pidfd."""
        self._cancel_wait_timer(None)
        self._watcher.close()
        for pin in self._pins.values():
            with contextlib.suppress(OSError):
                pin.handle.close()
        self._pins.clear()
        self._alive.clear()
        self._ordered = None


class WatchAll:
    """``--watch-all``: a pidfd for every listed process so any row is marked when it exits.

    Best effort: it never takes the budget's :attr:`FdBudget.spare_reserve`, and when a pin or
    a kill finds the budget full it gives one of its fds back (the newest watch). Processes
    that are pinned are not watched here (the pin holds their fd).
    """

    def __init__(
        self,
        budget: FdBudget,
        on_exit: Callable[[ProcKey, ExitEvent], None],
        *,
        watcher: Watcher | None = None,
    ) -> None:
        self.budget = budget
        self._on_exit = on_exit
        self._watcher = watcher if watcher is not None else Watcher()
        self._handles: dict[ProcKey, ProcessHandle] = {}
        self.exited: dict[ProcKey, ExitEvent] = {}
        self.skipped = 0  # processes not watched for lack of fds (since the last sync)
        budget.yielders.append(self._give_back)

    def __len__(self) -> int:
        return len(self._handles)

    def _give_back(self) -> bool:
        """The budget is full and a pin or kill needs an fd: stop watching one process."""
        if not self._handles:
            return False
        self._drop(next(reversed(self._handles)))
        self.skipped += 1
        return True

    def sync(self, infos: Iterable[ProcInfo], skip: Callable[[ProcKey], bool]) -> None:
        """Hold a handle for every listed process (threads excluded); drop the departed."""
        listed: set[ProcKey] = set()
        self.skipped = 0
        for info in infos:
            if info.is_thread:
                continue
            key = info.key
            listed.add(key)
            if skip(key):  # pinned: the pin's fd is enough
                if key in self._handles:
                    self._drop(key)
                continue
            if key in self._handles or key in self.exited:
                continue
            if not self.budget.acquire_spare("watch"):
                self.skipped += 1
                continue
            try:
                handle = ProcessHandle.open(info.pid, starttime=info.starttime, allow_exited=True)
            except HandleError:
                self.budget.release("watch")
                continue
            if handle.degraded:  # nothing to wait on: no point holding it
                handle.close()
                self.budget.release("watch")
                continue
            self._handles[key] = handle
            self._watcher.add(handle, lambda ev, k=key: self._exited(k, ev))
        for key in [k for k in self._handles if k not in listed]:
            self._drop(key)
        for key in [k for k in self.exited if k not in listed]:
            del self.exited[key]

    def _exited(self, key: ProcKey, event: ExitEvent) -> None:
        self.exited[key] = event
        if event.final:
            self._drop(key)
        self._on_exit(key, event)

    def _drop(self, key: ProcKey) -> None:
        handle = self._handles.pop(key, None)
        if handle is not None:
            self._watcher.remove(handle)
            handle.close()
            self.budget.release("watch")

    def close(self) -> None:
        if self._give_back in self.budget.yielders:
            self.budget.yielders.remove(self._give_back)
        for key in list(self._handles):
            self._drop(key)
