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
        self._opening: set[ProcKey] = set()  # planned, being opened (fd reserved)
        self._listed: set[ProcKey] = set()  # listed by the latest plan
        self._closed = False
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
        All at once, on the calling thread: :meth:`plan`, :meth:`open_all`, :meth:`adopt`.

        An exit is remembered (``exited``, the ✕ mark) while ``shown(key)`` says its row is
        still on screen (a dying row stays one more sample), not only while it is listed."""
        self.adopt(self.open_all(self.plan(infos, skip, shown)), skip)

    def plan(
        self,
        infos: Iterable[ProcInfo],
        skip: Callable[[ProcKey], bool],
        shown: Callable[[ProcKey], bool] | None = None,
    ) -> list[ProcInfo]:
        """The cheap half of :meth:`sync`, on the loop: drop the departed and the pinned,
        reserve an fd for each process to open, and return them. Opening them (thousands of
        ``pidfd_open`` at start: 0.3-0.6 s at 3,000 processes) is :meth:`open_all`'s, in a
        thread; :meth:`adopt` then installs the handles on the loop."""
        listed: set[ProcKey] = set()
        todo: list[ProcInfo] = []
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
            if key in self._handles or key in self.exited or key in self._opening:
                continue
            if not self.budget.acquire_spare("watch"):
                self.skipped += 1
                continue
            self._opening.add(key)
            todo.append(info)
        self._listed = listed
        for key in [k for k in self._handles if k not in listed]:
            self._drop(key)
        for key in [k for k in self.exited if k not in listed]:
            if shown is None or not shown(key):
                del self.exited[key]
        return todo

    def open_all(self, infos: list[ProcInfo]) -> list[tuple[ProcInfo, Handle | None]]:
        """Open a handle for each of ``infos`` (None: it could not be opened). Touches nothing
        of this object: safe in a thread while the loop goes on."""
        opened: list[tuple[ProcInfo, Handle | None]] = []
        for info in infos:
            try:
                handle = self._opener(info.pid, starttime=info.starttime, allow_exited=True)
            except HandleError:
                handle = None
            opened.append((info, handle))
        return opened

    def adopt(
        self, opened: list[tuple[ProcInfo, Handle | None]], skip: Callable[[ProcKey], bool]
    ) -> None:
        """Install what :meth:`open_all` opened, on the loop; each fd :meth:`plan` reserved
        is kept or given back (a process pinned or gone meanwhile, a degraded handle)."""
        for info, handle in opened:
            key = info.key
            self._opening.discard(key)
            keep = (
                handle is not None
                and not handle.degraded  # nothing to wait on: no point holding it
                and not self._closed
                and key in self._listed
                and key not in self._handles
                and not skip(key)
            )
            if not keep:
                if handle is not None:
                    handle.close()
                self.budget.release("watch")
                continue
            assert handle is not None
            self._handles[key] = handle
            self._watcher.add(handle, partial(self._exited, key))

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

    @property
    def opening(self) -> bool:
        """Handles planned and not adopted yet (an :meth:`open_all` under way)."""
        return bool(self._opening)

    def close(self) -> None:
        self._closed = True
        if self._give_back in self.budget.yielders:
            self.budget.yielders.remove(self._give_back)
        for key in list(self._handles):
            self._drop(key)
