"""What an action on processes is aimed at and what came of it: :class:`Target` (a process an
action aims at, through a pin's handle or one of its own), :class:`ActionResult`, the pending
:class:`Action` (an escalation with a signal still to come), why a kill should be confirmed
first (:func:`confirmation_reasons`) and a target's real argv for ``--log`` (:func:`read_argv`).

No Textual here: the monitor's kill (:class:`pidtop.actions.pins.PinSet`) and its UI use them.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from pidtop.actions import CONFIRM_OVER
from pidtop.actions.eventlog import Argv
from pidtop.kernel.fdbudget import FdHolder
from pidtop.kernel.handle import Handle
from pidtop.kernel.identity import format_identity
from pidtop.kernel.pidfdinfo import ReclaimResult, SignalResult
from pidtop.kernel.signals import signal_name
from pidtop.sampling.snapshot import ProcInfo, ProcKey

#: ``--log``: at most this many characters of a command's argv are written per entry
ARGV_CAP = 4096


def read_argv(pid: int, cap: int = ARGV_CAP) -> tuple[Argv, bool]:
    """The real argv of ``pid`` (for ``--log``): NUL-split /proc/PID/cmdline, bytes that are
    not UTF-8 kept as surrogate escapes (JSON writes them as ``\\udcXX``: nothing lost, no
    display cleaning). At most ``cap`` characters in all; returns (argv, truncated); the
    argv knows it was cut too (:class:`~pidtop.actions.eventlog.Argv`: every log line says so)."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read(cap + 1)
    except OSError:
        return Argv(), False
    truncated = len(raw) > cap
    raw = raw[:cap]
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    if not raw:
        return Argv(truncated=truncated), truncated
    args = (a.decode("utf-8", "surrogateescape") for a in raw.split(b"\0"))
    return Argv(args, truncated), truncated


def argv_data(argv: list[str], truncated: bool = False) -> dict[str, Any]:
    """``--log`` fields for a command: its real argv (once per line), capped."""
    data: dict[str, Any] = {"argv": argv}
    if truncated:
        data["argv_truncated"] = True
    return data


@dataclass(slots=True)
class Target:
    """A process an action is aimed at: a pin's handle (borrowed) or one of its own.

    ``owned`` handles (the cursor's temporary handle, an action's own references) are closed
    by :meth:`~pidtop.actions.pins.PinSet.release`; ``holder`` is the budget entry they give back.
    """

    handle: Handle
    key: ProcKey
    command: str
    info: ProcInfo | None = None
    owned: bool = False
    holder: FdHolder = "cursor"
    argv: list[str] = field(default_factory=list)

    @property
    def target(self) -> str:
        return format_identity(self.handle.identity)


@dataclass(slots=True)
class ActionResult:
    """What happened to one target in a kill/escalation."""

    target: Target
    results: list[SignalResult] = field(default_factory=list)
    reclaim: ReclaimResult | None = None


@dataclass(slots=True)
class Action:
    """An action in progress that holds its own references (see
    :meth:`~pidtop.actions.pins.PinSet.escalate`)."""

    targets: list[Target]
    then: int | None  # the signal still to come, None once sent (or none planned)
    due: float  # time.monotonic() when ``then`` goes out to those still running

    def describe(self) -> str:
        """``SIGKILL to 2 processes in 4 s``."""
        n = len(self.targets)
        what = signal_name(self.then) if self.then is not None else "nothing"
        left = max(0.0, self.due - time.monotonic())
        return f"{what} to {n} process{'es' if n != 1 else ''} in {left:.0f} s"


def confirmation_reasons(
    targets: Iterable[Target],
    *,
    self_pid: int | None = None,
    parent_pid: int | None = None,
    descendants: Sequence[ProcInfo] = (),
    over: int = CONFIRM_OVER,
) -> list[str]:
    """Why signalling ``targets`` should be confirmed first (empty: no need).

    ``descendants``: with a whole-tree kill, the targets' descendants as listed; they count
    towards the number of processes, and pidtop or its parent among them is said. More than
    ``over`` processes at once is one reason.
    """
    targets = list(targets)
    me = os.getpid() if self_pid is None else self_pid
    parent = os.getppid() if parent_pid is None else parent_pid
    reasons: list[str] = []
    for t in targets:
        pid = t.handle.pid
        if pid == 1:
            reasons.append(f"PID 1 ({t.command}) is the init process")
        elif pid == me:
            reasons.append(f"PID {pid} is pidtop itself")
        elif pid == parent:
            reasons.append(f"PID {pid} is pidtop's parent ({t.command})")
        elif t.info is not None and t.info.is_kernel_thread:
            reasons.append(f"PID {pid} is a kernel thread ({t.command})")
    for info in descendants:
        if info.pid == me:
            reasons.append(f"the tree holds pidtop itself (PID {me}; it is left out)")
        elif info.pid == parent:
            reasons.append(f"the tree holds pidtop's parent (PID {parent}, {info.command})")
    n = len(targets) + len(descendants)
    if n > over:
        reasons.append(f"{n} processes" + (" (the whole tree)" if descendants else ""))
    return reasons
