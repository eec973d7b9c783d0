"""The running wait (``w``) over pinned processes: each one reported once, when its wait is over.

Same semantics as ``pidtop wait`` (:func:`pidtop.kernel.watch.wait_all`): a process's wait is
over at its final exit event, or ``REAP_GRACE`` seconds after an exit whose status is still
unknown. The wait holds its own reference to each process, so unpinning does not end it.
:class:`pidtop.actions.pins.PinSet` runs one (``start_wait``, ``cancel_wait``). No Textual here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from functools import partial
from typing import Generic, Protocol, TypeVar

from pidtop.actions.eventlog import EventLog
from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import Handle
from pidtop.kernel.watch import REAP_GRACE, ExitEvent, Watcher
from pidtop.sampling.snapshot import ProcKey


class Waited(Protocol):
    """What the wait needs of a pin (:class:`pidtop.actions.pins.Pin`)."""

    handle: Handle
    key: ProcKey
    command: str
    argv: list[str]

    @property
    def target(self) -> str: ...


P = TypeVar("P", bound=Waited)


class PinWait(Generic[P]):
    """One wait at a time over a set of pins; its references are counted like an action's."""

    def __init__(
        self,
        log: EventLog,
        dup: Callable[[Handle, str], Handle],
        close_ref: Callable[[Handle], None],
    ) -> None:
        """``dup(handle, what)`` takes a budgeted reference, ``close_ref`` gives it back."""
        self.log = log
        self._dup = dup
        self._close_ref = close_ref
        #: per waited process, its pin and the wait's own reference
        self._waits: dict[ProcKey, tuple[P, Handle]] = {}
        self._watcher: Watcher | None = None
        self._timers: dict[ProcKey, asyncio.TimerHandle] = {}
        #: called on the loop thread once per waited pin when its wait is over, with the event
        #: whose status to report (the "wait" notification; see :meth:`start`)
        self.listeners: list[Callable[[P, ExitEvent], None]] = []

    @property
    def waiting(self) -> set[ProcKey]:
        """The processes the running wait (``w``) still waits for (unpinned ones included)."""
        return set(self._waits)

    def start(self, pins: Iterable[P]) -> int:
        """Wait for each of ``pins`` (the running pins); returns how many (0: nothing to wait
        for).

        Same semantics as ``pidtop wait``: a waited process's wait is over at its final exit
        event (status known, or reaped), or -- if it exited and its status is still unknown (a
        non-child not reaped yet) -- ``REAP_GRACE`` seconds after its exit, with what is known
        then. Only then does it leave :attr:`waiting`, is a "wait" entry logged with its status
        and are :attr:`listeners` called (the place for the notification and the bell).
        The wait holds its own reference to each process (a dup of the pin's pidfd), so
        unpinning or clearing a pin does not end its wait. FdLimit (nothing started) when the
        budget cannot hold them.
        """
        self.cancel(log=False)
        refs: list[tuple[P, Handle]] = []
        try:
            for pin in pins:
                refs.append((pin, self._dup(pin.handle, f"wait for {pin.target}")))
        except HandleError:
            for _pin, ref in refs:
                self._close_ref(ref)
            raise
        if not refs:
            return 0
        self._watcher = Watcher()
        for pin, ref in refs:
            self._waits[pin.key] = (pin, ref)
            self._watcher.add(ref, partial(self._on_exit, pin.key))
        n = len(refs)
        self.log.add("wait", "", f"waiting for {n} process{'es' if n != 1 else ''}")
        return len(refs)

    def cancel(self, *, log: bool = True) -> None:
        """End the wait (nothing more is reported); logged unless ``log`` is False."""
        self._cancel_timer(None)
        if self._waits and log:
            self.log.add("wait", "", f"wait cancelled ({len(self._waits)} still running)")
        for key in list(self._waits):
            self._end(key)
        if self._watcher is not None:
            self._watcher.close()
            self._watcher = None

    def _end(self, key: ProcKey) -> tuple[P, Handle] | None:
        entry = self._waits.pop(key, None)
        if entry is not None:
            if self._watcher is not None:
                self._watcher.remove(entry[1])
            self._close_ref(entry[1])
        return entry

    def _on_exit(self, key: ProcKey, event: ExitEvent) -> None:
        if key not in self._waits:
            return
        if event.final or event.status.known:
            self._over(key, event)
        elif key not in self._timers:  # exited, status unknown: give the reap a chance
            loop = asyncio.get_running_loop()
            self._timers[key] = loop.call_later(REAP_GRACE, self._over, key, event)

    def _over(self, key: ProcKey, event: ExitEvent) -> None:
        self._cancel_timer(key)
        entry = self._end(key)
        if entry is None:
            return
        pin = entry[0]
        left = len(self._waits)
        self.log.add(
            "wait",
            pin.target,
            f"wait: {pin.target} {pin.command}: {event.status.describe()}; "
            f"{left} still to wait for",
            plain=f"wait: {pin.target}: {event.status.describe()}; {left} still to wait for",
            ok=event.status.known,
            argv=pin.argv,
        )
        for listener in list(self.listeners):
            listener(pin, event)

    def _cancel_timer(self, key: ProcKey | None) -> None:
        """Cancel the reap-grace timer of ``key`` (``None``: all of them)."""
        if key is None:
            timers = list(self._timers.values())
            self._timers.clear()
        else:
            timer = self._timers.pop(key, None)
            timers = [] if timer is None else [timer]
        for timer in timers:
            timer.cancel()
