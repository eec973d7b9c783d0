"""When the monitor's garbage collector runs: on a schedule, not in the middle of a key.

CPython's automatic collector triggers on allocation counts, so a collection lands wherever the
program happens to allocate: during a key's handling, a paint, a sample's merge. At +1,000
processes a full (gen2) collection walked every object of Textual, Rich and pidtop (~75k objects:
50-110 ms each, every few seconds), and the young ones took 0.2-8 ms each, about 600 ms of GC in
10 s of use (measured with gc.callbacks).

The policy, from the command line's imports to the app's end:

* from the CLI's imports until the app is built (:func:`hold_collector`, the CLI and
  :func:`pidtop.ui.startup.run_tui`): automatic collection off (start-up allocates most of what
  the app will ever hold: collecting it young would walk all of it); then
  (:func:`release_collector`) what start-up built is frozen and the collector is on again;
* until start-up is over, the automatic collector as usual;
* then (:meth:`GcPolicy.settled`, at the app's third tick, ~3 s) ``gc.freeze()``: what exists (the
  modules, the widgets, the caches) is moved out of the collector's sight for good, so a full
  collection no longer walks it; and automatic collection off;
* :meth:`GcPolicy.tick` (a 1 s timer, paused or not) then collects the young generation every
  :data:`YOUNG_EVERY` ticks, and every :data:`FULL_EVERY` s the old one too, then freezes what
  survived: the next
  full collection walks only what came since (at 200 exits/s the journal's 10,000 records
  alone doubled the objects a full collection walked);
* every :data:`THAW_EVERY` s it unfreezes and collects everything: a cycle among frozen
  objects that became garbage is freed then (other garbage is freed at once by reference
  counting, frozen or not). So cyclic garbage is freed within ``THAW_EVERY`` s at most;
* :meth:`GcPolicy.stop` (the app's end, also in tests) unfreezes and gives the collector back
  as it was.

:class:`GcScheduled` mixes it into the app (mount: the timer, which sleeps until a tick that
does something, :meth:`GcPolicy.due_in`; unmount: :meth:`stop`).
"""

from __future__ import annotations

import gc
import math
import time
from typing import TYPE_CHECKING, Any

from pidtop.ui.later import call_later

__all__ = [
    "FULL_EVERY",
    "SETTLE_TICKS",
    "THAW_EVERY",
    "YOUNG_EVERY",
    "GcPolicy",
    "GcScheduled",
    "after_app",
    "hold_collector",
    "release_collector",
]

#: ticks (1 s) between two collections of the young generation. Nearly all of it is a tick's
#: survivors (new ``ProcInfo``, rows, the table's and history's dicts); each young collection
#: walks what is alive then, so one every 5 s does not walk the objects that lived 1-4 s
#: (running processes' ``ProcInfo``, repainted lines) five times over: the collector's CPU at
#: ~4,000 processes 2.8 -> 1.6 ms/s (gc.callbacks, thread_time, two monitors side by side).
#: A young collection there freed no object in 30 s of ticks: cyclic garbage is rare
YOUNG_EVERY = 5
#: seconds between two collections of the old generation (what survived since the last one)
FULL_EVERY = 30.0
#: seconds between two collections of everything, frozen objects included
THAW_EVERY = 600.0
#: the app's ticks (1 s) until start-up is over: the first sample merged, the journal started
SETTLE_TICKS = 3


#: whether automatic garbage collection was on when :func:`hold_collector` held it (None: not held)
_collector_was_on: bool | None = None


def hold_collector() -> None:
    """Automatic garbage collection off until :func:`release_collector`: the monitor's imports
    and its first sample allocate most of what it keeps (~46k tracked objects at +1,000
    processes, ~700 of them garbage); collections while they grow walk all of it."""
    global _collector_was_on
    if _collector_was_on is None:
        _collector_was_on = gc.isenabled()
        gc.disable()


def release_collector(*, freeze: bool = False) -> None:
    """Automatic garbage collection as it was before :func:`hold_collector` (not held: no-op).
    ``freeze``: first move what exists out of the collector's sight (``gc.freeze``), as
    :meth:`GcPolicy.settled` does at the app's third tick. Without it the collections during
    Textual's first frame walked everything start-up built and freed next to nothing (at
    +1,000 processes, a loaded machine: 150-420 ms of GC before the first frame, one gen2 of
    151 ms that collected 0 objects)."""
    global _collector_was_on
    if _collector_was_on is None:
        return
    if freeze:
        gc.freeze()
    if _collector_was_on:
        gc.enable()
    _collector_was_on = None


