"""The exit journal's state machine: proc-connector events in, records out.

Per process a small record from its fork (parent, start timestamp, user, command inherited from
the parent), refreshed at its exec (``/proc/PID/stat`` and ``cmdline`` read at once, best
effort: a process already gone keeps ``cmdline`` None, never a guess) and dropped at its exit.
A /proc read is trusted only for the process the events describe: it is skipped when the batch
already holds that process's exit (the PID may be free or reused by then), and the start time
in ``/proc/PID/stat``, read *after* the command line, must match the fork's timestamp.
Exits of threads (pid != tgid) are not process exits. Lifetimes come from the events' own
timestamps (CLOCK_MONOTONIC ns).
"""

from __future__ import annotations

import contextlib
import os
import time

from pidtop.journal.connector import Comm, Event, Exec, Exit, Fork, Lost, Uid
from pidtop.journal.records import ExitRecord, LostRecord, Record
from pidtop.kernel.identity import CLK_TCK
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.kernel.stat import parse_stat

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


# --------------------------------------------------------------------------- per-process state


class _Proc:
    """What is known about one live process until its exit."""

    __slots__ = ("cmdline", "comm", "fork_ns", "ppid", "start_ticks", "uid")

    def __init__(
        self,
        ppid: int,
        fork_ns: int | None,
        start_ticks: int | None,
        uid: int | None,
        comm: str | None,
        cmdline: str | None,
    ) -> None:
        self.ppid = ppid  # the parent at fork (0: unknown)
        self.fork_ns = fork_ns  # CLOCK_MONOTONIC ns of the fork event
        self.start_ticks = start_ticks  # /proc/PID/stat starttime (boottime ticks)
        self.uid = uid
        self.comm = comm
        self.cmdline = cmdline


