"""Kill a whole process tree so that no fork escapes: freeze, then act.

A list-then-kill loop (htop's tagged kill) misses every child forked after the list was read.
Here each process of the tree is opened and verified like a pin (a :class:`ProcessHandle`, so a
recycled PID is never touched) and stopped with SIGSTOP through its pidfd; the children are then
re-read (``/proc/PID/task/TID/children`` for every thread, else one scan of /proc by parent), and
this repeats until a pass finds no new process and every stopped process has been *seen* stopped
(state T) before its children were read: a SIGSTOP does not cancel a fork already in progress, but
a process in state T has finished its forks and can start no other. Then the chosen
signal goes through each pidfd, then SIGCONT, so that a SIGTERM handler can run -- and so that an
aborted action (an exception, Ctrl-C) leaves nothing stopped.

Limits (stated in the README): a process that double-forks out of the tree before it is stopped is
no longer a descendant; processes of another user are "not permitted" and keep running (with their
children); a process already stopped by someone else keeps its state unless the signal kills it.
Where the tree is exactly a cgroup v2 that we may write, SIGKILL can go through ``cgroup.kill``
(Linux >= 5.14), which the kernel applies to the whole cgroup at once.

No Textual here: ``pidtop kill --tree`` and the monitor's picker share this code.
"""

from __future__ import annotations

import contextlib
import os
import select
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pidtop.kernel.errors import FdLimit, HandleError, ProcessGone
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import CLK_TCK, Identity, boottime_now, format_identity
from pidtop.kernel.pidfdinfo import SignalResult
from pidtop.kernel.signals import signal_name
from pidtop.sampling.snapshot import ProcInfo, ProcKey

Method = Literal["auto", "freeze", "cgroup"]
#: stop signals: sending SIGCONT after them would discard them (SIGSTOP itself is kept stopped)
_STOP_SIGNALS = frozenset({signal.SIGSTOP, signal.SIGTSTP, signal.SIGTTIN, signal.SIGTTOU})
#: signals that would end pidtop half-way through a freeze: held back until the tree runs again
_DEFERRED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
#: a freeze gives up after this many passes that found new processes (only processes it
#: cannot stop keep it going)
MAX_PASSES = 1000
#: seconds a freeze waits for the processes it stopped to be seen stopped (state T) when some
#: are in uninterruptible sleep (D), and how much longer while some are still runnable
STOP_WAIT = 2.0
STOP_WAIT_RUNNABLE = 30.0
_WORDS = {
    "delivered": "delivered",
    "exited_not_reaped": "already gone",
    "gone": "already gone",
    "not_permitted": "not permitted",
    "error": "failed",
}
_WORD_ORDER = ("delivered", "already gone", "not permitted", "failed")


# --------------------------------------------------------------------------- /proc


def _read_stat(pid: int) -> tuple[str, str, int, int, int] | None:
    """(comm, state, ppid, starttime, threads) of ``pid``, or None if it is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    head, _, rest = data.rpartition(b")")
    fields = rest.split()
    if len(fields) < 20:
        return None
    comm = head.partition(b"(")[2].decode("utf-8", "replace")
    return comm, fields[0].decode(), int(fields[1]), int(fields[19]), int(fields[17])


def has_children_files() -> bool:
    """Does this kernel have ``/proc/PID/task/TID/children`` (CONFIG_PROC_CHILDREN)?"""
    me = os.getpid()
    return os.path.exists(f"/proc/{me}/task/{me}/children")


def children_of(pid: int, *, threads: bool = True) -> list[int]:
    """Child PIDs of every thread of ``pid`` (empty if it is gone). ``threads=False`` reads the
    main thread's list only (enough for a single-threaded process, and 2-3x cheaper)."""
    if threads:
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            return []
    else:
        tids = [str(pid)]
    out: list[int] = []
    for tid in tids:
        try:
            with open(f"/proc/{pid}/task/{tid}/children", "rb") as f:
                out.extend(int(p) for p in f.read().split())
        except OSError:
            continue
    return out


