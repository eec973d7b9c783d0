"""The exit journal's state machine: proc-connector events in, records out, decided by timestamps.

One thing: decide which kernel events are a process's end, and what it was called.

Per process a small record from its fork (parent, fork timestamp, user; the parent's name, which
is its own until it execs). Names are read, never inherited across an exec: at EXEC the reader
thread reads ``/proc/PID/stat`` and ``cmdline`` at once (:meth:`Tracker.capture`, before the
batch is processed); the read counts only if the start time matches the fork. A process gone
before that read keeps ``cmdline`` None and takes the name from its zombie's ``stat`` when that is
still there (read at once on its EXIT), else None — never its parent's name.

An EXIT with pid == tgid means the leader *thread* ended, not always the process
(``shared/PIDFD-FACTS.md`` §13). The tracker counts each process's tasks from the events: 1 at
its FORK, +1 per thread FORK, -1 per EXIT. The kernel sends a task's FORK before the task runs
and its EXIT only after it is dead, so the count is never below the tasks alive: a leader EXIT
counted as the last task is the process's end, recorded at once with no /proc read (the common
short process). The count is not known (None) for processes older than the journal, after an
EXEC by another thread than the only one, and after lost events (a sequence gap, a socket
overflow: a lost thread FORK would hide a live thread). Otherwise the exit is **pending** until
proven:

- an EXEC of that process with a later timestamp cancels it (a thread's execve ended the old
  leader), whichever arrives first and in whichever read;
- a later exit of one of its threads, or ``/proc/PID`` with the same start time and a live task,
  shows the process lives on (a leader that called ``pthread_exit``); its real end is the last
  exit of its group, whose status is recorded;
- ``/proc`` showing it gone, reused or a zombie with no live task, or a FORK reusing the PID,
  ends it. The /proc check is made right after the batch that brought the exit, then one more
  read of the socket: an EXEC sent before the check is in it. So a pending exit is recorded one
  batch later than a plain one (about 0.1 s: ``service.BATCH``); where /proc cannot tell, after
  :data:`PENDING_WAIT_NS` at most.

An EXIT older than the PID's latest FORK belongs to the previous holder of the PID (an autoreaped
process's PID can be reused before its EXIT is sent). The CLOCK_BOOTTIME - CLOCK_MONOTONIC and
wall-clock offsets are recomputed on every batch (a suspend moves them). Lifetimes come from the
events' own timestamps (ns); for processes older than the journal, from /proc start ticks.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

from pidtop.journal.connector import Comm, Event, Exec, Exit, Fork, Lost, Uid
from pidtop.journal.records import ExitRecord, LostRecord, Record, new_exit_record
from pidtop.kernel.identity import CLK_TCK
from pidtop.kernel.pidfdinfo import ExitStatus

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)

#: a pending leader exit that /proc cannot decide is recorded this long after it arrived
PENDING_WAIT_NS = 50_000_000
#: a process that lives on after its leader's exit is checked again this often (its last
#: thread's exit also triggers a check at once)
RECHECK_NS = 1_000_000_000
#: a previous PID holder whose exit never came is forgotten after this long
RETIRED_NS = 10_000_000_000
#: lifetimes computed from /proc start times are exact to one clock tick
TICK_S = 1.0 / CLK_TCK


# --------------------------------------------------------------------------- per-process state


class _Proc:
    """What is known about one live process until its exit."""

    __slots__ = ("cmdline", "comm", "exec_ns", "fork_ns", "ppid", "start_ticks", "tasks", "uid")

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
        self.exec_ns: int | None = None  # timestamp of its latest EXEC
        #: its live tasks (threads) as counted from the events; None: not known
        self.tasks: int | None = 1 if fork_ns is not None else None


class _Pending:
    """A leader's EXIT not yet proven to be the process's end."""

    __slots__ = ("arrived", "check_at", "exit", "last", "proc", "proven", "zombie_comm")

    def __init__(self, exit: Exit, proc: _Proc | None, arrived: int) -> None:
        self.exit = exit
        self.last = exit  # the group's latest exit (by timestamp): the process's real end
        self.proc = proc
        self.arrived = arrived  # clock ns when it was fed
        self.check_at = arrived  # when /proc is to be asked
        self.proven = False  # /proc said it ended (recorded at the next feed, unless cancelled)
        self.zombie_comm: str | None = None


class _Stat:
    __slots__ = ("comm", "ppid", "start", "state", "threads")

    def __init__(self, state: str, comm: str, start: int, ppid: int, threads: int) -> None:
        self.state, self.comm, self.start, self.ppid, self.threads = (
            state,
            comm,
            start,
            ppid,
            threads,
        )


def read_proc(pid: int, name: str, size: int = 65536) -> bytes:
    fd = os.open(f"/proc/{pid}/{name}", _O_RDONLY)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def _stat(pid: int) -> _Stat | None:
    """/proc/PID/stat's state, comm, start time, parent and thread count; None when gone."""
    try:
        data = read_proc(pid, "stat", 4096)
    except OSError:
        return None
    # only the fields needed, split once (parse_stat's full StatFields: 1.7 µs more a read,
    # made at every EXEC); comm may hold any byte, ")" too: it ends at the last ")"
    head, sep, tail = data.rpartition(b")")
    at = head.find(b" (")
    f = tail.split(None, 20)  # f[i] is field i + 3 (proc(5)); starttime is f[19]
    if not sep or at < 0 or len(f) < 20:
        return None
    try:
        start, ppid, threads = int(f[19]), int(f[1]), int(f[17])
    except ValueError:
        return None
    comm = sys.intern(head[at + 2 :].decode("utf-8", "replace"))
    return _Stat(f[0].decode("ascii", "replace"), comm, start, ppid, threads)


