"""The freeze of a tree kill: every process of one or more trees opened, verified, stopped and
resumed together (:class:`TreeKill`), so that no fork escapes the signal that follows.

Each process is opened and verified like a pin (a :class:`ProcessHandle`, so a recycled PID is
never touched) and stopped with SIGSTOP through its pidfd; the children are then re-read
(``/proc/PID/task/TID/children`` for every thread, else one scan of /proc by parent), and this
repeats until a pass finds no new process and every stopped process has been *seen* stopped
(state T) before its children were read: a SIGSTOP does not cancel a fork already in progress,
but a process in state T has finished its forks and can start no other. Only a job-control stop
(``T``) found before pidtop's SIGSTOP is "stopped by someone else" and left as it is, re-read
each pass; a traced process (``t``: strace, gdb) is frozen like any other. The signals, the wait
for exit and the cgroup v2 plan go through the same members; the order of the steps is
:func:`pidtop.actions.treekill.kill_tree`'s. No Textual here.

Every exit path continues what a freeze stopped: leaving :class:`TreeKill` (an exception too),
and :func:`continue_stopped` -- called by a signal handler, the monitor's forced exit or a
ctrl+z, from any thread -- which SIGCONTs every process any tree kill in progress has stopped
and makes that tree kill end (:class:`FreezeAborted`) without sending anything more.
"""

from __future__ import annotations

import os
import select
import signal
import threading
import time
from typing import Literal

from pidtop.actions.treeresult import WORDS, CgroupPlan, Member
from pidtop.actions.treescan import (
    cgroup2_mount,
    cgroup_of,
    cgroup_procs,
    children_by_scan,
    children_of,
    has_children_files,
    read_stat,
)
from pidtop.kernel.errors import FdLimit, HandleError, ProcessGone
from pidtop.kernel.fdbudget import open_counted
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import Identity, format_identity
from pidtop.kernel.stat import StatFields, parse_stat

#: a freeze gives up after this many passes that found new processes (only processes it
#: cannot stop keep it going)
MAX_PASSES = 1000
#: seconds a freeze waits for the processes it stopped to be seen stopped (state T) when some
#: are in uninterruptible sleep (D), and how much longer while some are still runnable
STOP_WAIT = 2.0
STOP_WAIT_RUNNABLE = 30.0


#: the tree kills in progress (for :func:`continue_stopped`)
_active: set[TreeKill] = set()


class FreezeAborted(Exception):
    """:func:`continue_stopped` ended this tree kill: what it stopped runs again, nothing more
    is sent."""


def continue_stopped() -> int:
    """SIGCONT every process that a tree kill in progress has stopped, and end those tree kills
    (their thread raises :class:`FreezeAborted` at its next step). For every way out of pidtop
    (a signal, the forced exit, ctrl+z): safe from a signal handler and from another thread
    than the tree kill's. Returns how many processes were continued."""
    return sum(tk.abort() for tk in list(_active))


def _comm(stat: StatFields) -> str:
    return stat.comm_raw.decode("utf-8", "replace")


