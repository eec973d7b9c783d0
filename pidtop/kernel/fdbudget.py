"""The fd budget: how many pidfds pidtop may hold under RLIMIT_NOFILE, and who holds them.

No Textual here. Pins, actions in progress, the cursor's temporary handle, ``--watch-all``, a
whole-tree kill in progress and the exit journal's fallback take their pidfds from one
:class:`FdBudget`; a refusal says who holds what, with the real numbers. The reserve for
everything that is not a pidfd scales with the limit.
"""

from __future__ import annotations

import resource
import threading
from collections.abc import Callable
from typing import Literal, Protocol, TypeVar

from pidtop.kernel.errors import FdLimit

#: who holds a budgeted pidfd: a pin, an action in progress (its own references: a kill's
#: escalation, a wait), the cursor's temporary handle of a kill, or ``--watch-all``
#: (``"tree"``: a whole-tree kill, from its worker thread; ``"journal"``: the exit journal's
#: pidfd fallback, from its reader thread, best effort like ``--watch-all``). The sampler's open
#: ``/proc/PID/stat`` files are counted apart (``stat_files``), the first given back.
FdHolder = Literal["pin", "action", "cursor", "watch", "tree", "journal"]
#: holders that never ask a yielder: they run off the UI loop, where the yielders act
_OFF_LOOP: tuple[FdHolder, ...] = ("watch", "tree", "journal")

#: at most this many fds are kept free for everything that is not a pidfd (terminal, /proc
#: reads, log file, epoll, ...): a quarter of RLIMIT_NOFILE, at least MIN_RESERVE
FD_RESERVE = 64
MIN_RESERVE = 16
#: ``--watch-all`` leaves at least this many fds of the budget (or 10 % of it, if more) free
#: for pins and the temporary handle of a kill.
WATCH_ALL_RESERVE = 8