def read_uid(pid: int) -> int | None:
    """The real uid (``Uid:`` line of /proc/PID/status, first field); None when gone. The line
    is found, not every line split (the start's scan reads it for every process)."""
    try:
        data = read_proc(pid, "status", 8192)
    except OSError:
        return None
    at = data.find(b"\nUid:")
    if at < 0:
        return None
    with contextlib.suppress(IndexError, ValueError):
        return int(data[at + 5 : at + 40].split(None, 1)[0])
    return None


def argv_text(raw: bytes) -> str | None:
    """/proc/PID/cmdline as one line; None when empty (a zombie, a kernel thread). Interned:
    equal command lines (a program's workers) are one string, shared with the sampler's."""
    raw = raw.rstrip(b"\0")
    return sys.intern(raw.replace(b"\0", b" ").decode("utf-8", "replace")) if raw else None


def _boot_offset_ns() -> int:
    """CLOCK_BOOTTIME - CLOCK_MONOTONIC in ns (the time spent suspended)."""
    return time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def _wall_offset() -> float:
    """Wall clock - CLOCK_MONOTONIC in seconds (also moves across a suspend)."""
    return time.time() - time.monotonic()


# --------------------------------------------------------------------------- the tracker


class Tracker:
    """Turns proc-connector events into records (state machine plus best-effort /proc reads).

    ``read_proc`` False (tests of the decisions) never touches /proc: a pending exit is then
    recorded :data:`PENDING_WAIT_NS` after it arrived unless an event cancels it. ``clock``
    (CLOCK_MONOTONIC ns) is for those tests too.
    """

    def __init__(
        self, *, read_proc: bool = True, clock: Callable[[], int] = time.monotonic_ns
    ) -> None:
        self.procs: dict[int, _Proc] = {}
        self.read_proc = read_proc
        self.clock = clock
        #: pidtop's own probe children, not reported: PID -> exit event timestamp (ns) after
        #: which the PID means another process again (its exit event may have been lost)
        self.ignore: dict[int, int] = {}
        self.pending: dict[int, _Pending] = {}
        #: PID -> (previous holder, when retired): its FORK reusing the PID came before its EXIT
        self.retired: dict[int, tuple[_Proc, int]] = {}
        #: tgid -> (EXEC timestamp, stat, cmdline) read at once by the reader (:meth:`capture`)
        self._exec_reads: dict[int, tuple[int, _Stat | None, str | None]] = {}
        #: tgid -> (EXIT timestamp, stat) of a leader just exited: its zombie's own name
        self._exit_reads: dict[int, tuple[int, _Stat | None]] = {}
        #: tgid -> whether its name will be known once the captured events are fed (a FORK
        #: from a named parent, an EXEC read): its zombie then need not be read
        self._named: dict[int, bool] = {}
        #: events were lost since the last feed (a socket overflow): task counts not trusted
        self._distrust = False
        self._trust = True  # the task counts may decide exits in the batch being fed
        #: /proc reads made by :meth:`capture` (an EXEC's, a zombie's): whether a read helped
        self.proc_reads = 0
        self._uids: dict[int, int] = {}  # the uids read, each one int object
        self._wall_offset = _wall_offset()
        self._boot_ns = _boot_offset_ns()

    def scan(self) -> None:
        """Learn every process living now (after subscribing, so none falls in between).
        Equal names, command lines and parents read by the scan share one object (the many
        workers of one program, a parent's children: one copy, not one each)."""
        try:
            names = os.listdir("/proc")
        except OSError:
            return
        same: dict[Any, Any] = {}  # this scan's parent PIDs, each kept once (texts: interned)
        for name in names:
            if name.isdigit() and int(name) not in self.procs:
                self._learn(int(name), same)

    def _learn(self, pid: int, same: dict[Any, Any] | None = None) -> _Proc | None:
        """A process not seen forking (older than the journal): read what /proc has.
        ``same``: the scan's parent PIDs by value, to share equal ones (texts are interned)."""
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
        comm, ppid = st.comm, st.ppid
        if uid is not None:  # a handful of users: one int each
            uid = self._uids.setdefault(uid, uid)
        if same is not None:
            ppid = same.setdefault(ppid, ppid)
        proc = _Proc(ppid, None, st.start, uid, comm, cmdline)
        self.procs[pid] = proc
        return proc

    def _expected_ticks(self, fork_ns: int) -> int:
        return (fork_ns + self._boot_ns) * CLK_TCK // 1_000_000_000

    def _same(self, proc: _Proc | None, st: _Stat) -> bool:
        """Whether /proc's ``st`` describes ``proc`` (start times match; unknown: assumed)."""
        if proc is None:
            return True
        if proc.fork_ns is not None:
            return abs(st.start - self._expected_ticks(proc.fork_ns)) <= 1
        if proc.start_ticks is not None:
            return st.start == proc.start_ticks
        return True

    # -- reads made at once by the reader thread, before the batch is fed

    def capture(self, events: Sequence[Event]) -> None:
        """Read /proc at once for the EXECs (name, command line) and leader EXITs (the zombie's
        name, unless the name is known already) among ``events``, as they arrive; :meth:`feed`
        uses the reads later."""
        if not self.read_proc:
            return
        named = self._named
        for e in events:
            if type(e) is Exec:
                prior = self._exec_reads.get(e.tgid)
                if prior is not None and prior[0] == e.ts:
                    continue  # read already (the EXEC socket brought it first)
                try:
                    cmdline = argv_text(read_proc(e.tgid, "cmdline"))
                except OSError:
                    cmdline = None
                st = _stat(e.tgid)  # after cmdline
                self._exec_reads[e.tgid] = (e.ts, st, cmdline)
                named[e.tgid] = st is not None
                self.proc_reads += 1
            elif type(e) is Exit:
                if e.pid == e.tgid and not self._name_known(e.tgid):
                    self._exit_reads[e.tgid] = (e.ts, _stat(e.tgid))
                    self.proc_reads += 1
            elif type(e) is Fork and e.pid == e.tgid:  # its parent's name until it execs
                named[e.pid] = self._name_known(e.parent_tgid)

    def _name_known(self, tgid: int) -> bool:
        """Whether ``tgid`` will have a name once the captured events are fed."""
        known = self._named.get(tgid)
        if known is not None:
            return known
        proc = self.procs.get(tgid)
        return proc is not None and proc.comm is not None

    def distrust(self) -> None:
        """Events were lost (the socket overflowed): no task count decides an exit from the
        next batch on (see the module docstring)."""
        self._distrust = True

    # -- the batch

    def feed(self, events: list[Event]) -> list[Record]:
        """Process one batch (in arrival order, decided by timestamps); returns the new records:
        the batch's own and pending exits proven since (see the module docstring)."""
        self._boot_ns = _boot_offset_ns()
        self._wall_offset = _wall_offset()
        now = self.clock()
        out: list[Record] = []
        # pending exits proven by /proc before this batch was read: no cancelling EXEC came
        proven = [tgid for tgid, p in self.pending.items() if p.proven]
        later_exit: dict[int, int] | None = None  # leader EXITs by tgid, at the batch's first EXEC
        procs = self.procs
        self._trust = not self._distrust and not any(type(e) is Lost for e in events)
        if not self._trust:  # a lost thread FORK would hide a live thread
            for known in procs.values():
                known.tasks = None
        for event in events:
            if type(event) is Exit:
                self._on_exit(event, now, out)
            elif type(event) is Fork:
                self._on_fork(event, now, out)
            elif type(event) is Exec:
                if later_exit is None:
                    later_exit = {
                        e.tgid: e.ts for e in events if type(e) is Exit and e.pid == e.tgid
                    }
                self._on_exec(event, later_exit.get(event.tgid, -1) > event.ts)
            elif type(event) is Comm:
                if event.pid == event.tgid and (proc := procs.get(event.tgid)) is not None:
                    proc.comm = sys.intern(event.comm.decode("utf-8", "replace"))
            elif type(event) is Uid:
                if event.pid == event.tgid and (proc := procs.get(event.tgid)) is not None:
                    proc.uid = event.ruid
            elif type(event) is Lost:
                mono = now / 1e9
                out.append(LostRecord(mono + self._wall_offset, mono, event.events, event.overflow))
        for tgid in proven:
            p = self.pending.get(tgid)
            if p is not None and p.proven:
                self._finish(tgid, out)
        if not self.read_proc:
            for tgid, p in list(self.pending.items()):
                if now - p.arrived >= PENDING_WAIT_NS:
                    self._finish(tgid, out)
        self._exec_reads.clear()
        self._exit_reads.clear()
        self._named.clear()
        if not self._trust:  # the processes forked in this batch too
            for known in procs.values():
                known.tasks = None
            self._distrust = False
        if self.retired:
            for pid, (_, since) in list(self.retired.items()):
                if now - since > RETIRED_NS:
                    del self.retired[pid]
        return out

    def _on_exit(self, e: Exit, now: int, out: list[Record]) -> None:
        tgid = e.tgid
        if e.pid != tgid:  # a thread: the process ends with the last exit of its group
            proc = self.procs.get(tgid)
            if proc is not None and proc.tasks is not None:
                proc.tasks -= 1
            p = self.pending.get(tgid)
            if p is not None and e.ts > p.exit.ts:
                if e.ts > p.last.ts:
                    p.last = e
                p.check_at = now  # its last thread may have gone: ask /proc again now
                p.proven = False
            return
        if tgid in self.ignore and e.ts < self.ignore.pop(tgid):
            self.procs.pop(tgid, None)
            return
        proc = self.procs.get(tgid)
        if proc is not None and proc.fork_ns is not None and e.ts < proc.fork_ns:
            # older than the PID's latest fork: the previous holder's end
            old = self.retired.pop(tgid, None)
            out.append(self._record(e, old[0] if old else None, None))
            return
        if tgid in self.retired and self._holder_alive(tgid, proc):
            # the PID was reused before this EXIT was sent (an autoreaped process): the new
            # holder's leader runs, so this is the previous holder's end
            out.append(self._record(e, self.retired.pop(tgid)[0], None))
            return
        if proc is not None and proc.exec_ns is not None and e.ts < proc.exec_ns:
            return  # its EXEC came first: a thread's execve ended the old leader
        zombie_comm = None
        read = self._exit_reads.get(tgid)
        if read is not None and read[0] == e.ts and read[1] is not None:
            st = read[1]
            if st.state == "Z" and self._same(proc, st):
                zombie_comm = st.comm
        prior = self.pending.get(tgid)
        if prior is not None:  # a second leader exit: the first was this PID's previous end
            self._finish(tgid, out)
        elif proc is not None and proc.tasks == 1 and self._trust:
            # no other task of it alive (counted from the events): the process has ended
            if self.procs.get(tgid) is proc:
                del self.procs[tgid]
            out.append(self._record(e, proc, zombie_comm, pid=tgid))
            return
        if proc is not None and proc.tasks is not None:
            proc.tasks -= 1
        p = self.pending[tgid] = _Pending(e, proc, now)
        p.zombie_comm = zombie_comm

    def _holder_alive(self, pid: int, proc: _Proc | None) -> bool:
        if not self.read_proc:
            return False
        st = _stat(pid)
        return st is not None and st.state not in "ZX" and self._same(proc, st)

    def _on_fork(self, e: Fork, now: int, out: list[Record]) -> None:
        if e.pid != e.tgid:  # a new thread
            proc = self.procs.get(e.tgid)
            if proc is not None and proc.tasks is not None:
                proc.tasks += 1
            return
        pid = e.pid
        if pid in self.pending:  # the PID is reused: the pending process is over
            self._finish(pid, out)
        elif (old := self.procs.get(pid)) is not None and old.fork_ns != e.ts:
            self.retired[pid] = (old, now)  # its EXIT has not come yet
        parent = self.procs.get(e.parent_tgid) or self._learn(e.parent_tgid)
        if parent is None:
            self.procs[pid] = _Proc(e.parent_tgid, e.ts, None, None, None, None)
        else:  # until it execs, its parent's name and command line are its own
            self.procs[pid] = _Proc(
                e.parent_tgid, e.ts, None, parent.uid, parent.comm, parent.cmdline
            )

    def _on_exec(self, e: Exec, exits_in_batch: bool) -> None:
        tgid = e.tgid
        p = self.pending.get(tgid)
        if p is not None and e.ts > p.exit.ts:
            del self.pending[tgid]  # the leader's exit was a thread's execve: it lives on
        proc = self.procs.get(tgid)
        if proc is None:
            proc = self.procs[tgid] = _Proc(0, None, None, None, None, None)
        if proc.exec_ns is None or e.ts > proc.exec_ns:
            proc.exec_ns = e.ts
        if proc.tasks != 1:  # a thread's execve: the other tasks' EXITs may come after it
            proc.tasks = None
        proc.comm = proc.cmdline = None  # never the name from before the exec
        read = self._exec_reads.get(tgid)
        if read is not None and read[0] == e.ts:
            _, st, cmdline = read
        elif self.read_proc and not exits_in_batch:
            try:
                cmdline = argv_text(read_proc(tgid, "cmdline"))
            except OSError:
                cmdline = None
            st = _stat(tgid)
        else:  # already exited in this batch: the PID may be someone else's by now
            return
        if st is None or not self._same(proc, st):
            return  # gone before it could be read (or the PID is another's): marked, not guessed
        proc.comm = st.comm  # a zombie's too: its own name, set by the exec
        if st.state not in "ZX":
            proc.cmdline = cmdline
            proc.start_ticks = st.start

    # -- pending exits

    def check(self) -> bool:
        """Ask /proc about the pending exits that are due; True when one was proven ended
        (the caller reads the socket once more, then feeds: a cancelling EXEC sent before
        this check is in that read)."""
        if not self.read_proc or not self.pending:
            return False
        now = self.clock()
        any_proven = False
        for tgid, p in self.pending.items():
            if p.proven or now < p.check_at:
                continue
            st = _stat(tgid)
            if st is None or not self._same(p.proc, st):
                p.proven = True  # gone, or the PID is another's
            elif st.state in "ZX" and st.threads <= 1:
                p.proven = True  # a zombie with no live task
                if p.zombie_comm is None:
                    p.zombie_comm = st.comm
            else:  # a live task: the process lives on (pthread_exit, or an execve under way)
                p.check_at = now + RECHECK_NS
                continue
            any_proven = True
        return any_proven

    def next_due(self) -> float | None:
        """Seconds until a pending exit needs attention (None: none pending)."""
        if not self.pending:
            return None
        now = self.clock()
        if not self.read_proc:
            soonest = min(p.arrived for p in self.pending.values()) + PENDING_WAIT_NS
        else:
            soonest = min(p.check_at for p in self.pending.values())
        return max(0.0, (soonest - now) / 1e9)

    def flush(self) -> list[Record]:
        """Record every pending exit now (tests; not used while reading)."""
        out: list[Record] = []
        for tgid in list(self.pending):
            self._finish(tgid, out)
        return out

    def _finish(self, tgid: int, out: list[Record]) -> None:
        p = self.pending.pop(tgid)
        if self.procs.get(tgid) is p.proc:
            self.procs.pop(tgid, None)
        out.append(self._record(p.last, p.proc, p.zombie_comm, pid=tgid))

    def _record(
        self, event: Exit, proc: _Proc | None, zombie_comm: str | None, pid: int | None = None
    ) -> ExitRecord:
        mono = event.ts / 1e9
        lifetime = resolution = None
        uid = comm = cmdline = None
        if proc is not None:
            uid, comm, cmdline = proc.uid, proc.comm, proc.cmdline
            if proc.fork_ns is not None:
                lifetime = (event.ts - proc.fork_ns) / 1e9
            elif proc.start_ticks is not None:
                lifetime = max(0.0, (event.ts + self._boot_ns) / 1e9 - proc.start_ticks / CLK_TCK)
                resolution = TICK_S
        if comm is None:
            comm = zombie_comm
        return new_exit_record(
            mono + self._wall_offset,
            mono,
            event.tgid if pid is None else pid,
            event.parent_tgid or (proc.ppid if proc is not None else 0),
            uid,
            comm,
            cmdline,
            ExitStatus.from_wait_status(event.status),
            lifetime,
            resolution,
        )
