"""The real details source: everything about ONE process, read through its verified handle
(the details screen's data, :mod:`pidtop.details.model`).

No Textual. psutil reads what it does well for a single process (environment, I/O counters,
CPU affinity, I/O priority, resource limits, memory incl. USS/PSS/swap, sockets); /proc is read
by hand only for what psutil lacks: the exe/cwd links with their ``(deleted)`` marker, thread
names and states, the cgroup path, namespaces and the fd table (:mod:`pidtop.details.openfiles`).

Identity: every read is bracketed by the handle. Before reading, the pidfd must not be reaped
and ``/proc/PID/stat``'s start time must be the handle's; after reading, the same checks run
again. While a process is not reaped it holds its PID, so everything read in between described
it; if a check fails the whole read is thrown away (:meth:`ProcDetails.read` returns None) and
the screen keeps the previous data, marked stale. Data from a recycled PID is never returned.

Each part fails on its own: a part that cannot be read is an :class:`Unavailable` with the
reason (``permission denied``, ``exited``...), never an exception.
"""

from __future__ import annotations

import contextlib
import errno
import grp
import os
import pwd
import resource
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from typing import Any, TypeVar

import psutil

from pidtop.details.model import (
    NAMESPACES,
    Ancestor,
    Cgroup,
    Credentials,
    Details,
    IoCounters,
    Limit,
    Memory,
    Namespace,
    Person,
    ThreadRow,
    Unavailable,
)
from pidtop.kernel.errors import HandleError, ProcessGone
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import CLK_TCK, format_identity, read_starttime, starttime_to_wall
from pidtop.kernel.stat import PF_KTHREAD, StatFields, parse_stat
from pidtop.sampling.extras import cgroup_owner
from pidtop.sampling.fmt import sanitize

T = TypeVar("T")

#: parent chain: at most this many ancestors
MAX_PARENTS = 32
#: threads listed (the busiest first); the count is always the real one
MAX_THREADS = 64

SCHED_POLICIES = {
    0: "SCHED_OTHER",
    1: "SCHED_FIFO",
    2: "SCHED_RR",
    3: "SCHED_BATCH",
    5: "SCHED_IDLE",
    6: "SCHED_DEADLINE",
}
IOPRIO_CLASSES = {0: "none", 1: "realtime", 2: "best-effort", 3: "idle"}
#: (resource constant name, shown name, unit)
LIMITS: tuple[tuple[str, str, str], ...] = (
    ("RLIMIT_CPU", "cpu time", "s"),
    ("RLIMIT_FSIZE", "file size", "bytes"),
    ("RLIMIT_DATA", "data", "bytes"),
    ("RLIMIT_STACK", "stack", "bytes"),
    ("RLIMIT_CORE", "core file", "bytes"),
    ("RLIMIT_RSS", "resident set", "bytes"),
    ("RLIMIT_NPROC", "processes", ""),
    ("RLIMIT_NOFILE", "open files", ""),
    ("RLIMIT_MEMLOCK", "locked memory", "bytes"),
    ("RLIMIT_AS", "address space", "bytes"),
    ("RLIMIT_LOCKS", "file locks", ""),
    ("RLIMIT_SIGPENDING", "pending signals", ""),
    ("RLIMIT_MSGQUEUE", "msgqueue size", "bytes"),
    ("RLIMIT_NICE", "nice ceiling", ""),
    ("RLIMIT_RTPRIO", "realtime priority", ""),
    ("RLIMIT_RTTIME", "realtime timeout", "us"),
)
UNLIMITED = resource.RLIM_INFINITY


def _reason(e: BaseException) -> str:
    if isinstance(e, psutil.AccessDenied | PermissionError):
        return "permission denied"
    if isinstance(e, psutil.ZombieProcess):
        return "exited (zombie)"
    if isinstance(e, FileNotFoundError):  # the process was verified alive after the read
        return "not available"
    if isinstance(e, psutil.NoSuchProcess | ProcessLookupError):
        return "exited"
    if isinstance(e, OSError):
        if e.errno in (errno.EPERM, errno.EACCES):
            return "permission denied"
        if e.errno == errno.ESRCH:
            return "exited"
        return e.strerror or str(e)
    return str(e) or type(e).__name__


def part(read: Callable[[], T]) -> T | Unavailable:
    """``read()``, or Unavailable with the reason it failed (never raises for the usual ones)."""
    try:
        return read()
    except (OSError, psutil.Error, ValueError, IndexError, KeyError) as e:
        return Unavailable(_reason(e))


