"""Watch process handles for exit on an asyncio loop (the pin set). No Textual here.

Each watched handle produces one or two :class:`ExitEvent` callbacks:

1. at once when its pidfd becomes readable (POLLIN: exited). The status is already known
   for our own children (waitid WNOWAIT) and for processes reaped that quickly;
2. if the status was not known yet, a second event with ``reaped=True`` once the parent reaps
   it (POLLHUP), carrying the status from PIDFD_INFO_EXIT (or why it stays unknown). Kernels
   without PIDFD_INFO_EXIT (< 6.15) could not tell more, so there the first event is final.

An event with ``final`` set ends the watch; the handle is then dropped from the watcher (it is
not closed: the caller owns it). Readiness is level-triggered, so the reader is removed on the
first wake-up. POLLIN stays set between exit and reap, so the reap is awaited differently: the
pidfd goes into a private epoll with an empty event mask, which reports only EPOLLHUP, and that
epoll's fd is watched by the loop. No timers, no polling. Degraded handles (no pidfd) are the
exception: they are re-checked every ``poll_interval`` seconds.

The watcher owns its registrations, not the handles: closing a watched handle first drops the
loop reader and the epoll entry (:meth:`Handle.watched_by`), so a closed pidfd's number, reused
by the next ``open``, never reaches this watcher.

A handle can be in one Watcher at a time: asyncio keeps one reader per fd, so a second Watcher
would silently replace (and later remove) the first one's reader. :meth:`Watcher.add` raises
ValueError instead. Callbacks may add, remove or close freely, also from inside a callback.
"""

from __future__ import annotations

import asyncio
import select
import time
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pidtop.kernel.handle import Handle
from pidtop.kernel.identity import Identity, boottime_now
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.kernel.probes import features

#: Seconds to wait, after an exit whose status is still unknown, for the reap that reveals it
#: (a non-child's status comes with its parent's wait; PID 1 here reaps orphans ~1.5-1.8 s late).
#: Shared by ``pidtop wait`` and the TUI's wait.
REAP_GRACE = 2.0


@dataclass(frozen=True, slots=True)
class ExitEvent:
    """A watched process exited (``reaped`` False) or was reaped (``reaped`` True)."""

    identity: Identity
    handle: Handle
    observed_at_monotonic: float  # time.monotonic() when this event was observed
    observed_at_wall: float  # time.time() at the same moment
    status: ExitStatus
    reaped: bool
    lived_seconds: float | None  # start to the exit observation; None if it exited before open
    final: bool  # no further event will follow for this handle


Callback = Callable[[ExitEvent], None]

# Which Watcher holds each handle (one loop reader per pidfd; see the module docstring).
_owners: weakref.WeakKeyDictionary[Handle, Watcher] = weakref.WeakKeyDictionary()


@dataclass(slots=True)
class _Watch:
    callback: Callback
    fd: int | None
    reading: bool = False  # registered with loop.add_reader (waiting for the exit)
    exited: bool = False  # the first event was sent
    timer: asyncio.Handle | None = None
    lived: float | None = None