class FdAccount:
    """Where a tree kill's pidfds are counted (the monitor's fd budget); default: nowhere."""

    def acquire(self, what: str) -> None:
        """Raise :class:`FdLimit` if no fd may be taken."""

    def release(self) -> None:
        """Give one back."""


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
        self.aborted = False  # continue_stopped() was called: stop nothing, send nothing
        self.unheld: set[int] = set()  # descendants not opened: out of fds (not signalled)
        self.fd_problem = ""  # why (the FdLimit's text)
        self._closing = threading.Lock()  # held while the handles are closed
        _active.add(self)

    def abort(self) -> int:
        """Continue every member this freeze stopped and end the tree kill (see
        :func:`continue_stopped`); how many were continued. The owner thread may be stopping a
        member at this moment: it checks :attr:`aborted` after its SIGSTOP and continues it."""
        self.aborted = True
        if not self._closing.acquire(blocking=False):
            return 0  # being closed: resumed already (never a signal through a closed pidfd)
        try:
            n = 0
            for m in list(self.members):
                if m.stopped and not m.handle.closed:
                    m.stopped = False
                    m.final = False
                    m.handle.send_signal(signal.SIGCONT)
                    n += 1
            return n
        finally:
            self._closing.release()

    def check(self) -> None:
        """Raise :class:`FreezeAborted` if :func:`continue_stopped` was called."""
        if self.aborted:
            raise FreezeAborted("interrupted: the tree was continued, nothing more sent")

    # -- members

    def add_root(self, ident: Identity) -> Member:
        """Open and verify a root (PID, PID:INODE, or PID + start time). Raises HandleError."""
        if ident.pid == self._self:
            raise HandleError(f"PID {ident.pid} is pidtop itself")
        known = self._by_pid.get(ident.pid)
        if known is not None and known.handle.state() != "reaped":
            return known
        # a zombie root is accepted, as by `pidtop kill`: "already gone", its children were
        # reparented away before the kill began
        handle = open_counted(
            self._fds,
            f"tree kill {format_identity(ident)}",
            lambda: ProcessHandle.open(
                ident.pid, starttime=ident.starttime, inode=ident.inode, allow_exited=True
            ),
        )
        stat = read_stat(handle.pid)
        member = Member(handle, None, _comm(stat) if stat else "")
        member.threads = stat.num_threads if stat else 2
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
        stat = read_stat(pid)
        # The stat read describes the handle's process only if it still holds the PID (not
        # reaped) afterwards; its parent link is ours only if the parent still holds its PID.
        if (
            stat is None
            or stat.ppid != parent.pid
            or stat.starttime != handle.starttime
            or handle.state() != "running"
            or parent.handle.state() == "reaped"
        ):
            handle.close()
            self._fds.release()
            return None
        member = Member(handle, parent.pid, _comm(stat), threads=stat.num_threads)
        member.prestopped = stat.state == "T"  # job control; a traced ``t`` is frozen
        self._add(member)
        return member

    def _known(self, pid: int) -> bool:
        m = self._by_pid.get(pid)
        return m is not None and m.handle.state() != "reaped"

    # -- freeze / signal / resume

    def _stop(self, m: Member) -> None:
        """SIGSTOP ``m`` unless it is in a job-control stop (``T``) of someone else's -- read
        again each pass: continued meanwhile, it is frozen. A traced process (``t``) is stopped
        only until its tracer resumes it: it gets the SIGSTOP like any other."""
        self.check()
        stat = read_stat(m.pid)
        if stat is not None:
            m.threads = stat.num_threads
            m.prestopped = stat.state == "T"
            if m.prestopped:
                return
        res = m.handle.send_signal(signal.SIGSTOP)
        if res.outcome == "delivered":
            m.stopped = True
            if self.aborted:  # continue_stopped() ran while this SIGSTOP went out
                m.stopped = False
                m.handle.send_signal(signal.SIGCONT)
                self.check()
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
                    state = parse_stat(f.read()).state
            except (OSError, ValueError, IndexError):
                continue  # that thread is gone
            if state not in ("T", "t", "Z", "X"):
                settled = False
                m.stuck = m.stuck or state == "D"
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
            self.check()
            for m in self.members:
                idle = m.stopped or m.not_permitted  # a prestopped one is re-read
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
                    if self._known(pid) or pid in self.unheld:
                        continue
                    try:
                        if self._open_child(pid, parent) is not None:
                            found += 1
                    except FdLimit as e:  # freeze what is held; the rest is reported
                        self.unheld.add(pid)
                        self.fd_problem = str(e)
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
        self.check()
        counts: dict[str, int] = {}
        for m in self.members:
            if running_only and m.handle.state() != "running":
                continue
            res = m.handle.send_signal(sig)
            m.results.append(res)
            word = WORDS.get(res.outcome, "failed")
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
        ``cancel`` set, or :func:`continue_stopped`, ends the wait early (checked every 50 ms)."""
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
                if left <= 0 or (cancel is not None and cancel.is_set()) or self.aborted:
                    break
                # degraded handles (no pidfd), a cancel and an abort: checked every 50 ms
                wait = min(left, 0.05)
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
        _active.discard(self)
        with self._closing:
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