def read_proc(pid: int, name: str, size: int = 65536) -> bytes:
    fd = os.open(f"/proc/{pid}/{name}", _O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _stat(pid: int) -> tuple[str, str, int, int] | None:
    """(state, comm, starttime, ppid) from /proc/PID/stat; None when gone."""
    try:
        data = read_proc(pid, "stat", 4096)
    except OSError:
        return None
    try:
        stat = parse_stat(data)
    except (IndexError, ValueError):
        return None
    return stat.state, stat.comm_raw.decode("utf-8", "replace"), stat.starttime, stat.ppid


def read_uid(pid: int) -> int | None:
    try:
        data = read_proc(pid, "status", 8192)
    except OSError:
        return None
    for line in data.split(b"\n"):
        if line.startswith(b"Uid:"):
            with contextlib.suppress(IndexError, ValueError):
                return int(line.split()[1])
    return None


def argv_text(raw: bytes) -> str | None:
    """/proc/PID/cmdline as one line; None when empty (a zombie, a kernel thread)."""
    raw = raw.rstrip(b"\0")
    return raw.replace(b"\0", b" ").decode("utf-8", "replace") if raw else None


def _boot_offset_ns() -> int:
    """CLOCK_BOOTTIME - CLOCK_MONOTONIC in ns (the time spent suspended)."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)


# --------------------------------------------------------------------------- the tracker


class Tracker:
    """Turns proc-connector events into records (pure state machine plus best-effort /proc reads).

    ``read_proc`` False (tests of the decoding) never touches /proc.
    """

    def __init__(self, *, read_proc: bool = True) -> None:
        self.procs: dict[int, _Proc] = {}
        self.read_proc = read_proc
        #: pidtop's own probe children, not reported: PID -> exit event timestamp (ns) after
        #: which the PID means another process again (its exit event may have been lost)
        self.ignore: dict[int, int] = {}
        self._wall_offset = time.time() - time.monotonic()
        self._boot_ns = _boot_offset_ns()

    def scan(self) -> None:
        """Learn every process living now (after subscribing, so none falls in between)."""
        try:
            names = os.listdir("/proc")
        except OSError:
            return
        for name in names:
            if name.isdigit() and int(name) not in self.procs:
                self._learn(int(name))

    def _learn(self, pid: int) -> _Proc | None:
        """A process not seen forking (older than the journal): read what /proc has."""
        if not self.read_proc:
            return None
        try:
            cmdline = argv_text(read_proc(pid, "cmdline"))
        except OSError:
            cmdline = None
        uid = read_uid(pid)
        st = _stat(pid)
        if st is None:
            return None
        proc = _Proc(st[3], None, st[2], uid, st[1], cmdline)
        self.procs[pid] = proc
        return proc

    def _expected_ticks(self, fork_ns: int) -> int:
        return (fork_ns + self._boot_ns) * CLK_TCK // 1_000_000_000

    def _refresh(self, pid: int, proc: _Proc) -> None:
        """At exec: the new command line and comm, if /proc still shows this very process."""
        try:
            cmdline = argv_text(read_proc(pid, "cmdline"))
        except OSError:
            cmdline = None
        st = _stat(pid)
        if st is None or st[0] in "ZX":
            proc.cmdline = None  # gone before it could be read: marked, never guessed
            return
        if proc.fork_ns is not None and abs(st[2] - self._expected_ticks(proc.fork_ns)) > 1:
            proc.cmdline = None  # the PID already belongs to another process
            return
        proc.comm = st[1]
        proc.cmdline = cmdline
        proc.start_ticks = st[2]

    def _zombie(self, pid: int, proc: _Proc) -> None:
        """Exec'd and already exited: its command line is gone with its memory; its comm is
        still readable while it is a zombie (state Z, and the start time of this fork)."""
        proc.cmdline = proc.comm = None
        if not self.read_proc or proc.fork_ns is None:
            return
        st = _stat(pid)
        if st is not None and st[0] == "Z" and abs(st[2] - self._expected_ticks(proc.fork_ns)) <= 1:
            proc.comm = st[1]

    def feed(self, events: list[Event]) -> list[Record]:
        """Process one batch in order; returns the new records."""
        out: list[Record] = []
        last_exit: dict[int, int] = {}  # pid -> index of its (last) leader exit in the batch
        execs: dict[int, list[int]] = {}  # tgid -> indices of its execs
        for i, e in enumerate(events):
            if isinstance(e, Exit):
                if e.pid == e.tgid:
                    last_exit[e.pid] = i
            elif isinstance(e, Exec):
                execs.setdefault(e.tgid, []).append(i)
        procs = self.procs
        wall_offset = self._wall_offset
        for i, event in enumerate(events):
            if isinstance(event, Exit):
                if event.pid != event.tgid:
                    continue  # a thread, not the process
                if event.pid in execs and _exec_follows(events, i, event.pid, execs[event.pid]):
                    continue  # an exec from another thread killed the old leader: it lives on
                proc = procs.pop(event.pid, None)
                if event.pid in self.ignore and event.ts < self.ignore.pop(event.pid):
                    continue
                out.append(self._record(event, proc, wall_offset))
            elif isinstance(event, Fork):
                if event.pid != event.tgid:  # a new thread
                    continue
                ptgid = event.parent_tgid
                parent = procs.get(ptgid) or self._learn(ptgid)
                if parent is None:
                    procs[event.pid] = _Proc(ptgid, event.ts, None, None, None, None)
                else:
                    procs[event.pid] = _Proc(
                        ptgid, event.ts, None, parent.uid, parent.comm, parent.cmdline
                    )
            elif isinstance(event, Exec):
                proc = procs.get(event.tgid)
                if proc is None:
                    proc = procs[event.tgid] = _Proc(0, None, None, None, None, None)
                if last_exit.get(event.tgid, -1) > i:  # exec'd, then exited (or the PID did)
                    self._zombie(event.tgid, proc)
                elif self.read_proc:
                    self._refresh(event.tgid, proc)
            elif isinstance(event, Comm):
                if event.pid == event.tgid and (proc := procs.get(event.tgid)) is not None:
                    proc.comm = event.comm.decode("utf-8", "replace")
            elif isinstance(event, Uid):
                if event.pid == event.tgid and (proc := procs.get(event.tgid)) is not None:
                    proc.uid = event.ruid
            elif isinstance(event, Lost):
                mono = time.monotonic()
                out.append(LostRecord(mono + wall_offset, mono, event.events, event.overflow))
        return out

    def _record(self, event: Exit, proc: _Proc | None, wall_offset: float) -> ExitRecord:
        mono = event.ts / 1e9
        lifetime = None
        uid = comm = cmdline = None
        if proc is not None:
            uid, comm, cmdline = proc.uid, proc.comm, proc.cmdline
            if proc.fork_ns is not None:
                lifetime = (event.ts - proc.fork_ns) / 1e9
            elif proc.start_ticks is not None:
                lifetime = max(0.0, (event.ts + self._boot_ns) / 1e9 - proc.start_ticks / CLK_TCK)
        return ExitRecord(
            time=mono + wall_offset,
            monotonic=mono,
            pid=event.pid,
            ppid=event.parent_tgid or (proc.ppid if proc is not None else 0),
            uid=uid,
            comm=comm,
            cmdline=cmdline,
            status=ExitStatus.from_wait_status(event.status),
            lifetime_s=lifetime,
        )


def _exec_follows(events: list[Event], i: int, pid: int, execs: list[int]) -> bool:
    """Whether an exec of ``pid`` comes after index ``i`` with no fork of ``pid`` in between
    (a thread's execve kills the old leader, which reports an exit, then takes its PID)."""
    later = [j for j in execs if j > i]
    if not later:
        return False
    return not any(isinstance(e, Fork) and e.pid == pid for e in events[i + 1 : later[0]])