def children_by_scan() -> dict[int, list[int]]:
    """One scan of /proc: parent PID -> child PIDs (the fallback without children files)."""
    out: dict[int, list[int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _read_stat(int(name))
            if stat is not None:
                out.setdefault(stat[2], []).append(int(name))
    return out


def listed_descendants(infos: Iterable[ProcInfo], roots: Iterable[ProcKey]) -> list[ProcInfo]:
    """The descendants of ``roots`` among listed processes (a table's rows), roots excluded:
    what the monitor shows as "whole tree (N processes)" before the kill finds the real tree.
    Processes only (not threads); a child started before its parent is a recycled PID."""
    children: dict[int, list[ProcInfo]] = {}
    by_key: dict[ProcKey, ProcInfo] = {}
    for info in infos:
        if not info.is_thread:
            children.setdefault(info.ppid, []).append(info)
            by_key[info.key] = info
    seen = set(roots)
    stack = [by_key[k] for k in seen if k in by_key]
    out: list[ProcInfo] = []
    while stack:
        parent = stack.pop()
        for child in children.get(parent.pid, ()):
            if child.key not in seen and child.starttime >= parent.starttime:
                seen.add(child.key)
                out.append(child)
                stack.append(child)
    return out


# --------------------------------------------------------------------------- cgroup v2


def cgroup2_mount() -> str | None:
    """Where the cgroup v2 hierarchy is mounted (``/sys/fs/cgroup``, or ``.../unified`` on a
    hybrid system), or None."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="replace") as f:
            for line in f:
                left, _, right = line.partition(" - ")
                parts = left.split()
                if right.split()[:1] == ["cgroup2"] and len(parts) > 4 and parts[3] == "/":
                    return parts[4]
    except OSError:
        pass
    return None


def cgroup_of(pid: int) -> str | None:
    """The cgroup v2 path of ``pid`` (``/system.slice/x.service``), or None."""
    try:
        with open(f"/proc/{pid}/cgroup", encoding="utf-8", errors="replace") as f:
            for line in f:
                if line.startswith("0::"):
                    return line[3:].rstrip("\n")
    except OSError:
        pass
    return None


def cgroup_procs(directory: str) -> set[int]:
    """Every process in the cgroup at ``directory`` and its descendant cgroups."""
    out: set[int] = set()
    for root, _dirs, files in os.walk(directory):
        if "cgroup.procs" in files:
            try:
                with open(os.path.join(root, "cgroup.procs"), "rb") as f:
                    out.update(int(p) for p in f.read().split())
            except OSError:
                continue
    return out


# --------------------------------------------------------------------------- members


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


class FdAccount:
    """Where a tree kill's pidfds are counted (the monitor's fd budget); default: nowhere."""

    def acquire(self, what: str) -> None:
        """Raise :class:`FdLimit` if no fd may be taken."""

    def release(self) -> None:
        """Give one back."""


@contextlib.contextmanager
def _deferred_signals() -> Iterator[None]:
    """Hold back Ctrl-C, SIGTERM, SIGHUP, SIGQUIT while the tree is stopped (main thread only):
    they arrive once the tree runs again, so pidtop never dies leaving it stopped."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, _DEFERRED)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class TreeKill:
    """The processes of one or more trees, frozen, signalled and resumed together.

    Use as a context manager: leaving it continues whatever it stopped and closes the handles,
    whatever happened (exception, KeyboardInterrupt).
    """

    def __init__(
        self,
        *,
        scan: Literal["auto", "children", "proc"] = "auto",
        fds: FdAccount | None = None,
        self_pid: int | None = None,
    ) -> None:
        self._by_pid: dict[int, Member] = {}
        self.members: list[Member] = []
        self.roots: list[Member] = []
        self._children_files = has_children_files() if scan == "auto" else scan == "children"
        self._fds = fds if fds is not None else FdAccount()
        self._self = os.getpid() if self_pid is None else self_pid
        self.skipped_self = False
        self.unsettled = 0  # stopped processes not seen stopped in time (taken as they were)

    # -- members

    def add_root(self, ident: Identity) -> Member:
        """Open and verify a root (PID, PID:INODE, or PID + start time). Raises HandleError."""
        if ident.pid == self._self:
            raise HandleError(f"PID {ident.pid} is pidtop itself")
        known = self._by_pid.get(ident.pid)
        if known is not None and known.handle.state() != "reaped":
            return known
        self._fds.acquire(f"tree kill {format_identity(ident)}")
        try:
            # a zombie root is accepted, as by `pidtop kill`: "already gone", its children
            # were reparented away before the kill began
            handle = ProcessHandle.open(
                ident.pid, starttime=ident.starttime, inode=ident.inode, allow_exited=True
            )
        except BaseException:
            self._fds.release()
            raise
        stat = _read_stat(handle.pid)
        member = Member(handle, None, stat[0] if stat else "")
        member.threads = stat[4] if stat else 2
        self._add(member)
        self.roots.append(member)
        return member

    def _add(self, member: Member) -> None:
        self._by_pid[member.pid] = member
        self.members.append(member)

    def _open_child(self, pid: int, parent: Member) -> Member | None:
        """Open ``pid``, found among ``parent``'s children; None if it is not (or no longer)
        that child: gone, a zombie, or its PID reused by a process of another parent."""
        if pid == self._self:
            self.skipped_self = True
            return None
        self._fds.acquire(f"tree kill {pid}")
        try:
            handle = ProcessHandle.open(pid)
        except ProcessGone:
            self._fds.release()
            return None
        except FdLimit:
            self._fds.release()
            raise
        except HandleError:
            self._fds.release()
            return None
        except BaseException:
            self._fds.release()
            raise
        stat = _read_stat(pid)
        # The stat read describes the handle's process only if it still holds the PID (not
        # reaped) afterwards; its parent link is ours only if the parent still holds its PID.
        if (
            stat is None
            or stat[2] != parent.pid
            or stat[3] != handle.starttime
            or handle.state() != "running"
            or parent.handle.state() == "reaped"
        ):
            handle.close()
            self._fds.release()
            return None
        member = Member(handle, parent.pid, stat[0], threads=stat[4])
        member.prestopped = stat[1] in ("T", "t")
        self._add(member)
        return member

    def _known(self, pid: int) -> bool:
        m = self._by_pid.get(pid)
        return m is not None and m.handle.state() != "reaped"

    # -- freeze / signal / resume

    def _stop(self, m: Member) -> None:
        stat = _read_stat(m.pid)
        if stat is not None:
            m.threads = stat[4]
            if stat[1] in ("T", "t") and not m.stopped:
                m.prestopped = True  # stopped (or traced) by someone else: left as it is
                return
        res = m.handle.send_signal(signal.SIGSTOP)
        if res.outcome == "delivered":
            m.stopped = True
        elif res.outcome == "not_permitted":
            m.not_permitted = True

    def _settled(self, m: Member) -> bool:
        """Has ``m`` really stopped: every thread in state T (or exited)? Only then has every
        fork it had started completed, so its children lists are final. (A SIGSTOP does not
        cancel a fork in progress: copy_process checks for pending signals when it starts, and
        a signal arriving later cancels it only if fatal; signals sent to several processes
        are delayed until after it. The child is linked when the fork completes, before the
        parent stops.)
        Remembers in ``m.stuck`` whether a thread is in uninterruptible sleep (D)."""
        m.stuck = False
        try:
            tids = os.listdir(f"/proc/{m.pid}/task")
        except OSError:
            return True  # gone
        settled = True
        for tid in tids:
            try:
                with open(f"/proc/{m.pid}/task/{tid}/stat", "rb") as f:
                    state = f.read().rpartition(b")")[2].split()[0]
            except (OSError, IndexError):
                continue  # that thread is gone
            if state not in (b"T", b"t", b"Z", b"X"):
                settled = False
                m.stuck = m.stuck or state == b"D"
        return settled

    def freeze(self, stop_wait: float = STOP_WAIT) -> int:
        """Stop every member and every descendant; returns how many processes it added.

        Each pass stops the members not stopped yet and reads the children of those not final.
        A stopped member becomes final once it was seen stopped (:meth:`_settled`) before its
        children were read. It ends when a pass finds no new process, every member is final
        (or ``stop_wait`` seconds passed waiting for that: a process stuck in the kernel), and
        one more pass over all members (children that appeared under a final parent:
        CLONE_PARENT, or a read that raced an exit) finds nothing either.
        """
        added = 0
        full = False
        deadline: float | None = None
        late = False  # stop_wait is over: members not seen stopped are taken as they are
        growing = 0  # passes that found new processes
        while growing < MAX_PASSES:
            for m in self.members:
                idle = m.stopped or m.prestopped or m.not_permitted
                if not idle and m.handle.state() == "running":
                    self._stop(m)
            parents: list[tuple[Member, bool]] = []
            for m in self.members:
                if (m.final and not full) or m.handle.state() == "reaped":
                    continue
                settled = m.stopped and not m.final and (late or self._settled(m))
                parents.append((m, settled))
            found = 0
            scan = None if self._children_files else children_by_scan()  # after the states
            for parent, settled in parents:
                if scan is None:  # every thread's list when it counts, whatever it was
                    every = full or settled or parent.threads != 1
                    kids = children_of(parent.pid, threads=every)
                else:
                    kids = scan.get(parent.pid, [])
                for pid in kids:
                    if not self._known(pid) and self._open_child(pid, parent) is not None:
                        found += 1
                if settled:
                    parent.final = True
            added += found
            if found:
                growing += 1
                full = False
                continue
            waiting = [m for m in self.members if m.stopped and not m.final]
            waiting = [m for m in waiting if m.handle.state() == "running"]
            if waiting:
                # A runnable process reaches the stop as soon as it runs (however loaded the
                # machine): wait for it. One in uninterruptible sleep (D: a vfork parent, a
                # hung filesystem) may never: after stop_wait it is taken as it is.
                now = time.monotonic()
                deadline = now + stop_wait if deadline is None else deadline
                moving = any(not m.stuck for m in waiting)
                late = now >= deadline + (STOP_WAIT_RUNNABLE if moving else 0.0)
                if late:
                    self.unsettled = len(waiting)
                else:
                    select.poll().poll(1)  # let them reach the stop
                full = False
                continue
            if full:
                break
            full = True
        return added

    def send(self, sig: int, *, running_only: bool = False) -> dict[str, int]:
        """Send ``sig`` to every member through its pidfd; count the outcomes."""
        counts: dict[str, int] = {}
        for m in self.members:
            if running_only and m.handle.state() != "running":
                continue
            res = m.handle.send_signal(sig)
            m.results.append(res)
            word = _WORDS.get(res.outcome, "failed")
            counts[word] = counts.get(word, 0) + 1
        return counts

    def resume(self) -> None:
        """SIGCONT every member we stopped (never one stopped by someone else)."""
        for m in self.members:
            if m.stopped:
                m.stopped = False
                m.final = False
                if not m.handle.closed:
                    m.handle.send_signal(signal.SIGCONT)

    def wait(self, timeout: float, cancel: threading.Event | None = None) -> list[Member]:
        """Wait up to ``timeout`` s for every running member to exit; return those still running.
        ``cancel`` set ends the wait early (checked every 50 ms)."""
        alive = [m for m in self.members if m.handle.state() == "running"]
        deadline = time.monotonic() + timeout
        ep = select.epoll()
        try:
            by_fd: dict[int, Member] = {}
            for m in alive:
                fd = m.handle.fileno()
                if fd is not None:
                    ep.register(fd, select.EPOLLIN)
                    by_fd[fd] = m
            while alive:
                left = deadline - time.monotonic()
                if left <= 0 or (cancel is not None and cancel.is_set()):
                    break
                # degraded handles (no pidfd), and a cancel, are checked every 50 ms
                polled = len(by_fd) == len(alive) and cancel is None
                wait = left if polled else min(left, 0.05)
                for fd, _ev in ep.poll(wait):
                    ep.unregister(fd)
                    by_fd.pop(fd, None)
                alive = [m for m in alive if m.handle.state() == "running"]
        finally:
            ep.close()
        return alive

    # -- cgroup v2

    def tree_cgroup(self, *, whole: bool = False) -> CgroupPlan:
        """The cgroup v2 of the first root, if ``cgroup.kill`` may be used on it: the frozen
        members are exactly its processes (those of its descendant cgroups included), or with
        ``whole`` (``--method cgroup``) whatever else it holds -- but never pidtop itself."""
        mount = cgroup2_mount()
        if mount is None or not self.roots:
            return CgroupPlan(None, "", "no cgroup v2")
        path = cgroup_of(self.roots[0].pid)
        if not path or path == "/":
            return CgroupPlan(None, "", "the tree is in the root cgroup")
        directory = mount + path
        kill_file = os.path.join(directory, "cgroup.kill")
        if not os.path.exists(kill_file):
            return CgroupPlan(None, path, "no cgroup.kill (Linux < 5.14)")
        if not os.access(kill_file, os.W_OK):
            return CgroupPlan(None, path, f"cgroup {path} is not writable")
        alive = {m.pid for m in self.members if m.handle.state() == "running"}
        procs = cgroup_procs(directory)
        if self._self in procs:
            return CgroupPlan(None, path, f"pidtop itself is in cgroup {path}")
        extra = len(procs - alive)
        if not whole and extra:
            why = f"cgroup {path} holds {extra} other process(es), not signalled"
            return CgroupPlan(None, path, why, extra)
        if not whole and alive - procs:
            return CgroupPlan(None, path, f"the tree is not all in cgroup {path}")
        return CgroupPlan(directory, path, "", extra, frozenset(procs))

    def close(self) -> None:
        for m in self.members:
            if not m.handle.closed:
                m.handle.close()
                self._fds.release()

    def __enter__(self) -> TreeKill:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.resume()
        finally:
            self.close()


def kill_tree(
    roots: Sequence[Identity],
    sig: int = signal.SIGTERM,
    steps: Iterable[tuple[float, int]] = (),
    *,
    method: Method = "auto",
    scan: Literal["auto", "children", "proc"] = "auto",
    fds: FdAccount | None = None,
    on_roots: Callable[[TreeResult], None] | None = None,
    cancel: threading.Event | None = None,
) -> TreeResult:
    """Signal ``roots`` and all their descendants, including those forked meanwhile.

    Freeze (SIGSTOP through each verified pidfd, re-reading children until nothing new), send
    ``sig``, SIGCONT. Each ``(seconds, signal)`` step waits up to ``seconds`` for the tree to
    exit, then freezes again (children forked during the wait included) and sends ``signal`` to
    those still running. With SIGKILL and ``method`` auto or cgroup, a tree that is exactly a
    writable cgroup v2 is killed with ``cgroup.kill``. Blocking: call it off the UI loop.
    Roots that cannot be opened are reported in ``root_errors``; ``on_roots`` is called once
    they are all opened (before anything is stopped). ``cancel`` set during a step's wait
    drops the remaining steps (``result.cancelled``): nothing more is sent.
    """
    result = TreeResult()
    with TreeKill(scan=scan, fds=fds) as tk:
        for ident in roots:
            try:
                tk.add_root(ident)
            except FdLimit:
                raise
            except HandleError as e:
                result.root_errors.append((ident, e))
        result.roots = list(tk.roots)
        if on_roots is not None:
            on_roots(result)
        if not tk.roots:
            return result
        with _frozen(tk, sig):
            start = time.monotonic()
            started = int(boottime_now() * CLK_TCK)  # start times are in these ticks
            tk.freeze()
            result.freeze_seconds = time.monotonic() - start
            for m in tk.members:  # forked after the freeze began: a list would miss it
                m.listed = m.handle.starttime is None or m.handle.starttime <= started
            result.found_while_freezing = sum(1 for m in tk.members if not m.listed)
            step = Step(sig, new=len(tk.members))
            counts = _cgroup_step(tk, result, method) if sig == signal.SIGKILL else None
            step.counts = counts if counts is not None else _send_step(tk, sig)
            result.steps.append(step)
        for seconds, then in steps:
            if not tk.wait(seconds, cancel):
                break
            if cancel is not None and cancel.is_set():
                result.cancelled = True
                break
            with _frozen(tk, then):
                before = len(tk.members)
                tk.freeze()
                counts = _cgroup_step(tk, result, method) if then == signal.SIGKILL else None
                if counts is None:
                    counts = _send_step(tk, then, running_only=True)
                result.steps.append(Step(then, seconds, len(tk.members) - before, counts))
        result.members = list(tk.members)
        result.skipped_self = tk.skipped_self
        if tk.unsettled:
            late = f"{tk.unsettled} process(es) not seen stopped in time (uninterruptible sleep)"
            result.note = "; ".join(filter(None, [result.note, late]))
    return result


@contextlib.contextmanager
def _frozen(tk: TreeKill, sig: int) -> Iterator[None]:
    """Around one freeze and its signal: fatal signals to pidtop held back, and whatever the
    freeze stopped continued at the end, whatever happens (not after SIGSTOP: the user asked
    for a stopped tree, nothing is owed a SIGCONT then)."""
    with _deferred_signals():
        try:
            yield
        finally:
            if sig != signal.SIGSTOP:
                tk.resume()
            else:
                for m in tk.members:
                    m.stopped = False


def _send_step(tk: TreeKill, sig: int, *, running_only: bool = False) -> dict[str, int]:
    """The signal through each pidfd of the frozen tree."""
    if sig in _STOP_SIGNALS and sig != signal.SIGSTOP:
        tk.resume()  # a SIGCONT after a stop signal would discard it
    return tk.send(sig, running_only=running_only)


def _cgroup_step(tk: TreeKill, result: TreeResult, method: Method) -> dict[str, int] | None:
    """SIGKILL through cgroup.kill where ``method`` allows it: "auto" when the frozen tree is
    exactly a writable cgroup; "cgroup" on the tree's cgroup whatever else it holds (processes
    that escaped the tree by a double fork, say), then through each pidfd to any member outside
    it. None when not used (``result.note`` says why when it matters)."""
    if method == "freeze":
        return None
    plan = tk.tree_cgroup(whole=method == "cgroup")
    counts = _cgroup_kill(tk, plan) if plan.directory is not None else plan.why
    if isinstance(counts, str):
        if method == "cgroup" or plan.directory is not None or plan.extra:
            result.note = f"cgroup.kill not used: {counts}"
        return None
    result.cgroup = plan.path
    result.method = "cgroup.kill"
    if plan.extra:
        result.note = f"cgroup.kill also killed {plan.extra} other process(es) of {plan.path}"
    return counts


def _cgroup_kill(tk: TreeKill, plan: CgroupPlan) -> dict[str, int] | str:
    """Write ``1`` to ``cgroup.kill``: the kernel SIGKILLs every process of the cgroup; then
    SIGKILL through the pidfd of each member outside it. Returns the outcome counts, or why
    cgroup.kill failed (nothing was sent then)."""
    assert plan.directory is not None
    alive = [m for m in tk.members if m.handle.state() == "running"]
    try:
        with open(os.path.join(plan.directory, "cgroup.kill"), "w") as f:
            f.write("1")
    except OSError as e:
        return f"cgroup.kill failed: {e.strerror}"
    counts = {"delivered": 0}
    for m in alive:
        if m.pid in plan.procs:
            m.results.append(SignalResult(m.target, signal.SIGKILL, "delivered"))
            word = "delivered"
        else:
            res = m.handle.send_signal(signal.SIGKILL)
            m.results.append(res)
            word = _WORDS.get(res.outcome, "failed")
        counts[word] = counts.get(word, 0) + 1
    gone = len(tk.members) - len(alive)
    if gone:
        counts["already gone"] = counts.get("already gone", 0) + gone
    return counts
