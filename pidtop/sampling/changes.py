"""What the kernel said changed, per process, since the sampler last looked: the event spine.

The exit journal's reader thread sees every exec, comm change and uid change on the machine (the
proc connector); it marks the PIDs here, and the sampler drains the marks at its next pass and
reads those processes' owner and command line again at once, instead of on a timer. ``live``
says whether anything is marking at all: without the connector (refused, a container) the
sampler must find changes itself (htop's way: the owner from one ``fstat`` every refresh).
When the connector loses events (a socket overflow, a sequence gap) :meth:`ChangeFeed.mark_all`
says so: the sampler reads every process's owner and command once, at its next pass.

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
        self._all = 0  # what changed for every process (events were lost)
        #: True while a source (the proc connector) marks every change on the machine
        self.live = False

    def mark(self, pid: int, what: int) -> None:
        """Record that ``what`` changed for process ``pid`` (a thread group id)."""
        with self._lock:
            self._changed[pid] = self._changed.get(pid, 0) | what

    def mark_all(self, what: int = OWNER | COMMAND) -> None:
        """Events were lost: ``what`` may have changed for any process."""
        with self._lock:
            self._all |= what

    def drain(self) -> dict[int, int]:
        """Everything marked since the last drain, and forget it (see :meth:`drain_all`)."""
        with self._lock:
            changed, self._changed = self._changed, {}
        return changed

    def drain_all(self) -> int:
        """What :meth:`mark_all` said changed for every process since the last call (0: no
        loss), and forget it."""
        with self._lock:
            what, self._all = self._all, 0
        return what
