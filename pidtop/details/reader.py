"""The real details source: everything about ONE process, read through its own /proc directory
(the details screen's data, :mod:`pidtop.details.model`).

No Textual. Identity: the process's ``/proc/PID`` directory is opened once per handle and
checked once against its pidfd (:class:`pidtop.kernel.procdir.ProcDir`, ``PIDFD-FACTS.md``
§15); every file after that (stat, status, cmdline, environ, io, statm, smaps_rollup, limits,
cgroup, ns/, task/, fd/, net/) is read *through that fd*, so it is that process's or fails with
ESRCH once it is reaped, even after its PID went to another process. A read that finds it gone
is thrown away (:meth:`ProcDetails.read` returns None: the screen keeps the previous data,
marked stale); a part that fails alone says ``exited``. Data of a recycled PID is never
returned, and no check before and after each read is needed.

Two figures have no /proc file and are asked of the kernel by PID: the I/O priority
(``ioprio_get``) and the parent chain (display only, each ancestor's own stat). The I/O
priority is kept only if the pidfd is still not reaped after the call (the PID was the
process's throughout).

Each part fails on its own: a part that cannot be read is an :class:`Unavailable` with the
reason (``permission denied``, ``exited``...), never an exception.
"""

from __future__ import annotations

import contextlib
import errno
import os
import time
from collections.abc import Callable
from typing import Any, TypeVar

from pidtop.details.model import (
    NAMESPACES,
    Ancestor,
    Cgroup,
    Details,
    IoCounters,
    Memory,
    Namespace,
    ThreadRow,
    Unavailable,
)
from pidtop.details.procparse import (
    kv_numbers,
    parse_argv,
    parse_cpu_list,
    parse_environ,
    parse_limits,
    parse_status_ids,
    scheduling,
    status_field,
)
from pidtop.kernel.errors import ProcessGone
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import CLK_TCK, format_identity, starttime_to_wall
from pidtop.kernel.ioprio import IOPRIO_CLASSES, ioprio_get
from pidtop.kernel.procdir import ProcDir
from pidtop.kernel.stat import PF_KTHREAD, StatFields, parse_stat
from pidtop.sampling.extras import cgroup_owner
from pidtop.sampling.fmt import sanitize

T = TypeVar("T")

#: parent chain: at most this many ancestors
MAX_PARENTS = 32
#: threads listed (the busiest first); the count is always the real one
MAX_THREADS = 64


def _reason(e: BaseException) -> str:
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, FileNotFoundError):  # through the dir fd: the file is not there
        return "not available"
    if isinstance(e, ProcessLookupError):  # through the dir fd: the process was reaped
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
    except (OSError, ValueError, IndexError, KeyError) as e:
        return Unavailable(_reason(e))


# --------------------------------------------------------------------------- helpers


def _link(d: ProcDir, name: str) -> tuple[str, bool]:
    """readlink, sanitised, with the kernel's `` (deleted)`` suffix split off."""
    target = d.readlink(name)
    deleted = target.endswith(" (deleted)")
    if deleted:
        target = target[: -len(" (deleted)")]
    return sanitize(target), deleted