# --------------------------------------------------------------------------- helpers


def _person(id_: int, group: bool) -> Person:
    try:
        name = grp.getgrgid(id_).gr_name if group else pwd.getpwuid(id_).pw_name
    except (KeyError, OverflowError):
        name = str(id_)
    return Person(id_, sanitize(name))


def parse_status_ids(text: str) -> Credentials:
    """Uid:, Gid: and Groups: lines of /proc/PID/status."""
    uids = gids = None
    groups: list[int] = []
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key == "Uid":
            uids = [int(v) for v in value.split()]
        elif key == "Gid":
            gids = [int(v) for v in value.split()]
        elif key == "Groups":
            groups = [int(v) for v in value.split()]
    if uids is None or gids is None or len(uids) < 4 or len(gids) < 4:
        raise ValueError("no Uid/Gid lines")
    return Credentials(
        (
            _person(uids[0], False),
            _person(uids[1], False),
            _person(uids[2], False),
            _person(uids[3], False),
        ),
        (
            _person(gids[0], True),
            _person(gids[1], True),
            _person(gids[2], True),
            _person(gids[3], True),
        ),
        tuple(_person(g, True) for g in groups),
    )


def _link(path: str) -> tuple[str, bool]:
    """readlink, sanitised, with the kernel's `` (deleted)`` suffix split off."""
    target = os.readlink(path)
    deleted = target.endswith(" (deleted)")
    if deleted:
        target = target[: -len(" (deleted)")]
    return sanitize(target), deleted


def _read_text(path: str) -> str:
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def _read_stat(path: str) -> StatFields:
    with open(path, "rb") as f:
        return parse_stat(f.read())


def _scheduling(pid: int) -> tuple[str, int]:
    """(policy, real-time priority): ``/proc/PID/stat`` fields 41 and 40, which the stat
    parser does not keep, from ``sched_getscheduler`` (without its reset-on-fork flag) and
    ``sched_getparam``; ``("?", 0)`` when they cannot be read."""
    try:
        policy = os.sched_getscheduler(pid) & ~os.SCHED_RESET_ON_FORK
        rt_priority = os.sched_getparam(pid).sched_priority
    except OSError:
        return "?", 0
    return SCHED_POLICIES.get(policy, f"policy {policy}"), rt_priority


def ancestors(ppid: int, limit: int = MAX_PARENTS) -> tuple[Ancestor, ...]:
    """The parent chain from ``ppid`` up to PID 1 (best effort: display data only; opening
    one re-verifies its start time)."""
    chain: list[Ancestor] = []
    pid = ppid
    while pid > 0 and len(chain) < limit:
        try:
            s = _read_stat(f"/proc/{pid}/stat")
        except (OSError, ValueError, IndexError):
            break
        chain.append(Ancestor(pid, s.starttime, sanitize(s.comm_raw.decode("utf-8", "replace"))))
        pid = s.ppid
    return tuple(chain)


def _own_namespaces() -> dict[str, int]:
    own: dict[str, int] = {}
    for name in NAMESPACES:
        with contextlib.suppress(OSError):
            own[name] = os.stat(f"/proc/self/ns/{name}").st_ino
    return own


# --------------------------------------------------------------------------- the real source


