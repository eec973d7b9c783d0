"""The real ``ProcessSource``: reads /proc directly on the hot path.

Why hand-written /proc parsing (measured on the 2-core dev machine, ``benchmarks/sampler.py``):
psutil costs ~96 µs per process per sample with the fields we need (130-270 µs in
``STYLE.md`` on a loaded box), i.e. 100-300 ms per tick at 1,000 processes. One
``os.open``/``os.read``/``os.close`` of ``/proc/PID/stat`` costs ~6 µs (``open()`` ~10 µs),
parsing it with ``rpartition(b")")`` + ``split()`` ~0.8 µs. So per tick we do, per process:

* one read of ``/proc/PID/stat`` (relative to a ``/proc`` dir fd);
* if the bytes are identical to the previous tick's (an idle process), reuse the previous
  ``ProcInfo`` object as is: no parsing, no allocation, no ``statm`` (the table model then also
  skips its CPU maths with an ``is`` check);
* otherwise parse it, and read ``statm`` (~4 µs) for SHR;
* ``cmdline`` (~3 µs), the owner uid (``stat()`` of the directory, ~1.5 µs) and the user name
  only once per identity ``(pid, starttime)`` -- and again when ``comm`` changes (an ``execve``),
  on the second sighting (a process caught between ``fork`` and ``execve``) and while a read
  came back empty (caught inside ``execve``). A process that rewrites its own argv
  (setproctitle) keeps the title it had when first seen. An empty read never replaces a known
  command line, and a zombie's is never read (its memory is gone, it reads empty): a process
  keeps its last command line to the end, whenever its last sighting happens (an idle process's
  stat changes only at its death, which may well be its second sighting).

``/proc/PID/status`` is never read per tick. Caches are rebuilt every tick from the identities
seen, so dead identities are purged automatically.

All process text is decoded with ``errors="replace"`` and passed through ``fmt.sanitize`` (no
control characters, no terminal escapes), so ``ProcInfo.comm``/``cmdline`` are safe to print.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import time

from pidtop.process.fmt import sanitize
from pidtop.process.snapshot import ProcInfo, Snapshot, SystemInfo

__all__ = ["PF_KTHREAD", "ProcSampler", "parse_stat"]

#: ``flags`` (stat field 9) bit of kernel threads (include/linux/sched.h).
PF_KTHREAD = 0x00200000

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)
_MEMINFO_KEYS = frozenset(
    b"MemTotal MemFree Buffers Cached SReclaimable SwapTotal SwapFree SwapCached".split()
)
_VANISHED = (FileNotFoundError, ProcessLookupError)


class StatFields:
    """The per-tick fields of one ``/proc/PID/stat`` line (see ``parse_stat``)."""

    __slots__ = (
        "comm_raw",
        "flags",
        "nice",
        "num_threads",
        "pid",
        "ppid",
        "priority",
        "processor",
        "rss_pages",
        "starttime",
        "state",
        "stime",
        "utime",
        "vsize",
    )

    pid: int
    comm_raw: bytes
    state: str
    ppid: int
    flags: int
    utime: int
    stime: int
    priority: int
    nice: int
    num_threads: int
    starttime: int
    vsize: int
    rss_pages: int
    processor: int


def parse_stat(data: bytes) -> StatFields:
    """Parse one ``/proc/PID/stat`` line.

    ``comm`` (field 2) is in parentheses and may itself contain spaces, ``)``, newlines and any
    byte, so split at the *last* ``)``; everything after it is space-separated numbers.
    Raises ``ValueError`` on a malformed line.
    """
    head, sep, tail = data.rpartition(b")")
    pid_b, sep2, comm = head.partition(b" (")
    if not sep or not sep2:
        raise ValueError(f"malformed stat line: {data[:80]!r}")
    f = tail.split()  # f[i] is field i + 3 (1-based numbering of proc(5))
    s = StatFields()
    s.pid = int(pid_b)
    s.comm_raw = comm
    s.state = f[0].decode("ascii", "replace")
    s.ppid = int(f[1])
    s.flags = int(f[6])
    s.utime = int(f[11])
    s.stime = int(f[12])
    s.priority = int(f[15])
    s.nice = int(f[16])
    s.num_threads = int(f[17])
    s.starttime = int(f[19])
    s.vsize = int(f[20])
    s.rss_pages = int(f[21])
    s.processor = int(f[36]) if len(f) > 36 else -1
    return s


def _decode(raw: bytes) -> str:
    return sanitize(raw.decode("utf-8", "replace"))


def _argv_text(raw: bytes) -> str:
    """/proc/PID/cmdline as one line: NUL-separated argv (a trailing NUL is normal;
    setproctitle-style titles have none)."""
    return _decode(raw.rstrip(b"\0").replace(b"\0", b" "))


def read_command(pid: int) -> str:
    """What the COMMAND column shows for one process, read now (for ``--pin`` before any
    sample): the command line; ``[comm]`` for a kernel thread; the bare comm for a zombie."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            raw = f.read()
    except OSError:
        raw = b""
    if raw:
        return _argv_text(raw)
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return "?"
    comm = _decode(stat.comm_raw)
    return f"[{comm}]" if stat.flags & PF_KTHREAD else comm


