"""Exits marked on the table's rows the moment the exit journal sees them.

The journal's proc connector sees every exit on the machine; a listed process that exits keeps
its row until the next refresh drops it, and until then the row says it has exited and how
(``exit 3``, ``SIGKILL``): no pidfd per row, one dict lookup per candidate key per exit.

An exit is matched to a row by identity, the PID *and* the start time: the record's start
(exit time minus lifetime, on CLOCK_MONOTONIC) is turned into ``/proc/PID/stat`` start ticks
(CLOCK_BOOTTIME, ``clk_tck`` per second) and the row keyed ``(pid, ticks)`` within
:data:`TOLERANCE` ticks is the one that exited. A late record of a previous holder of a reused
PID therefore never marks the newcomer (that would need the PID to wrap within that tolerance).
A record without a lifetime (start unknown) marks nothing: the next refresh removes its row.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from pidtop.sampling.snapshot import ProcKey

__all__ = ["TOLERANCE", "ExitMarks", "start_ticks"]

#: start ticks may differ by this much between the record's start and /proc's (the connector's
#: fork timestamp is taken a little after the task's start; both are cut to whole ticks)
TOLERANCE = 2


def _boot_offset() -> float:
    """CLOCK_BOOTTIME - CLOCK_MONOTONIC now, seconds (grows by each suspend's length)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)


def start_ticks(monotonic: float, lifetime_s: float | None, clk_tck: int) -> int | None:
    """The ``/proc/PID/stat`` start time (ticks since boot) of a process that exited at
    ``monotonic`` (CLOCK_MONOTONIC seconds) after ``lifetime_s`` seconds; None if unknown."""
    if lifetime_s is None:
        return None
    return int((monotonic - lifetime_s + _boot_offset()) * clk_tck)


class ExitMarks:
    """``ProcKey -> status text`` of listed processes that have exited, until their rows go."""

    def __init__(self) -> None:
        self.marks: dict[ProcKey, str] = {}

    def get(self, key: ProcKey) -> str | None:
        return self.marks.get(key)

    def match(
        self,
        pid: int,
        monotonic: float,
        lifetime_s: float | None,
        status: str,
        listed: Callable[[ProcKey], bool],
        clk_tck: int = 100,
    ) -> ProcKey | None:
        """Mark the listed process (``listed(key)``) that this exit is of; its key, or None
        when no listed process is that identity."""
        ticks = start_ticks(monotonic, lifetime_s, clk_tck)
        if ticks is None:
            return None
        for t in range(ticks - TOLERANCE, ticks + TOLERANCE + 1):
            key = (pid, t)
            if listed(key):
                self.marks[key] = status
                return key
        return None

    def prune(self, listed: Callable[[ProcKey], bool]) -> None:
        """Forget the marks of rows no longer in the table (after a merge)."""
        if self.marks:
            self.marks = {k: v for k, v in self.marks.items() if listed(k)}
