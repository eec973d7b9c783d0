"""The sampler's ``/proc/PID/stat`` files kept open between passes, and their fds' bookkeeping.

A held file is read again with ``pread`` (~6 µs of open/close saved per process per pass). It
reads *its* process or fails with ESRCH once that one is reaped, also when a newcomer has the
PID then (the sampler opens the PID anew, as a new identity); the file of a process gone from
the listing is closed at the end of the pass. The fds come from the monitor's
:class:`~pidtop.kernel.fdbudget.FdBudget` (counted as ``stat_files``, the lowest priority: see
:meth:`FdBudget.acquire_some`); without a budget nothing is held (open/read/close).

One pass: :meth:`HeldStatFiles.begin`, then for each process either a ``pread`` of
``fds[name]`` (recorded in ``seen``; :meth:`reaped` on ESRCH) or a fresh open handed to
:meth:`adopt`, then :meth:`end`. The sampler inlines the ``pread`` (a call per process costs
more than it saves); everything else is here.
"""

from __future__ import annotations

import os
import threading

from pidtop.kernel.fdbudget import FdBudget

__all__ = ["HeldStatFiles"]


class HeldStatFiles:
    """The open stat files by PID (as listed). ``lock``: one pass vs the UI loop's
    :meth:`drop` and the budget's yielder."""

    def __init__(self) -> None:
        #: PID (as listed) -> its /proc/PID/stat kept open, as of the last pass
        self.fds: dict[str, int] = {}
        #: this pass: the files read (kept) and the ones newly adopted
        self.seen: dict[str, int] = {}
        self.budget: FdBudget | None = None
        self.lock = threading.Lock()
        self._keep = 0  # fds this pass may still adopt (taken from the budget at begin)

    def share(self, budget: FdBudget) -> None:
        """Hold files with fds from ``budget``. A pin or an action that finds the budget full
        gets one back at once (a yielder, asked before ``--watch-all``'s)."""
        self.budget = budget
        budget.yielders.insert(0, self._give_back)

    def drop(self) -> None:
        """Close every held file and give its fd back (the monitor's end)."""
        with self.lock:
            self._release(list(self.fds))
            if self.budget is not None and self._give_back in self.budget.yielders:
                self.budget.yielders.remove(self._give_back)
            self.budget = None

    def _give_back(self) -> bool:
        """The budget's yielder (on the UI loop): close one held file, after the pass in
        progress if there is one (a few ms; at most 0.5 s, then the request is refused)."""
        if not self.lock.acquire(timeout=0.5):
            return False
        try:
            if not self.fds:
                return False
            self._release([next(iter(self.fds))])
            return True
        finally:
            self.lock.release()

    def _release(self, names: list[str]) -> None:
        fds = self.fds
        for name in names:
            os.close(fds.pop(name))
        if names and self.budget is not None:
            self.budget.release_some(len(names))

    # -- one pass (under ``lock``) -------------------------------------------------------------

    def begin(self, listed: int) -> None:
        """A pass over ``listed`` names starts: give back what pins and watches took while the
        budget was full, then take fds for the processes not held yet (as many as it spares)."""
        self.seen = {}
        budget = self.budget
        if budget is not None and self.fds and (owed := budget.owed()):
            self._release(list(self.fds)[:owed])
        self._keep = budget.acquire_some(listed - len(self.fds)) if budget is not None else 0

    def listing_failed(self) -> None:
        """The listing failed (out of fds, /proc gone?): no process was seen gone, keep all
        (instead of :meth:`begin`)."""
        self.seen, self._keep = dict(self.fds), 0

    def reaped(self, name: str) -> None:
        """A held file's ``pread`` failed (ESRCH: its process was reaped): close it; the PID
        may be a newcomer's, opened anew by the caller."""
        os.close(self.fds.pop(name))
        self._keep += 1

    def adopt(self, name: str, fd: int) -> None:
        """A stat file opened and read this pass: held if an fd is spare, else closed."""
        if self._keep > 0:
            self.seen[name] = fd
            self._keep -= 1
        else:
            os.close(fd)

    def end(self) -> None:
        """The pass is over: close the files of processes gone from the listing, return the
        fds not used to the budget."""
        seen = self.seen
        keep = self._keep
        for name, fd in self.fds.items():
            if name not in seen:
                os.close(fd)
                keep += 1
        self.fds, self.seen, self._keep = seen, {}, 0
        if self.budget is not None and keep:
            self.budget.release_some(keep)