def after_app() -> None:
    """The app is over: the collector given back if still held, nothing left frozen
    (:meth:`GcPolicy.stop` unfroze the app's own at its end; this unfreezes start-up's)."""
    release_collector()
    gc.unfreeze()


class GcPolicy:
    """The app's collector schedule (see the module docstring). Main thread only."""

    def __init__(
        self,
        full_every: float = FULL_EVERY,
        thaw_every: float = THAW_EVERY,
        young_every: int = YOUNG_EVERY,
    ) -> None:
        self.young_every = young_every
        self.full_every = full_every
        self.thaw_every = thaw_every
        self.active = False  # automatic collection is off and the tick collects
        self.collections = 0  # collections the tick ran (tests)
        self.ticks = 0
        self._stopped = False
        self._enabled = gc.isenabled()
        self._last_full = self._last_thaw = time.monotonic()
        self._young_in = 0  # ticks until the next young collection

    def settled(self) -> None:
        """Start-up is over: freeze what exists, automatic collection off, the ticks collect
        from now on (once; never after :meth:`stop`)."""
        if self.active or self._stopped:
            return
        self._enabled = gc.isenabled()
        gc.disable()
        gc.freeze()
        self.active = True
        self._last_full = self._last_thaw = time.monotonic()
        self._young_in = 1

    def due_in(self) -> int:
        """Ticks from now to the first one that does more than count down (1 until settled):
        the app's timer sleeps that long, it does not wake the loop each second for nothing."""
        if not self.active:
            return 1
        soon = min(self._last_thaw + self.thaw_every, self._last_full + self.full_every)
        return max(1, min(self._young_in, math.ceil(soon - time.monotonic())))

    def tick(self, skipped: int = 0) -> None:
        """The young generation every ``young_every`` ticks (from the first one after
        :meth:`settled`); the old one every ``full_every`` s; everything, frozen objects
        included, every ``thaw_every`` s (see the module docstring). Settles at the
        :data:`SETTLE_TICKS`-th call. ``skipped``: ticks before this one that only would have
        counted down (:meth:`due_in`), counted now."""
        self.ticks += 1 + skipped
        self._young_in -= skipped
        if not self.active:
            if self.ticks >= SETTLE_TICKS:
                self.settled()
            return
        now = time.monotonic()
        if now - self._last_thaw >= self.thaw_every:
            self._last_thaw = self._last_full = now
            gc.unfreeze()
            gc.collect()
            gc.freeze()
        elif now - self._last_full >= self.full_every:
            self._last_full = now
            gc.collect()
            gc.freeze()
        elif self._young_in <= 1:
            gc.collect(1)
        else:
            self._young_in -= 1
            return
        self._young_in = self.young_every
        self.collections += 1

    def stop(self) -> None:
        """Unfreeze, and automatic collection as it was before :meth:`settled`."""
        self._stopped = True
        if not self.active:
            return
        self.active = False
        gc.unfreeze()
        if self._enabled:
            gc.enable()


if TYPE_CHECKING:
    import asyncio

    from textual.app import App

    _Mixin = App[Any]
else:
    _Mixin = object


class GcScheduled(_Mixin):
    """The app's part: the policy's timer from mount, :meth:`GcPolicy.stop` at unmount."""

    gc_policy: GcPolicy
    _gc_timer: asyncio.TimerHandle | None = None

    def on_mount(self) -> None:
        self.gc_policy = GcPolicy()
        self._gc_arm()

    def _gc_arm(self) -> None:
        """The next tick that does something (:meth:`GcPolicy.due_in`), 1 s per tick."""
        due = self.gc_policy.due_in()
        self._gc_timer = call_later(self, float(due), self._gc_tick, due)

    def _gc_tick(self, due: int) -> None:
        self.gc_policy.tick(skipped=due - 1)
        self._gc_arm()

    def on_unmount(self) -> None:
        if self._gc_timer is not None:
            self._gc_timer.cancel()
        self.gc_policy.stop()
