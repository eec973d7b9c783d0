"""``--watch-all``: a pidfd for every listed process, best effort within the fd budget.

No Textual here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import partial

from pidtop.kernel.errors import HandleError
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.handle import Handle, Opener, ProcessHandle
from pidtop.kernel.watch import ExitEvent, Watcher
from pidtop.sampling.snapshot import ProcInfo, ProcKey


class WatchAll:
    """``--watch-all``: a pidfd for every listed process so any row is marked when it exits.

    Best effort: it never takes the budget's :attr:`FdBudget.spare_reserve`, and when a pin or
    a kill finds the budget full it gives one of its fds back (the newest watch). Processes
    that are pinned are not watched here (the pin holds their fd). ``opener`` is the pin set's
    (``--demo`` passes the script's: demo mode never opens a real process's pidfd).
    """

    def __init__(
        self,
        budget: FdBudget,
        on_exit: Callable[[ProcKey, ExitEvent], None],
        *,
        watcher: Watcher | None = None,
        opener: Opener | None = None,
    ) -> None:
        self.budget = budget
        self._on_exit = on_exit
        self._watcher = watcher if watcher is not None else Watcher()
        self._opener: Opener = opener if opener is not None else ProcessHandle.open
        self._handles: dict[ProcKey, Handle] = {}
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

    def sync(
        self,
        infos: Iterable[ProcInfo],
        skip: Callable[[ProcKey], bool],
        shown: Callable[[ProcKey], bool] | None = None,
    ) -> None:
        """Hold a handle for every listed process (threads excluded); drop the departed.

        An exit is remembered (``exited``, the ✕ mark) while ``shown(key)`` says its row is
        still on screen (a dying row stays one more sample), not only while it is listed."""
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
                handle = self._opener(info.pid, starttime=info.starttime, allow_exited=True)
            except HandleError:
                self.budget.release("watch")
                continue
            if handle.degraded:  # nothing to wait on: no point holding it
                handle.close()
                self.budget.release("watch")
                continue
            self._handles[key] = handle
            self._watcher.add(handle, partial(self._exited, key))
        for key in [k for k in self._handles if k not in listed]:
            self._drop(key)
        for key in [k for k in self.exited if k not in listed]:
            if shown is None or not shown(key):
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