def reserve_for(nofile: int) -> int:
    """Fds kept for non-pidfd use under RLIMIT_NOFILE ``nofile``: it scales with the limit
    (``ulimit -n 64`` used to leave a budget of 0 behind a fixed 64)."""
    return min(FD_RESERVE, max(MIN_RESERVE, nofile // 4))


def _soft_nofile() -> int:
    limit = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    return 1 << 20 if limit == resource.RLIM_INFINITY else limit


class FdBudget:
    """How many pidfds pidtop may hold: the soft RLIMIT_NOFILE minus a reserve.

    Counted per holder (:data:`FdHolder`) so a refusal says what holds the fds. Best-effort
    holders (``--watch-all``, the journal's fallback) take fds with :meth:`acquire_spare`,
    which leaves :attr:`spare_reserve` free, and register a *yielder*: when a pin or an action
    finds the budget full, a yielder is asked to give one fd back before the request is refused
    (the journal's first; it works in its own thread and locks). The
    cursor's temporary handle (holder ``"cursor"``) may always take one fd past the budget,
    from the reserve: signalling the process under the cursor always works.
    """

    def __init__(self, limit: int | None = None, reserve: int | None = None) -> None:
        """``limit`` is RLIMIT_NOFILE (default: the current soft limit); ``reserve`` defaults
        to :func:`reserve_for` of it."""
        self.nofile = _soft_nofile() if limit is None else limit
        self.reserve = reserve_for(self.nofile) if reserve is None else reserve
        self.limit = max(0, self.nofile - self.reserve)
        self.used = 0
        self.held: dict[FdHolder, int] = {
            "pin": 0, "action": 0, "cursor": 0, "watch": 0, "tree": 0, "journal": 0
        }  # fmt: skip
        #: the sampler's held /proc/PID/stat files (:meth:`acquire_some`), counted in ``used``
        self.stat_files = 0
        self._lock = threading.Lock()  # a tree kill counts from its worker thread
        self.yielders: list[Callable[[], bool]] = []  # each frees one fd if it can -> True
        #: the exit journal's fallback, asked first (its reader thread; it locks)
        self.journal_yielder: Callable[[], bool] | None = None

    @property
    def free(self) -> int:
        return max(0, self.limit - self.used)

    @property
    def spare_reserve(self) -> int:
        """What best-effort holders leave free: max(8, 10 % of the budget)."""
        return max(WATCH_ALL_RESERVE, self.limit // 10)

    def acquire(self, what: str, holder: FdHolder = "pin") -> None:
        """Take one fd from the budget or raise FdLimit saying why (and who holds them). A
        tree kill or the journal (other threads) asks no yielder: they act on the UI loop."""
        if self.used >= self.limit and holder not in _OFF_LOOP:
            journal = [self.journal_yielder] if self.journal_yielder is not None else []
            for give_back in journal + list(self.yielders):
                if give_back() and self.used < self.limit:
                    break
        with self._lock:
            over = holder == "cursor" and self.held["cursor"] == 0  # one fd from the reserve
            if self.used >= self.limit and not over:
                raise FdLimit(f"{what}: {self.exhausted()}")
            self.used += 1
            self.held[holder] += 1

    def exhausted(self) -> str:
        """Why nothing more can be held, with the real numbers."""
        source = f"RLIMIT_NOFILE {self.nofile} minus {self.reserve} kept for pidtop's other files"
        if self.limit == 0:
            return f"fd budget exhausted: no pidfd can be held ({source}); raise `ulimit -n`"
        return (
            f"fd budget exhausted ({self.describe()}; limit {self.limit} = {source}); "
            "unpin something or raise `ulimit -n`"
        )

    def acquire_spare(self, what: str, holder: FdHolder = "watch") -> bool:
        """Best effort (``--watch-all``, ``"journal"``): take one fd only if
        :attr:`spare_reserve` stays free."""
        with self._lock:  # the journal's thread and the UI loop both come here
            if self.free <= self.spare_reserve:
                return False
            self.used += 1
            self.held[holder] += 1
        return True

    @property
    def kept_for_pidfds(self) -> int:
        """What the sampler's held files leave free: half the budget (at least the spare
        reserve), so pins, ``--watch-all`` and the journal always find room."""
        return max(self.spare_reserve, self.limit // 2)

    def acquire_some(self, n: int) -> int:
        """Lowest priority, in bulk (the sampler's held ``/proc/PID/stat`` files): up to ``n``
        fds, leaving :attr:`kept_for_pidfds` free; returns how many were taken (maybe 0)."""
        with self._lock:
            k = max(0, min(n, self.free - self.kept_for_pidfds))
            self.used += k
            self.stat_files += k
        return k

    def owed(self) -> int:
        """How many fds the lowest-priority holder should give back now: others took what
        :meth:`acquire_some` left free."""
        return max(0, self.kept_for_pidfds - self.free)

    def release_some(self, n: int) -> None:
        """Give back ``n`` fds taken with :meth:`acquire_some`."""
        with self._lock:
            k = min(n, self.stat_files)
            self.stat_files -= k
            self.used -= k

    def release(self, holder: FdHolder = "pin") -> None:
        with self._lock:
            if self.held[holder] > 0:
                self.held[holder] -= 1
                self.used -= 1

    def describe(self) -> str:
        """Who holds the budget: ``"10 pins, 6 watched (--watch-all)"``."""
        h = self.held
        parts = [f"{h['pin']} pin{'s' if h['pin'] != 1 else ''}"]
        if h["action"]:
            parts.append(f"{h['action']} held by a kill or wait in progress")
        if h["cursor"]:
            parts.append(f"{h['cursor']} kept for a kill")
        if h["tree"]:
            parts.append(f"{h['tree']} held by a whole-tree kill")
        if h["journal"]:
            parts.append(f"{h['journal']} watched by the exit journal")
        if self.stat_files:
            parts.append(f"{self.stat_files} /proc files kept open by the sampler")
        if h["watch"] or self.yielders:
            parts.append(f"{h['watch']} watched (--watch-all)")
        return ", ".join(parts)


T = TypeVar("T")


class Account(Protocol):
    """Where one fd is taken and given back (the budget, a tree kill's account)."""

    def acquire(self, what: str) -> None: ...

    def release(self) -> None: ...


def open_counted(account: Account, what: str, opener: Callable[[], T]) -> T:
    """Take one fd from ``account`` (raises FdLimit when there is none), then ``opener()``;
    the fd is given back if opening fails, whatever it raises."""
    account.acquire(what)
    try:
        return opener()
    except BaseException:
        account.release()
        raise