class _Ident:
    """What is cached per identity (pid, starttime): owner, command line, decoded comm."""

    __slots__ = ("cmdline", "cmdline_pending", "comm", "comm_raw", "sightings", "uid", "user")

    def __init__(self) -> None:
        self.uid: int | None = None
        self.user = "-"
        self.cmdline = ""
        self.cmdline_pending = False  # the last read came back empty: read it again
        self.comm = ""
        self.comm_raw = b""
        self.sightings = 0


_Entry = tuple[bytes, ProcInfo, _Ident]


class ProcSampler:
    """Samples /proc. Not thread-safe: use one instance from one worker thread at a time."""

    #: reuse the previous ProcInfo when /proc/PID/stat is byte-identical (off: benchmarks only)
    _reuse = True

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc
        self.clk_tck = os.sysconf("SC_CLK_TCK")
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.ncpu = os.cpu_count() or 1
        self._dirfd = os.open(proc, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        # stat path (relative to /proc) -> (stat bytes, ProcInfo, identity cache) of the last
        # tick; rebuilt every tick, so entries of vanished processes are purged
        self._last: dict[str, _Entry] = {}
        self._users: dict[int, str] = {}
        self._cpu_prev: list[tuple[int, int]] | None = None
        self._boot_time = 0.0
        self._errors: list[str] = []

    def close(self) -> None:
        """Release the /proc directory fd."""
        if self._dirfd >= 0:
            os.close(self._dirfd)
            self._dirfd = -1

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    def now(self) -> float:
        """Wall-clock now (same clock as ``Snapshot.wall``)."""
        return time.time()

    # -- small readers -----------------------------------------------------------------------

    def _read(self, rel: str, size: int = 4096) -> bytes:
        fd = os.open(rel, _O_RDONLY, dir_fd=self._dirfd)
        try:
            return os.read(fd, size)
        finally:
            os.close(fd)

    def _read_all(self, rel: str) -> bytes:
        fd = os.open(rel, _O_RDONLY, dir_fd=self._dirfd)
        try:
            chunks = []
            while True:
                b = os.read(fd, 65536)
                if not b:
                    return b"".join(chunks)
                chunks.append(b)
        finally:
            os.close(fd)

    def _user_name(self, uid: int) -> str:
        name = self._users.get(uid)
        if name is None:
            try:
                name = pwd.getpwuid(uid).pw_name
            except KeyError:
                name = str(uid)
            self._users[uid] = name
        return name

    # -- the hot path --------------------------------------------------------------------------

    def sample(self, *, threads: bool = False) -> Snapshot:
        """One pass over /proc. Never raises for a process that vanishes mid-scan."""
        mono = time.monotonic()
        wall = time.time()
        self._errors = []
        system = self._system()
        procs: list[ProcInfo] = []
        append = procs.append
        last = self._last
        new_last: dict[str, _Entry] = {}
        dirfd = self._dirfd
        reuse = self._reuse
        os_open, os_read, os_close = os.open, os.read, os.close
        try:
            names = os.listdir(dirfd)
        except OSError as e:  # pragma: no cover - /proc gone?
            self._errors.append(f"cannot list {self.proc}: {e}")
            names = []
        for name in names:
            if not name.isdigit():
                continue
            rel = name + "/stat"
            # the hot path, inlined: ~6 µs of syscalls + ~1.5 µs of Python per idle process
            try:
                fd = os_open(rel, _O_RDONLY, dir_fd=dirfd)
            except _VANISHED:
                continue
            except OSError as e:
                self._errors.append(f"cannot read {self.proc}/{rel}: {e.strerror}")
                continue
            try:
                data = os_read(fd, 4096)
            except OSError:  # ESRCH on a task that died after open
                continue
            finally:
                os_close(fd)
            prev = last.get(rel)
            if prev is not None and prev[0] == data and reuse:
                info = prev[1]  # unchanged since last tick: same identity, same values
                new_last[rel] = prev
            else:
                info = self._parse(rel, name, data, prev, None, new_last)
                if info is None:
                    continue
            append(info)
            if threads and info.num_threads > 1 and not info.is_kernel_thread:
                for tid in self._list_tasks(name):
                    if tid != name:
                        t = self._one_thread(f"{name}/task/{tid}/stat", tid, info, last, new_last)
                        if t is not None:
                            append(t)
        self._last = new_last
        return Snapshot(
            time=mono,
            wall=wall,
            processes=tuple(procs),
            system=system,
            clk_tck=self.clk_tck,
            page_size=self.page_size,
            boot_time=self._boot_time,
            errors=tuple(self._errors),
        )

    def _list_tasks(self, name: str) -> list[str]:
        try:
            fd = os.open(name + "/task", os.O_RDONLY | os.O_DIRECTORY, dir_fd=self._dirfd)
        except OSError:
            return []
        try:
            return os.listdir(fd)
        except OSError:
            return []
        finally:
            os.close(fd)

    def _one_thread(
        self,
        rel: str,
        name: str,
        leader: ProcInfo,
        last: dict[str, _Entry],
        new_last: dict[str, _Entry],
    ) -> ProcInfo | None:
        """Read one thread's stat file (threads are not in the /proc listing)."""
        try:
            data = self._read(rel)
        except OSError:
            return None
        prev = last.get(rel)
        if prev is not None and prev[0] == data and self._reuse:
            new_last[rel] = prev
            return prev[1]
        return self._parse(rel, name, data, prev, leader, new_last)

    def _parse(
        self,
        rel: str,
        name: str,
        data: bytes,
        prev: _Entry | None,
        leader: ProcInfo | None,
        new_last: dict[str, _Entry],
    ) -> ProcInfo | None:
        """The slow path: a new or changed process (or thread when ``leader`` is given)."""
        try:
            s = parse_stat(data)
        except (ValueError, IndexError):
            self._errors.append(f"unparsable {self.proc}/{rel}")
            return None
        kernel = bool(s.flags & PF_KTHREAD)
        # same /proc path and same start time: the same identity as last tick
        same = prev is not None and prev[1].starttime == s.starttime
        ident = prev[2] if same else _Ident()  # type: ignore[index]
        ident.sightings += 1
        if ident.comm_raw != s.comm_raw or ident.sightings == 1:
            ident.comm = _decode(s.comm_raw)
        if leader is not None:
            ident.uid, ident.user, ident.cmdline = leader.uid, leader.user, leader.cmdline
        else:
            if ident.uid is None:
                try:
                    ident.uid = os.stat(name, dir_fd=self._dirfd).st_uid
                    ident.user = self._user_name(ident.uid)
                except _VANISHED:
                    return None
                except OSError:
                    pass
            # cmdline: first and second sighting (fork/exec race), after an exec (comm changed),
            # and while a read came back empty (caught inside execve: comm already new, mm not
            # yet set up). Never for a zombie (no mm: it reads empty), and an empty read never
            # replaces a known command line (an exiting task that is not a zombie yet): the
            # same identity keeps its last command line to the end.
            if (
                not kernel
                and s.state != "Z"
                and s.state != "X"
                and (ident.sightings <= 2 or ident.comm_raw != s.comm_raw or ident.cmdline_pending)
            ):
                cmdline = self._cmdline(name)
                ident.cmdline_pending = not cmdline
                if cmdline:
                    ident.cmdline = cmdline
        ident.comm_raw = s.comm_raw
        shared: int | None
        if kernel:
            shared = 0
        else:
            try:
                statm = self._read(rel[:-4] + "statm", 256).split()
                shared = int(statm[2]) * self.page_size
            except (OSError, ValueError, IndexError):
                shared = None
        info = ProcInfo(
            pid=s.pid,
            tgid=leader.pid if leader is not None else s.pid,
            ppid=s.ppid,
            starttime=s.starttime,
            state=s.state,
            comm=ident.comm,
            cmdline=ident.cmdline,
            uid=ident.uid,
            user=ident.user,
            priority=s.priority,
            nice=s.nice,
            num_threads=s.num_threads,
            vsize=s.vsize,
            rss=s.rss_pages * self.page_size,
            shared=shared,
            utime=s.utime,
            stime=s.stime,
            processor=s.processor,
            is_kernel_thread=kernel,
            is_thread=leader is not None,
        )
        new_last[rel] = (data, info, ident)
        return info

    def _cmdline(self, name: str) -> str:
        try:
            raw = self._read_all(name + "/cmdline")
        except OSError:
            return ""
        return _argv_text(raw) if raw else ""

    # -- system meters -------------------------------------------------------------------------

    def _system(self) -> SystemInfo:
        """Per-CPU %, memory, swap, load, uptime. Hand-parsed /proc/stat + /proc/meminfo: one
        read each (~10 µs) versus ~23 µs for psutil.cpu_percent(percpu=True) (which also keeps
        process-global state) and ~90 µs for psutil.virtual_memory() + swap_memory()."""
        cpus: list[float] = []
        try:
            stat = self._read_all("stat")
        except OSError as e:  # pragma: no cover
            self._errors.append(f"cannot read /proc/stat: {e}")
            stat = b""
        cur: list[tuple[int, int]] = []
        for line in stat.split(b"\n"):
            if line.startswith(b"cpu") and line[3:4].isdigit():
                v = [int(x) for x in line.split()[1:9]]
                v += [0] * (8 - len(v))
                # user nice system idle iowait irq softirq steal (guest is inside user)
                total = sum(v)
                idle = v[3] + v[4]
                cur.append((total, idle))
            elif line.startswith(b"btime "):
                self._boot_time = float(line.split()[1])
        prev = self._cpu_prev
        for i, (total, idle) in enumerate(cur):
            if prev is not None and i < len(prev):
                dt = total - prev[i][0]
                di = idle - prev[i][1]
            else:
                dt, di = total, idle
            cpus.append(max(0.0, min(100.0, 100.0 * (dt - di) / dt)) if dt > 0 else 0.0)
        self._cpu_prev = cur
        mem: dict[bytes, int] = {}
        try:
            for line in self._read_all("meminfo").split(b"\n"):
                k, _, v = line.partition(b":")
                if k in _MEMINFO_KEYS:
                    mem[k] = int(v.split()[0]) * 1024
        except (OSError, ValueError, IndexError) as e:  # pragma: no cover
            self._errors.append(f"cannot read /proc/meminfo: {e}")
        total_mem = mem.get(b"MemTotal", 0)
        free = mem.get(b"MemFree", 0)
        # htop (linux/LinuxProcessList.c, 3.2): used = total - (free + buffers + cached +
        # SReclaimable), or total - free if those exceed the total; swap used leaves out
        # SwapCached. (htop >= 3.3 adds Shmem to the figure its meter prints.)
        not_used = free + sum(mem.get(k, 0) for k in (b"Buffers", b"Cached", b"SReclaimable"))
        mem_used = total_mem - not_used if total_mem >= not_used else total_mem - free
        swap_total = mem.get(b"SwapTotal", 0)
        swap_used = swap_total - mem.get(b"SwapFree", 0) - mem.get(b"SwapCached", 0)
        try:
            uptime = float(self._read("uptime", 128).split()[0])
        except (OSError, ValueError, IndexError):  # pragma: no cover
            uptime = 0.0
        try:
            load = os.getloadavg()
        except OSError:  # pragma: no cover
            load = (0.0, 0.0, 0.0)
        return SystemInfo(
            cpu_percent=tuple(cpus),
            mem_total=total_mem,
            mem_used=max(0, mem_used),
            swap_total=swap_total,
            swap_used=max(0, swap_used),
            load=(load[0], load[1], load[2]),
            uptime=uptime,
            ncpu=len(cpus) or self.ncpu,
        )
