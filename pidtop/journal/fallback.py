"""The exit journal without the proc connector: pidfds on the processes listed every interval.

Used where the connector delivers nothing (a container's namespaces, an old kernel, a
sandbox). Every ``interval`` seconds /proc is listed and each new process is opened as a
:class:`~pidtop.kernel.handle.ProcessHandle` (pidfd, verified start time) with its command
captured at once; its pidfd is watched with epoll. An exit is noticed at once (POLLIN); its
status arrives with the reap (POLLHUP, ``PIDFD_INFO_EXIT``), waited for up to ``REAP_GRACE``
seconds, after which it is recorded as unknown. A process that starts and exits between two
listings is never seen: this mode is not complete, and the journal says so.
Without pidfds at all, a process whose PID vanished from the listing is recorded with an
unknown status at the next listing.

The pidfds come from the monitor's :class:`~pidtop.kernel.fdbudget.FdBudget` (holder
``"journal"``), best effort: they leave the budget's spare reserve free, and a pin that finds
the budget full takes one back (the newest watched process is let go). A process that finds
the budget full is not watched: counted in ``skipped`` and ``given_back``, said in the
journal's note. Without a budget (``pidtop journal``) the cap is the budget RLIMIT_NOFILE
would give.
"""

from __future__ import annotations

import contextlib
import os
import select
import threading
import time

from pidtop.journal.records import CORE_SIGNALS, ExitRecord, Record
from pidtop.journal.tracker import argv_text, read_proc, read_uid
from pidtop.kernel.errors import HandleError
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import CLK_TCK, boottime_now
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.kernel.stat import parse_stat
from pidtop.kernel.watch import REAP_GRACE


class _Held:
    __slots__ = ("cmdline", "comm", "exited_at", "handle", "ppid", "uid")

    def __init__(
        self,
        handle: ProcessHandle,
        ppid: int,
        comm: str | None,
        cmdline: str | None,
        uid: int | None,
    ) -> None:
        self.handle = handle
        self.ppid = ppid
        self.comm = comm
        self.cmdline = cmdline
        self.uid = uid
        self.exited_at: tuple[float, float, float] | None = None  # wall, monotonic, boottime