class ProcDetails:
    """The real :class:`DetailsSource`: /proc and psutil, bracketed by the pidfd."""

    def __init__(self) -> None:
        self._own_ns = _own_namespaces()

    def open(self, pid: int, starttime: int | None) -> ProcessHandle:
        return ProcessHandle.open(pid, starttime=starttime, allow_exited=True)

    @contextlib.contextmanager
    def _verified(self, handle: ProcessHandle) -> Iterator[None]:
        """Raise ProcessGone unless ``handle`` still names the process /proc/PID describes,
        before and after the reads inside the block."""
        self._check(handle)
        yield
        self._check(handle)

    @staticmethod
    def _check(handle: ProcessHandle) -> None:
        if handle.closed or handle.state() == "reaped":
            raise ProcessGone(handle.pid, "has exited (data thrown away)")
        try:
            seen = read_starttime(handle.pid)
        except HandleError as e:
            raise ProcessGone(handle.pid, str(e)) from None
        if handle.starttime is not None and seen != handle.starttime:
            raise ProcessGone(handle.pid, "is now another process (data thrown away)")

    def read(
        self, handle: ProcessHandle, previous: Details | None, *, full_memory: bool = False
    ) -> Details | None:
        try:
            with self._verified(handle):
                return self._read(handle, previous, full_memory)
        except ProcessGone:
            return None

    def environ(self, handle: ProcessHandle) -> dict[str, str] | Unavailable:
        try:
            with self._verified(handle):
                env = part(lambda: psutil.Process(handle.pid).environ())
        except ProcessGone:
            return Unavailable("exited")
        return env

    def files(self, handle: ProcessHandle) -> list[Any] | Unavailable:
        from pidtop.details.openfiles import read_fds

        try:
            with self._verified(handle):
                rows = part(lambda: read_fds(handle.pid))
        except ProcessGone:
            return Unavailable("exited")
        return rows

    # -- the read itself (between the two checks)

    def _read(self, handle: ProcessHandle, prev: Details | None, full: bool) -> Details:
        pid = handle.pid
        mono, wall = time.monotonic(), time.time()
        base = f"/proc/{pid}"
        if prev is not None and (prev.pid != pid or prev.starttime != handle.starttime):
            prev = None
        stat = _read_stat(f"{base}/stat")
        ticks = stat.utime + stat.stime
        starttime = stat.starttime
        kernel = bool(stat.flags & PF_KTHREAD)
        policy, rt_priority = _scheduling(pid)
        dt = mono - prev.read_mono if prev is not None else 0.0
        cpu = 100.0 * (ticks - prev.cpu_ticks) / CLK_TCK / dt if prev and dt > 0 else None
        proc = psutil.Process(pid)
        argv: tuple[str, ...] | Unavailable = part(
            lambda: tuple(sanitize(a) for a in proc.cmdline())
        )
        exe: tuple[str, bool] | Unavailable = Unavailable("none (kernel thread)")
        if not kernel:
            exe = part(lambda: _link(f"{base}/exe"))
        cwd = part(lambda: _link(f"{base}/cwd"))
        threads = part(lambda: self._threads(pid, prev, dt))
        io = part(lambda: self._io(proc, prev, dt))
        mem = part(lambda: self._memory(proc))
        return Details(
            pid=pid,
            inode=handle.inode,
            starttime=starttime,
            target=format_identity(handle.identity),
            read_at=wall,
            read_mono=mono,
            comm=sanitize(stat.comm_raw.decode("utf-8", "replace")),
            argv=argv,
            exe=exe[0] if isinstance(exe, tuple) else exe,
            exe_deleted=isinstance(exe, tuple) and exe[1],
            cwd=cwd[0] if isinstance(cwd, tuple) else cwd,
            cwd_deleted=isinstance(cwd, tuple) and cwd[1],
            ppid=stat.ppid,
            parents=ancestors(stat.ppid),
            creds=part(lambda: parse_status_ids(_read_text(f"{base}/status"))),
            state=stat.state,
            start_wall=starttime_to_wall(starttime),
            age=max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - starttime / CLK_TCK),
            nice=stat.nice,
            priority=stat.priority,
            policy=policy,
            rt_priority=rt_priority,
            cpu=cpu,
            cpu_ticks=ticks,
            affinity=part(lambda: tuple(proc.cpu_affinity())),
            ionice=part(lambda: self._ionice(proc)),
            num_threads=stat.num_threads,
            threads=threads,
            memory=mem,
            full_memory=part(lambda: self._full_memory(proc)) if full else None,
            io=io,
            cgroup=part(lambda: self._cgroup(base)),
            namespaces=part(lambda: self._namespaces(base)),
            limits=part(lambda: self._limits(proc, base)),
            num_fds=part(proc.num_fds),
            kernel_thread=kernel,
        )

    @staticmethod
    def _threads(pid: int, prev: Details | None, dt: float) -> tuple[ThreadRow, ...]:
        before: dict[int, int] = {}
        if prev is not None and isinstance(prev.threads, tuple):
            before = {t.tid: t.ticks for t in prev.threads}
        rows = []
        for name in os.listdir(f"/proc/{pid}/task"):
            try:
                s = _read_stat(f"/proc/{pid}/task/{name}/stat")
            except (OSError, ValueError, IndexError):
                continue  # that thread ended meanwhile
            ticks = s.utime + s.stime
            old = before.get(s.pid)
            cpu = 100.0 * (ticks - old) / CLK_TCK / dt if old is not None and dt > 0 else None
            comm = sanitize(s.comm_raw.decode("utf-8", "replace"))
            rows.append(ThreadRow(s.pid, comm, s.state, cpu, ticks, s.processor))
        rows.sort(key=lambda t: (-(t.cpu or 0.0), -t.ticks, t.tid))
        return tuple(rows[:MAX_THREADS])

    @staticmethod
    def _io(proc: psutil.Process, prev: Details | None, dt: float) -> IoCounters:
        c = proc.io_counters()
        io = IoCounters(
            c.read_bytes, c.write_bytes, c.read_chars, c.write_chars, c.read_count, c.write_count
        )
        if prev is not None and isinstance(prev.io, IoCounters) and dt > 0:
            io = replace(
                io,
                read_rate=max(0.0, (io.read_bytes - prev.io.read_bytes) / dt),
                write_rate=max(0.0, (io.write_bytes - prev.io.write_bytes) / dt),
            )
        return io

    @staticmethod
    def _memory(proc: psutil.Process) -> Memory:
        m = proc.memory_info()
        return Memory(m.rss, m.vms, m.shared)

    @staticmethod
    def _full_memory(proc: psutil.Process) -> Memory:
        m = proc.memory_full_info()  # reads smaps_rollup: expensive, on request only
        return Memory(m.rss, m.vms, m.shared, m.uss, m.pss, m.swap)

    @staticmethod
    def _ionice(proc: psutil.Process) -> tuple[str, int]:
        cls, value = proc.ionice()
        return IOPRIO_CLASSES.get(int(cls), str(int(cls))), int(value)

    @staticmethod
    def _cgroup(base: str) -> Cgroup:
        text = _read_text(f"{base}/cgroup")
        path = ""
        for line in text.splitlines():
            hier, _, rest = line.partition(":")
            controllers, _, p = rest.partition(":")
            if hier == "0" and controllers == "":  # cgroup v2
                path = p
                break
            if not path or "systemd" in controllers:
                path = p
        unit, container = cgroup_owner(path)
        return Cgroup(sanitize(path), unit and sanitize(unit), container and sanitize(container))

    def _namespaces(self, base: str) -> tuple[Namespace, ...]:
        out: list[Namespace] = []
        for name in NAMESPACES:
            try:
                ino: int | None = os.stat(f"{base}/ns/{name}").st_ino
            except FileNotFoundError:
                continue  # this kernel has no such namespace type
            except PermissionError:
                if not out:
                    raise
                ino = None
            out.append(Namespace(name, ino, ino is not None and ino == self._own_ns.get(name)))
        return tuple(out)

    @staticmethod
    def _limits(proc: psutil.Process, base: str) -> tuple[Limit, ...]:
        """prlimit(2) through psutil; it needs the same user (or CAP_SYS_RESOURCE), so else
        the world-readable /proc/PID/limits."""
        out = []
        try:
            for const, name, unit in LIMITS:
                res = getattr(psutil, const, None)
                if res is not None:
                    soft, hard = proc.rlimit(res)
                    out.append(Limit(name, soft, hard, unit))
        except psutil.AccessDenied:
            return parse_limits(_read_text(f"{base}/limits"))
        return tuple(out)