class Watcher:
    """A set of handles watched for exit; callbacks run on the loop thread."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop | None = None, *, poll_interval: float = 0.25
    ) -> None:
        self._loop = loop
        self._interval = poll_interval
        self._watches: dict[Handle, _Watch] = {}
        self._reap_ep: select.epoll | None = None  # exited pidfds, mask 0: EPOLLHUP only
        self._reaping: dict[int, Handle] = {}

    def __len__(self) -> int:
        return len(self._watches)

    def __contains__(self, handle: object) -> bool:
        return handle in self._watches

    def add(self, handle: Handle, callback: Callback) -> None:
        """Watch ``handle``; ``callback`` gets its ExitEvent(s). Re-adding replaces the callback.

        ValueError if another Watcher watches ``handle`` (one loop reader per pidfd).
        """
        owner = _owners.get(handle)
        if owner is not None and owner is not self:
            raise ValueError(
                f"{handle!r} is already watched by another Watcher (one loop reader per pidfd)"
            )
        self.remove(handle)
        loop = self._get_loop()
        fd = handle.fileno()
        watch = _Watch(callback, fd)
        self._watches[handle] = watch
        _owners[handle] = self
        if fd is None:
            watch.timer = loop.call_soon(self._check, handle)
        else:
            loop.add_reader(fd, self._on_readable, handle)
            watch.reading = True
            # the watcher owns its registration: closing the handle drops it first, so a
            # reused fd number never reaches this watcher's reader or epoll
            handle.watched_by(self, lambda: self.remove(handle))

    def remove(self, handle: Handle) -> None:
        """Stop watching ``handle`` (no-op if not watched). Closing the handle does it too."""
        watch = self._drop(handle)
        if watch is None:
            return
        if watch.timer is not None:
            watch.timer.cancel()
        if watch.fd is not None and self._loop is not None:
            if watch.reading:
                self._loop.remove_reader(watch.fd)
            elif self._reaping.pop(watch.fd, None) is not None and self._reap_ep is not None:
                self._reap_ep.unregister(watch.fd)

    def close(self) -> None:
        """Stop watching everything and release the private epoll."""
        for handle in list(self._watches):
            self.remove(handle)
        if self._reap_ep is not None:
            if self._loop is not None:
                self._loop.remove_reader(self._reap_ep.fileno())
            self._reap_ep.close()
            self._reap_ep = None

    def _drop(self, handle: Handle) -> _Watch | None:
        watch = self._watches.pop(handle, None)
        if watch is not None and _owners.get(handle) is self:
            del _owners[handle]
        if watch is not None and watch.fd is not None:
            handle.watched_by(self, None)
        return watch

    def _get_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            self._loop = asyncio.get_running_loop()
        return self._loop

    def _on_readable(self, handle: Handle) -> None:
        watch = self._watches.get(handle)
        if watch is None or watch.fd is None or not watch.reading:
            return
        self._get_loop().remove_reader(watch.fd)  # level-triggered: would fire again at once
        watch.reading = False
        self._check(handle)

    def _on_reaped(self) -> None:
        ep = self._reap_ep
        if ep is None:
            return
        # Take every ready handle out first: a callback may remove others or close the watcher.
        reaped = []
        for fd, _events in ep.poll(0):
            handle = self._reaping.pop(fd, None)
            if handle is not None:
                ep.unregister(fd)
                reaped.append(handle)
        for handle in reaped:
            self._check(handle)  # a no-op for a handle removed by an earlier callback

    def _await_reap(self, handle: Handle, fd: int) -> None:
        if self._reap_ep is None:
            self._reap_ep = select.epoll()
            self._get_loop().add_reader(self._reap_ep.fileno(), self._on_reaped)
        self._reaping[fd] = handle
        self._reap_ep.register(fd, 0)

    def _check(self, handle: Handle) -> None:
        now_mono, now_wall, now_boot = time.monotonic(), time.time(), boottime_now()
        watch = self._watches.get(handle)
        if watch is None:
            return
        loop = self._get_loop()
        watch.timer = None
        state = handle.state()
        if state == "running" or (watch.exited and state == "exited"):
            if watch.fd is None:  # degraded: nothing to wait on but time
                watch.timer = loop.call_later(self._interval, self._check, handle)
            elif watch.exited:
                self._await_reap(handle, watch.fd)
            else:
                loop.add_reader(watch.fd, self._on_readable, handle)
                watch.reading = True
            return
        first = not watch.exited
        if first:
            watch.exited = True
            watch.lived = None if handle.opened_exited else handle.lifetime(now_boot)
        status = handle.exit_status()
        reaped = state == "reaped"
        # Without PIDFD_INFO_EXIT the reap would reveal nothing more: stop at the exit.
        final = reaped or status.known or not (handle.degraded or features().info_exit)
        event = ExitEvent(
            handle.identity, handle, now_mono, now_wall, status, reaped, watch.lived, final
        )
        if final:
            self._drop(handle)
        elif watch.fd is None:
            watch.timer = loop.call_later(self._interval, self._check, handle)
        else:
            self._await_reap(handle, watch.fd)
        watch.callback(event)


async def wait_all(
    handles: Iterable[Handle],
    any_: bool = False,
    timeout: float | None = None,
    *,
    reap_grace: float = 0.0,
    on_exit: Callback | None = None,
) -> list[ExitEvent]:
    """Wait until every handle (or any one, with ``any_``) has exited, or ``timeout`` seconds.

    Returns one event per handle that exited, in the order they were reported (the caller
    compares with its handles to see who timed out). When an exit's status is not known yet,
    the report waits up to ``reap_grace`` seconds for the reap that reveals it. ``on_exit`` is
    called once per reported handle, as it happens.
    """
    handles = list(dict.fromkeys(handles))  # the same handle twice is waited for once
    loop = asyncio.get_running_loop()
    watcher = Watcher(loop)
    done: dict[Handle, ExitEvent] = {}
    graced: dict[Handle, tuple[ExitEvent, asyncio.TimerHandle]] = {}
    finished = asyncio.Event()

    def report(event: ExitEvent) -> None:
        if event.handle in done:
            return
        pending = graced.pop(event.handle, None)
        if pending is not None:
            pending[1].cancel()
        watcher.remove(event.handle)
        done[event.handle] = event
        if on_exit is not None:
            on_exit(event)
        if any_ or len(done) == len(handles):
            finished.set()

    def on_event(event: ExitEvent) -> None:
        if event.final or reap_grace <= 0:
            report(event)
        elif event.handle not in graced:
            graced[event.handle] = (event, loop.call_later(reap_grace, report, event))

    if not handles:
        return []
    for handle in handles:
        watcher.add(handle, on_event)
    try:
        async with asyncio.timeout(timeout):
            await finished.wait()
    except TimeoutError:
        for event, _timer in list(graced.values()):  # they did exit: report what is known
            report(event)
    finally:
        for _event, timer in graced.values():
            timer.cancel()
        watcher.close()
    return list(done.values())
