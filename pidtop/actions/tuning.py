"""Renice, I/O priority and CPU affinity through a verified process handle. No Textual.

``setpriority``, ``ioprio_set`` and ``sched_setaffinity`` take a PID, not a pidfd, so each call
is bracketed by the handle (:func:`bracket`):

1. before: the pidfd must still name a *running* process (not exited, not reaped) and
   ``/proc/PID/stat`` must show the handle's start time -- else nothing is called
   ("gone", or "is now another process" when the PID already belongs to a newcomer);
2. the call, by PID;
3. after: the pidfd is checked again. Still running (or exited but not reaped: it still held
   its PID) means the call reached our process. Reaped means it ended around the call; if the
   PID now shows another start time, the call may have reached the newcomer, and the result
   says so ("is now another process") instead of "done".

Residual window: between step 1 and the kernel resolving the PID in step 2 the process could
exit, be reaped *and* its PID be handed to a new process; step 3 detects and reports that but
cannot undo it. On Linux these calls act on the one thread the PID names: the thread-group
leader (like ``renice -p``, ``taskset -p`` and htop); threads started earlier keep their values.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from pidtop.actions.eventlog import EventLog
from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import format_identity, read_starttime
from pidtop.kernel.ioprio import IOPRIO_CLASSES, ioprio_get, ioprio_set

TuneOutcome = Literal["done", "not_permitted", "gone", "reused", "error"]
NICE_MIN, NICE_MAX = -20, 19
#: the I/O classes by name (``ionice``'s names)
IOPRIO = {name: number for number, name in IOPRIO_CLASSES.items()}


@dataclass(frozen=True, slots=True)
class TuneResult:
    """What one renice/ionice/affinity did to one process."""

    target: str  # PID:INODE
    action: str  # "nice 5", "I/O best-effort 4", "CPUs 0-1"
    outcome: TuneOutcome
    message: str = ""
    before: str = ""  # the value before (when read)
    after: str = ""  # the value read back after the call

    @property
    def ok(self) -> bool:
        return self.outcome == "done"

    def describe(self) -> str:
        match self.outcome:
            case "done":
                change = f" ({self.before} -> {self.after})" if self.before or self.after else ""
                return f"{self.target}: {self.action}: done{change}{self.message}"
            case "not_permitted":
                return f"{self.target}: {self.action}: not permitted{self.message}"
            case "gone":
                return f"{self.target}: {self.action}: gone{self.message}"
            case "reused":
                return f"{self.target}: {self.action}: is now another process{self.message}"
        return f"{self.target}: {self.action}: failed: {self.message}"


class _Handle(Protocol):
    pid: int
    starttime: int | None
    real: bool

    @property
    def identity(self) -> object: ...

    def state(self) -> str: ...


def _identity_now(handle: _Handle) -> Literal["same", "other", "none"]:
    """Does the PID name the handle's process ("same"), a newcomer ("other") or nothing?

    By pidfs inode when the handle has one (a new pidfd on the PID): start times collide for
    processes started within one clock tick. Else by /proc/PID/stat's start time.
    """
    inode = getattr(handle, "inode", None)
    if inode is not None:
        try:
            fd = os.pidfd_open(handle.pid)
        except OSError as e:
            if e.errno == errno.ESRCH:
                return "none"
        else:
            try:
                return "same" if os.fstat(fd).st_ino == inode else "other"
            finally:
                os.close(fd)
    try:
        seen = read_starttime(handle.pid)
    except HandleError:
        return "none"
    return "same" if handle.starttime is None or seen == handle.starttime else "other"


def preflight(handle: ProcessHandle | _Handle, action: str) -> TuneResult | None:
    """Step 1 of :func:`bracket`: None if ``handle`` still names a running process that holds
    its PID, else the refusal (nothing may be called by PID then)."""
    target = format_identity(handle.identity)  # type: ignore[arg-type]
    if not handle.real:  # a scripted (demo/test) handle has no real PID to call by
        return TuneResult(target, action, "error", "a scripted process: nothing changed")
    state = handle.state()
    if state != "running":
        if state == "reaped" and _identity_now(handle) == "other":
            return TuneResult(target, action, "reused", f"; PID {handle.pid} not changed")
        return TuneResult(target, action, "gone", " (already exited); nothing changed")
    if _identity_now(handle) != "same":
        return TuneResult(target, action, "reused", f"; PID {handle.pid} not changed")
    return None


def bracket(
    handle: ProcessHandle | _Handle,
    action: str,
    call: Callable[[int], tuple[str, str] | None],
) -> TuneResult:
    """Run ``call(pid)`` only while ``handle`` verifiably names that PID's process.

    ``call`` returns ``(before, after)`` value texts, or None to say nothing needed changing.
    OSErrors become outcomes; nothing is raised for the usual cases.
    """
    target = format_identity(handle.identity)  # type: ignore[arg-type]
    refused = preflight(handle, action)
    if refused is not None:
        return refused
    try:
        values = call(handle.pid)
    except OSError as e:
        if e.errno in (errno.EPERM, errno.EACCES):
            return TuneResult(target, action, "not_permitted")
        if e.errno == errno.ESRCH:
            return TuneResult(target, action, "gone", " (exited meanwhile)")
        return TuneResult(target, action, "error", f"[Errno {e.errno}] {e.strerror}")
    except ValueError as e:
        return TuneResult(target, action, "error", str(e))
    if handle.state() == "reaped":  # ended around the call: whom did the PID name?
        if _identity_now(handle) == "other":
            return TuneResult(
                target,
                action,
                "reused",
                f": PID {handle.pid} was reused during the call; the change may have "
                "reached the new process",
            )
        return TuneResult(target, action, "gone", " (exited during the call)")
    if values is None:
        return TuneResult(target, action, "done", " (nothing to change)")
    return TuneResult(target, action, "done", "", values[0], values[1])


# --------------------------------------------------------------------------- the three actions


def renice(handle: ProcessHandle | _Handle, delta: int) -> TuneResult:
    """Nice value ``+delta`` (clamped to -20..19). Lowering it needs privilege."""

    def call(pid: int) -> tuple[str, str] | None:
        old = os.getpriority(os.PRIO_PROCESS, pid)
        new = max(NICE_MIN, min(NICE_MAX, old + delta))
        if new == old:
            return None
        os.setpriority(os.PRIO_PROCESS, pid, new)
        return str(old), str(os.getpriority(os.PRIO_PROCESS, pid))

    return bracket(handle, f"nice {delta:+d}", call)


def set_nice(handle: ProcessHandle | _Handle, value: int) -> TuneResult:
    """Nice value ``value`` (-20..19)."""
    if not NICE_MIN <= value <= NICE_MAX:
        raise ValueError(f"nice {value} is out of range {NICE_MIN}..{NICE_MAX}")

    def call(pid: int) -> tuple[str, str]:
        old = os.getpriority(os.PRIO_PROCESS, pid)
        os.setpriority(os.PRIO_PROCESS, pid, value)
        return str(old), str(os.getpriority(os.PRIO_PROCESS, pid))

    return bracket(handle, f"nice {value}", call)


def ionice_text(ioclass: int, level: int) -> str:
    name = IOPRIO_CLASSES.get(ioclass, str(ioclass))
    return name if ioclass in (0, 3) else f"{name} {level}"


def set_ionice(handle: ProcessHandle | _Handle, ioclass: int, level: int = 4) -> TuneResult:
    """I/O scheduling class (0 none, 1 realtime, 2 best-effort, 3 idle) and level 0-7
    (levels only for realtime and best-effort). Realtime needs CAP_SYS_ADMIN."""
    if ioclass not in IOPRIO_CLASSES:
        raise ValueError(f"unknown I/O class {ioclass}")
    if not 0 <= level <= 7:
        raise ValueError(f"I/O priority level {level} is out of range 0..7")

    def call(pid: int) -> tuple[str, str]:
        old = ioprio_get(pid)
        ioprio_set(pid, ioclass, level)
        return ionice_text(*old), ionice_text(*ioprio_get(pid))

    return bracket(handle, f"I/O {ionice_text(ioclass, level)}", call)


def cpu_list_text(cpus: Iterable[int]) -> str:
    """``0-3,6`` (like /proc/PID/status Cpus_allowed_list)."""
    out: list[str] = []
    run: list[int] = []
    for c in sorted(set(cpus)):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [c]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def parse_cpu_list(text: str) -> set[int]:
    """``0-3,6`` -> {0,1,2,3,6}; ValueError on anything else."""
    cpus: set[int] = set()
    for piece in text.replace(" ", "").split(","):
        if not piece:
            continue
        lo, sep, hi = piece.partition("-")
        if not lo.isdigit() or (sep and not hi.isdigit()):
            raise ValueError(f"bad CPU list {text!r}: expected e.g. 0-3,6")
        a, b = int(lo), int(hi) if sep else int(lo)
        if b < a:
            raise ValueError(f"bad CPU range {piece!r}")
        cpus.update(range(a, b + 1))
    if not cpus:
        raise ValueError("no CPU given")
    return cpus


def set_affinity(handle: ProcessHandle | _Handle, cpus: Iterable[int]) -> TuneResult:
    """Allow the process on ``cpus`` only (sched_setaffinity)."""
    wanted = set(cpus)
    if not wanted:
        raise ValueError("no CPU given")

    def call(pid: int) -> tuple[str, str]:
        old = os.sched_getaffinity(pid)
        os.sched_setaffinity(pid, wanted)
        return cpu_list_text(old), cpu_list_text(os.sched_getaffinity(pid))

    return bracket(handle, f"CPUs {cpu_list_text(wanted)}", call)


def apply(
    handles: Sequence[tuple[ProcessHandle | _Handle, str]],
    fn: Callable[[ProcessHandle | _Handle], TuneResult],
    log: EventLog | None = None,
) -> list[TuneResult]:
    """``fn`` on each (handle, command); every result goes to ``log`` (kind ``tune``)."""
    results = []
    for handle, command in handles:
        res = fn(handle)
        if log is not None:
            log.add(
                "tune",
                res.target,
                f"{res.describe()} ({command})",
                ok=res.ok,
                action=res.action,
                outcome=res.outcome,
            )
        results.append(res)
    return results


_OUTCOME_WORDS = {
    "done": "done",
    "not_permitted": "not permitted",
    "gone": "gone",
    "reused": "now another process",
    "error": "failed",
}


def summary(results: Sequence[TuneResult]) -> str:
    """One line for a notification: the single result, or counts per outcome."""
    if len(results) == 1:
        return results[0].describe()
    counts: dict[str, int] = {}
    for r in results:
        word = _OUTCOME_WORDS[r.outcome]
        counts[word] = counts.get(word, 0) + 1
    action = results[0].action if results else ""
    parts = ", ".join(f"{n} {w}" for w, n in counts.items())
    return f"{action}: {parts} — see L for details"