class PidfdFallback:
    """Exits of the processes seen in periodic /proc listings (see the module docstring)."""

    def __init__(self, interval: float = 1.0, budget: FdBudget | None = None) -> None:
        """``budget``: the monitor's, shared with pins (None: one of this process's own)."""
        self.interval = max(0.05, interval)
        self.skipped = 0  # processes not watched: fd budget full (at the last listing)
        self.given_back = 0  # watched processes let go so that a pin could have the fd
        self._ep = select.epoll()
        self._held: dict[int, _Held] = {}  # pid -> held process
        self._by_fd: dict[int, int] = {}  # pidfd -> pid
        self._next_scan = 0.0
        self._lock = threading.Lock()  # the budget's yielder runs on the UI loop
        self._budget = FdBudget() if budget is None else budget
        self._budget.journal_yielder = self._give_back

    def close(self) -> None:
        with self._lock:
            if self._budget.journal_yielder == self._give_back:
                self._budget.journal_yielder = None
            for held in self._held.values():
                self._let_go(held)
            self._held.clear()
            self._by_fd.clear()
            self._ep.close()

    def _let_go(self, held: _Held) -> None:
        counted = held.handle.fileno() is not None
        held.handle.close()
        if counted:
            self._budget.release("journal")

    def _give_back(self) -> bool:
        """The budget's yielder: let the newest watched process go (its exit is then not
        recorded); True if an fd was freed."""
        with self._lock:
            for pid in reversed(list(self._held)):
                held = self._held[pid]
                fd = held.handle.fileno()
                if fd is None or held.exited_at is not None:
                    continue
                del self._held[pid]
                self._by_fd.pop(fd, None)
                with contextlib.suppress(OSError, ValueError):
                    self._ep.unregister(fd)
                self._let_go(held)
                self.given_back += 1
                return True
        return False

    def pump(self, timeout: float, wake_fd: int | None = None) -> list[Record]:
        out: list[Record] = []
        now = time.monotonic()
        if now >= self._next_scan and timeout > 0:  # pump(0): only what is ready (a last drain)
            with self._lock:
                self._scan(out)
            self._next_scan = now + self.interval
        wait = max(0.0, min(timeout, self._next_scan - time.monotonic()))
        poller = self._ep
        if wake_fd is not None:
            with contextlib.suppress(FileExistsError):
                poller.register(wake_fd, select.EPOLLIN)
        try:
            ready = poller.poll(wait)
        except InterruptedError:
            ready = []
        with self._lock:
            for fd, events in ready:
                pid = self._by_fd.get(fd)
                if pid is None:  # the wake fd, or a process given back meanwhile
                    continue
                held = self._held[pid]
                if held.exited_at is None:
                    held.exited_at = (time.time(), time.monotonic(), boottime_now())
                if events & select.EPOLLHUP:
                    self._finish(pid, out)
                else:  # exited, not yet reaped: wait for the reap only (mask 0 reports HUP)
                    poller.modify(fd, 0)
            deadline = time.monotonic() - REAP_GRACE
            for pid, held in list(self._held.items()):
                if held.exited_at is not None and held.exited_at[1] < deadline:
                    self._finish(pid, out)
        return out

    def _scan(self, out: list[Record]) -> None:
        try:
            pids = {int(n) for n in os.listdir("/proc") if n.isdigit()}
        except OSError:
            return
        for pid, held in list(self._held.items()):
            if held.handle.degraded and pid not in pids:  # no pidfd: gone is all we know
                held.exited_at = (time.time(), time.monotonic(), boottime_now())
                self._finish(pid, out)
        me = os.getpid()
        skipped = 0
        for pid in pids:
            if pid in self._held or pid == me:
                continue
            if not self._budget.acquire_spare("exit journal", "journal"):
                skipped += 1  # the budget is full: pins and actions come first
                continue
            try:
                handle = ProcessHandle.open(pid)
            except HandleError:
                self._budget.release("journal")
                continue
            if handle.fileno() is None:  # degraded (no pidfd): holds no fd
                self._budget.release("journal")
            ppid, comm, cmdline = 0, None, None
            with contextlib.suppress(OSError, IndexError, ValueError):
                cmdline = argv_text(read_proc(pid, "cmdline"))
                stat = parse_stat(read_proc(pid, "stat", 4096))
                comm, ppid = stat.comm_raw.decode("utf-8", "replace"), stat.ppid
            held = _Held(handle, ppid, comm, cmdline, read_uid(pid))
            self._held[pid] = held
            fd = handle.fileno()
            if fd is not None:
                self._by_fd[fd] = pid
                self._ep.register(fd, select.EPOLLIN)
        self.skipped = skipped

    def _finish(self, pid: int, out: list[Record]) -> None:
        held = self._held.pop(pid)
        handle = held.handle
        fd = None if handle.degraded else handle.fileno()
        if fd is not None:
            self._by_fd.pop(fd, None)
            with contextlib.suppress(OSError):
                self._ep.unregister(fd)
        status = handle.exit_status()
        if not status.known and not handle.degraded and handle.state() != "reaped":
            status = ExitStatus.unknown("not reaped by its parent")
        wall, mono, boot = held.exited_at or (time.time(), time.monotonic(), boottime_now())
        lifetime = None
        if handle.starttime is not None:
            lifetime = max(0.0, boot - handle.starttime / CLK_TCK)
        out.append(
            ExitRecord(
                time=wall,
                monotonic=mono,
                pid=pid,
                ppid=held.ppid,
                uid=held.uid,
                comm=held.comm,
                cmdline=held.cmdline,
                status=status,
                lifetime_s=lifetime,
                lifetime_resolution_s=None if lifetime is None else 1.0 / CLK_TCK,
                inode=handle.inode,
                coredump_fact=handle.coredump() if status.signal in CORE_SIGNALS else "unknown",
            )
        )
        self._let_go(held)
