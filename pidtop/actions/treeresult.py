"""What a tree kill holds and reports: each process of the tree (:class:`Member`), each signal
sent to it (:class:`Step`), the whole outcome (:class:`TreeResult`) and the cgroup v2 plan.

Plain data and the words of the summary line; the work is in :mod:`pidtop.actions.treefreeze`
and :mod:`pidtop.actions.treekill`. No Textual here.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import Identity, format_identity
from pidtop.kernel.pidfdinfo import SignalResult
from pidtop.kernel.signals import signal_name

#: a signal's outcome as the summary counts it
WORDS = {
    "delivered": "delivered",
    "exited_not_reaped": "already gone",
    "gone": "already gone",
    "not_permitted": "not permitted",
    "error": "failed",
}
_WORD_ORDER = ("delivered", "already gone", "not permitted", "failed")


@dataclass(slots=True)
class Member:
    """One process of the tree, held through a verified handle."""

    handle: ProcessHandle
    parent: int | None  # PID it was found under; None for a root
    command: str = ""
    listed: bool = True  # started before the freeze began (False: forked while freezing)
    prestopped: bool = False  # stopped by someone else: never stopped nor continued by us
    stopped: bool = False  # we sent SIGSTOP and owe it a SIGCONT
    final: bool = False  # seen stopped, then its children read: no new child until continued
    stuck: bool = False  # when last looked at, a thread was in uninterruptible sleep (D)
    not_permitted: bool = False
    threads: int = 1  # when last seen: a single-threaded process has one children list
    results: list[SignalResult] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.handle.pid

    @property
    def target(self) -> str:
        return format_identity(self.handle.identity)


@dataclass(slots=True)
class Step:
    """One signal sent to the tree (the first, then each ``--timeout`` step)."""

    signal: int
    after: float = 0.0  # seconds waited before it (escalation)
    new: int = 0  # processes found while freezing for this step
    counts: dict[str, int] = field(default_factory=dict)  # outcome word -> n

    def describe(self) -> str:
        when = f"after {round(self.after * 1000, 3):g} ms " if self.after else ""
        parts = [f"{self.counts[w]} {w}" for w in _WORD_ORDER if self.counts.get(w)]
        new = f" ({self.new} new)" if self.after and self.new else ""
        return f"{when}{signal_name(self.signal)}: {', '.join(parts) or 'nothing to signal'}{new}"


@dataclass(slots=True)
class TreeResult:
    """What a tree kill did, for the summary line, the notification and the event log."""

    roots: list[Member] = field(default_factory=list)
    members: list[Member] = field(default_factory=list)
    root_errors: list[tuple[Identity, HandleError]] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)
    found_while_freezing: int = 0
    freeze_seconds: float = 0.0
    method: str = "freeze"  # "freeze" or "cgroup.kill"
    cgroup: str | None = None  # the cgroup killed, or the one the tree lives in
    note: str = ""  # why cgroup.kill was not used, extra processes in the cgroup...
    skipped_self: bool = False  # pidtop itself is in the tree: left out
    cancelled: bool = False  # the remaining steps were dropped (``cancel`` set)
    unheld: int = 0  # descendants not signalled: out of fds (see ``note``)
    interrupted: bool = False  # continue_stopped() ended it: the tree continued, rest not sent

    def summary(self) -> str:
        """One line: processes, how many found while freezing, outcomes per step, method."""
        n = len(self.members)
        head = (
            f"{n} process{'es' if n != 1 else ''} "
            f"({self.found_while_freezing} found while freezing, "
            f"frozen in {self.freeze_seconds * 1000:.1f} ms)"
        )
        parts = [head, *(s.describe() for s in self.steps)]
        method = (
            self.method
            if self.cgroup is None or self.method != "cgroup.kill"
            else (f"cgroup.kill ({self.cgroup})")
        )
        parts.append(f"method: {method}")
        if self.skipped_self:
            parts.append("pidtop itself left out")
        if self.cancelled:
            parts.append("cancelled: later steps not sent")
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)

    def problems(self) -> Iterator[SignalResult]:
        """Results that were neither delivered nor 'already gone' (not permitted, errors)."""
        for m in self.members:
            for r in m.results:
                if r.outcome in ("not_permitted", "error"):
                    yield r
                    break


@dataclass(frozen=True, slots=True)
class CgroupPlan:
    """Whether (``directory``) and why not (``why``) to use ``cgroup.kill``; ``extra``: other
    processes in the cgroup."""

    directory: str | None
    path: str
    why: str
    extra: int = 0
    procs: frozenset[int] = frozenset()  # the cgroup's processes