def _read_stat(path: str) -> StatFields:
    with open(path, "rb") as f:
        return parse_stat(f.read())


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
    """The real :class:`DetailsSource`: /proc read through the process's own directory fd."""

    def __init__(self) -> None:
        self._own_ns = _own_namespaces()
        #: the directory of the last handle read (one fd: the screens show one process)
        self._dir: tuple[ProcessHandle, ProcDir] | None = None
        self._page = os.sysconf("SC_PAGE_SIZE")

    def open(self, pid: int, starttime: int | None) -> ProcessHandle:
        return ProcessHandle.open(pid, starttime=starttime, allow_exited=True)

    def _procdir(self, handle: ProcessHandle) -> ProcDir:
        """``handle``'s /proc directory, opened and checked once (ProcessGone if it is no
        longer there), then reused for every read of that handle."""
        held = self._dir
        if held is not None and held[0] is handle and not handle.closed:
            return held[1]
        self.close()
        if handle.closed:
            raise ProcessGone(handle.pid, "has exited (data thrown away)")
        d = ProcDir.open(handle)
        self._dir = (handle, d)
        return d

    def close(self) -> None:
        """Release the held directory fd."""
        held, self._dir = self._dir, None
        if held is not None:
            held[1].close()

    def read(
        self, handle: ProcessHandle, previous: Details | None, *, full_memory: bool = False
    ) -> Details | None:
        try:
            return self._read(handle, self._procdir(handle), previous, full_memory)
        except (ProcessGone, ProcessLookupError):  # reaped: its files say ESRCH
            return None

    def environ(self, handle: ProcessHandle) -> dict[str, str] | Unavailable:
        try:
            d = self._procdir(handle)
        except ProcessGone:
            return Unavailable("exited")
        return part(lambda: parse_environ(d.read("environ")))

    def files(self, handle: ProcessHandle, first: int | None = None) -> list[Any] | Unavailable:
        from pidtop.details.openfiles import read_fds

        try:
            d = self._procdir(handle)
        except ProcessGone:
            return Unavailable("exited")
        return part(lambda: read_fds(d, first))

    def complete_files(self, handle: ProcessHandle, rows: list[Any]) -> list[Any] | Unavailable:
        from pidtop.details.openfiles import complete_fds

        try:
            d = self._procdir(handle)
        except ProcessGone:
            return Unavailable("exited")
        return part(lambda: complete_fds(d, rows))

    # -- the read itself (every file through the process's directory fd)

    def _read(self, handle: ProcessHandle, d: ProcDir, prev: Details | None, full: bool) -> Details:
        pid = handle.pid
        mono, wall = time.monotonic(), time.time()
        if prev is not None and (prev.pid != pid or prev.starttime != handle.starttime):
            prev = None
        raw_stat = d.read("stat")  # ESRCH here: gone, the read is thrown away
        stat = parse_stat(raw_stat)
        ticks = stat.utime + stat.stime
        starttime = stat.starttime
        kernel = bool(stat.flags & PF_KTHREAD)
        policy, rt_priority = scheduling(raw_stat)
        dt = mono - prev.read_mono if prev is not None else 0.0
        cpu = 100.0 * (ticks - prev.cpu_ticks) / CLK_TCK / dt if prev and dt > 0 else None
        status = part(lambda: d.text("status"))
        argv: tuple[str, ...] | Unavailable = part(lambda: parse_argv(d.read("cmdline")))
        exe: tuple[str, bool] | Unavailable = Unavailable("none (kernel thread)")
        if not kernel:
            exe = part(lambda: _link(d, "exe"))
        cwd = part(lambda: _link(d, "cwd"))

        def from_status(read: Callable[[str], T]) -> T | Unavailable:
            return status if isinstance(status, Unavailable) else part(lambda: read(status))

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
            creds=from_status(parse_status_ids),
            state=stat.state,
            start_wall=starttime_to_wall(starttime),
            age=max(0.0, time.clock_gettime(time.CLOCK_BOOTTIME) - starttime / CLK_TCK),
            nice=stat.nice,
            priority=stat.priority,
            policy=policy,
            rt_priority=rt_priority,
            cpu=cpu,
            cpu_ticks=ticks,
            affinity=from_status(lambda t: parse_cpu_list(status_field(t, "Cpus_allowed_list"))),
            ionice=part(lambda: self._ionice(handle)),
            num_threads=stat.num_threads,
            threads=part(lambda: self._threads(d, prev, dt)),
            memory=part(lambda: self._memory(d)),
            full_memory=part(lambda: self._full_memory(d)) if full else None,
            io=part(lambda: self._io(d, prev, dt)),
            cgroup=part(lambda: self._cgroup(d)),
            namespaces=part(lambda: self._namespaces(d)),
            limits=part(lambda: parse_limits(d.text("limits"))),
            num_fds=part(lambda: len(d.listdir("fd"))),
            kernel_thread=kernel,
        )

    @staticmethod
    def _threads(d: ProcDir, prev: Details | None, dt: float) -> tuple[ThreadRow, ...]:
        before: dict[int, int] = {}
        if prev is not None and isinstance(prev.threads, tuple):
            before = {t.tid: t.ticks for t in prev.threads}
        rows = []
        for name in d.listdir("task"):
            try:
                s = parse_stat(d.read(f"task/{name}/stat"))
            except FileNotFoundError:
                continue  # that thread ended meanwhile
            except (ValueError, IndexError):
                continue
            ticks = s.utime + s.stime
            old = before.get(s.pid)
            cpu = 100.0 * (ticks - old) / CLK_TCK / dt if old is not None and dt > 0 else None
            comm = sanitize(s.comm_raw.decode("utf-8", "replace"))
            rows.append(ThreadRow(s.pid, comm, s.state, cpu, ticks, s.processor))
        rows.sort(key=lambda t: (-(t.cpu or 0.0), -t.ticks, t.tid))
        return tuple(rows[:MAX_THREADS])

    @staticmethod
    def _io(d: ProcDir, prev: Details | None, dt: float) -> IoCounters:
        c = kv_numbers(d.text("io"))
        io = IoCounters(
            c["read_bytes"], c["write_bytes"], c["rchar"], c["wchar"], c["syscr"], c["syscw"]
        )
        if prev is not None and isinstance(prev.io, IoCounters) and dt > 0:
            io = io._replace(
                read_rate=max(0.0, (io.read_bytes - prev.io.read_bytes) / dt),
                write_rate=max(0.0, (io.write_bytes - prev.io.write_bytes) / dt),
            )
        return io

    def _memory(self, d: ProcDir) -> Memory:
        size, resident, shared = (int(v) for v in d.read("statm").split()[:3])
        return Memory(resident * self._page, size * self._page, shared * self._page)

    def _full_memory(self, d: ProcDir) -> Memory:
        """With USS, PSS and swap from ``smaps_rollup`` (expensive: on request only)."""
        m = self._memory(d)
        r = kv_numbers(d.text("smaps_rollup"))
        uss = r["Private_Clean"] + r["Private_Dirty"] + r.get("Private_Hugetlb", 0)
        return m._replace(uss=uss, pss=r["Pss"], swap=r.get("Swap", 0))

    @staticmethod
    def _ionice(handle: ProcessHandle) -> tuple[str, int]:
        """``ioprio_get`` by PID (no /proc file has it): kept only if the process still held
        its PID after the call."""
        cls, value = ioprio_get(handle.pid)
        if handle.state() == "reaped":
            raise ProcessLookupError(errno.ESRCH, "exited")
        return IOPRIO_CLASSES.get(cls, str(cls)), value

    @staticmethod
    def _cgroup(d: ProcDir) -> Cgroup:
        text = d.text("cgroup")
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

    def _namespaces(self, d: ProcDir) -> tuple[Namespace, ...]:
        out: list[Namespace] = []
        for name in NAMESPACES:
            try:
                ino: int | None = d.stat(f"ns/{name}").st_ino
            except FileNotFoundError:
                continue  # this kernel has no such namespace type
            except PermissionError:
                if not out:
                    raise
                ino = None
            out.append(Namespace(name, ino, ino is not None and ino == self._own_ns.get(name)))
        return tuple(out)


__all__ = [
    "ProcDetails",
    "ancestors",
    "parse_limits",
    "parse_status_ids",
    "part",
]