#: /proc/PID/limits row names -> the names LIMITS uses
_PROC_LIMITS = {
    "Max cpu time": 0,
    "Max file size": 1,
    "Max data size": 2,
    "Max stack size": 3,
    "Max core file size": 4,
    "Max resident set": 5,
    "Max processes": 6,
    "Max open files": 7,
    "Max locked memory": 8,
    "Max address space": 9,
    "Max file locks": 10,
    "Max pending signals": 11,
    "Max msgqueue size": 12,
    "Max nice priority": 13,
    "Max realtime priority": 14,
    "Max realtime timeout": 15,
}


def parse_limits(text: str) -> tuple[Limit, ...]:
    """/proc/PID/limits (fixed columns: name 26, soft 21, hard 21, units)."""
    out = []
    for line in text.splitlines()[1:]:
        index = _PROC_LIMITS.get(line[:26].strip())
        if index is None:
            continue
        _, name, unit = LIMITS[index]
        soft, hard = (line[26:47].strip(), line[47:68].strip())
        value = {"unlimited": UNLIMITED}
        out.append(Limit(name, value.get(soft) or int(soft), value.get(hard) or int(hard), unit))
    return tuple(out)


__all__ = ["ProcDetails", "ancestors", "parse_limits", "parse_status_ids", "part"]
