"""What the kernel said changed, per process, since the sampler last looked: the event spine.

The exit journal's reader thread sees every exec, comm change and uid change on the machine (the
proc connector); it marks the PIDs here, and the sampler drains the marks at its next pass and
reads those processes' owner and command line again at once, instead of on a timer. ``live``
says whether anything is marking at all: without the connector (refused, a container) the
sampler must find changes itself (htop's way: the owner from one ``fstat`` every refresh).

Thread-safe: one writer thread (the journal's reader) and one reader (the sampling worker).
"""

from __future__ import annotations

import threading

__all__ = ["COMMAND", "OWNER", "ChangeFeed"]

#: the owner (effective uid) changed: setuid, setresuid, a daemon dropping root
OWNER = 1
#: the name or the command line changed: exec, a comm change (prctl PR_SET_NAME)
COMMAND = 2


class ChangeFeed:
    """PID -> what changed (a bit set of :data:`OWNER`, :data:`COMMAND`), drained once a pass."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._changed: dict[int, int] = {}
        #: True while a source (the proc connector) marks every change on the machine
        self.live = False

    def mark(self, pid: int, what: int) -> None:
        """Record that ``what`` changed for process ``pid`` (a thread group id)."""
        with self._lock:
            self._changed[pid] = self._changed.get(pid, 0) | what

    def drain(self) -> dict[int, int]:
        """Everything marked since the last drain, and forget it."""
        with self._lock:
            changed, self._changed = self._changed, {}
        return changed
