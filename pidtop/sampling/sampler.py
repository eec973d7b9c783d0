"""The real ``ProcessSource``: reads /proc directly on the hot path.

Why hand-written /proc parsing (measured on the 2-core dev machine, ``benchmarks/sampler.py``):
psutil costs ~96 µs per process per sample with the fields we need (130-270 µs in
``STYLE.md`` on a loaded box), i.e. 100-300 ms per tick at 1,000 processes. One
``os.open``/``os.read``/``os.close`` of ``/proc/PID/stat`` costs ~6 µs (``open()`` ~10 µs),
parsing it with ``rpartition(b")")`` + ``split()`` ~0.8 µs. So per tick we do, per process:

* one read of ``/proc/PID/stat`` (relative to a ``/proc`` dir fd). In the monitor the file
  stays open between passes and is read again with ``pread`` (``share_fd_budget``: fds from
  the monitor's budget, the lowest-priority holder; measured at +1,000: ~25 % of a tick). A held
  file reads its own process or fails with ESRCH once it is reaped, also when a newcomer has
  its PID (then the PID is opened anew, as a new identity); a vanished process's file is
  closed at the next pass. Without fds to spare: open/read/close, as before;
* if the bytes are identical to the previous tick's (an idle process: the same ``hash``; the
  bytes are not kept, ~320 B a process), reuse the previous ``ProcInfo`` object as is: no
  parsing, no allocation, no ``statm`` (the table model then also skips its CPU maths with an
  ``is`` check);
* otherwise (the process ran) parse it, read ``statm`` (~4 µs) for RES and SHR, and ``cmdline``
  (~3.4 µs; decoded only when its bytes' hash changed: the bytes are not kept): a process that
  rewrites its argv (postgres, nginx, setproctitle) sends no event, and it can only do so by
  running.
* the owner (``stat()`` of ``/proc/PID``, ~1.6 µs: the directory is owned by the *effective*
  uid, unlike the files in it, which a non-dumpable process gives to root) comes from the event
  spine (:mod:`pidtop.sampling.changes`): while the exit journal's proc connector runs
  (``feed.live``), a UID event marks the PID and this pass reads its owner at once, and an EXEC
  or COMM event its name, command line and executable. Without the connector (refused to
  unprivileged users by some kernels, containers) it does what htop does: one ``stat()`` of
  ``/proc/PID`` for every process, every pass. Either way a ``setuid`` daemon, ``su`` or
  ``sudo`` shows its new owner at the next refresh.
* the optional fields (``extras.py``: I/O, cgroup, OOM score, context switches), only while a
  column asks for them (``sample(fields=...)``), are read for *every* process *every* pass,
  idle or not: they change without the stat changing (a writer that uses less than a clock tick
  of CPU a second, a cgroup move, an ``oom_score_adj`` written by another process). A rate is
  the difference of two real readings, never of a reused one.
* and once every ``REFRESH_TICKS`` (32) ticks (a different 1/32 of the processes each tick),
  an unchanged process has read again what can change while its stat does not and no event
  says: an executable deleted by another process, a command line rewritten in a run shorter
  than a clock tick, memory reclaimed while it sleeps (``cmdline``, ``exe``, ``statm``, ~12 µs;
  a new ``ProcInfo`` only if something changed).
* whether the executable was deleted (``readlink`` of ``exe`` ends in `` (deleted)``): at the
  first sighting, after an ``execve`` (``comm`` changed, or an EXEC event) and on the refresh
  turn.

RES is ``statm``'s resident count (exact, as htop and ps read it): ``stat`` field 24 comes from
per-CPU batched counters and reads up to 10 % low. An empty ``cmdline`` read never replaces a
known command line, and a zombie's is never read (its memory is gone, it reads empty): a
process keeps its last command line to the end. Optional fields (``extras.py``: I/O, cgroup,
OOM score, context switches) are read only when ``sample(fields=...)`` asks for them.

``/proc/PID/status`` is read only for the context-switch columns. Caches are rebuilt every
tick from the identities seen, so dead identities are purged automatically.

All process text is decoded with ``errors="replace"`` and passed through ``fmt.sanitize`` (no
control characters, no terminal escapes), so ``ProcInfo.comm``/``cmdline`` are safe to print.

One thing: one tick of the sampler. Its paths (the inlined loop that reuses an idle
process's ``ProcInfo``, ``_parse`` for one that ran or was marked, ``_recheck`` for an idle
one's per-pass reads, ``_refresh`` for one whose turn it is) read and write the same
per-identity cache (``_Ident``, ``_last``, the refresh turns, the marks) in one order, and the
loop is inlined on purpose (a call per process costs more than the reuse saves). The readers
that need no cache are already apart (:mod:`pidtop.sampling.procfiles`, the held stat files'
bookkeeping in :mod:`pidtop.sampling.heldfiles`,
:mod:`pidtop.sampling.system`, :mod:`pidtop.sampling.extras`, :mod:`pidtop.kernel.stat`).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import sys
import time
from dataclasses import replace

from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.stat import PF_KTHREAD, parse_stat
from pidtop.sampling.changes import COMMAND, OWNER, ChangeFeed
from pidtop.sampling.extras import (
    FIELD_CGROUP,
    FIELD_CTXSW,
    FIELD_IO,
    FIELD_OOM,
    parse_cgroup,
    parse_ctxsw,
)
from pidtop.sampling.heldfiles import HeldStatFiles
from pidtop.sampling.procfiles import (
    _O_RDONLY,
    _decode,
    argv_text,
    exe_deleted_at,
    read_all_at,
    read_at,
    read_cmdline_at,
    read_io,
)
from pidtop.sampling.snapshot import ProcInfo, Snapshot
from pidtop.sampling.system import SystemReader

__all__ = ["REFRESH_TICKS", "ProcSampler"]

#: an idle process's command line, executable and memory are read again once every this many
#: samples (what can change while its stat does not and no event says: see the docstring)
REFRESH_TICKS = 32

_VANISHED = (FileNotFoundError, ProcessLookupError)


class _Ident:
    """What is cached per identity (pid, starttime): the last ``ProcInfo`` and the hash of the
    stat bytes it was parsed from (None: read it in full this pass; only the hash is kept: all
    that is asked of the bytes is "unchanged?"), owner, command line, decoded comm and
    executable state (read again when they can have changed: see the module docstring), and
    what the event spine marked since the last pass (``marked``: OWNER | COMMAND). One object
    per process, changed in place (no tuple per process per pass)."""

    __slots__ = (
        "cgroup",
        "cmdline",
        "cmdline_hash",
        "comm",
        "exe_deleted",
        "info",
        "marked",
        "sightings",
        "stat_hash",
        "uid",
        "user",
    )

    info: ProcInfo  # set by _parse before the identity is kept

    def __init__(self) -> None:
        self.stat_hash: int | None = None
        self.uid: int | None = None
        self.user = "-"
        self.cmdline = ""
        #: hash of the cmdline bytes last decoded (not the bytes: a long one would be held twice)
        self.cmdline_hash: int | None = None
        self.comm = ""  # decoded (the raw bytes are not kept: ~50 B a process)
        self.exe_deleted = False
        self.cgroup: str | None = None
        self.sightings = 0
        self.marked = 0  # OWNER | COMMAND: what an event said changed (read it this pass)


class ProcSampler:
    """Samples /proc. Not thread-safe: use one instance from one worker thread at a time."""

    #: reuse the previous ProcInfo when /proc/PID/stat is byte-identical (off: benchmarks only)
    _reuse = True
    #: an unchanged process is read again in full (owner, command line, executable, memory,
    #: optional fields) once every this many samples, staggered by PID (see the docstring)
    refresh_ticks = REFRESH_TICKS

    def __init__(self, proc: str = "/proc", *, feed: ChangeFeed | None = None) -> None:
        self.proc = proc
        #: the event spine: what the journal's proc connector saw change (None: no events,
        #: the owner is read every pass like htop)
        self.feed = feed
        self.clk_tck = os.sysconf("SC_CLK_TCK")
        self.page_size = os.sysconf("SC_PAGE_SIZE")
        self.ncpu = os.cpu_count() or 1
        self._dirfd = os.open(proc, os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0))
        # PID (the listing's name; a thread's TID) -> identity cache (its stat hash and
        # ProcInfo) of the last tick; rebuilt every tick, so vanished processes are purged
        self._last: dict[str, _Ident] = {}
        self._users: dict[int, str] = {}
        self._sys = SystemReader(self._read_all, self.ncpu)
        self._errors: list[str] = []
        self._tick = 0
        self._fields: frozenset[str] = frozenset()
        #: PIDs (the ProcInfo's own ints) of userland processes by PID % refresh_ticks (whose
        #: turn is which tick). Lists, not sets (a set of ~100 PIDs is ~4x the list's memory):
        #: a PID listed twice (reused by a new identity before its turn) is read once
        self._turns: dict[int, list[int]] = {}
        self._turns_every = 0
        self._live = False  # this pass: the feed is live (owner changes come as events)
        #: each /proc/PID/stat kept open and read again with ``pread`` (``share_fd_budget``):
        #: ~6 µs of open/close saved per process per tick
        self._files = HeldStatFiles()
        #: this pass's numbers by value (parent PIDs, start times, sizes): equal ones of many
        #: processes are one int object, not one each (~0.14 MiB a field at +3,000 sleeps)
        self._ints: dict[int, int] = {}

    def share_fd_budget(self, budget: FdBudget) -> None:
        """Keep each process's stat file open between passes, with fds from ``budget``
        (:mod:`pidtop.sampling.heldfiles`). Without a budget every read is open/read/close."""
        self._files.share(budget)

    def drop_held_files(self) -> None:
        """Close every held stat file and give its fd back (the monitor's end)."""
        self._files.drop()

    def close(self) -> None:
        """Release the /proc directory fd and the held stat files."""
        self.drop_held_files()
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
        return read_at(self._dirfd, rel, size)

    def _read_all(self, rel: str) -> bytes:
        return read_all_at(self._dirfd, rel)

    def _cmdline_raw(self, name: str) -> bytes:
        return read_cmdline_at(self._dirfd, name)

    def _exe_deleted(self, name: str, before: bool) -> bool:
        return exe_deleted_at(self._dirfd, name, before)

    def _io(self, base: str) -> tuple[int | None, int | None]:
        return read_io(self._read, base)

    def _int_file(self, rel: str) -> int | None:
        try:
            return int(self._read(rel, 64))
        except (OSError, ValueError):
            return None

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

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        """One pass over /proc. Never raises for a process that vanishes mid-scan.

        ``fields``: the optional fields to read (``extras.OPTIONAL_FIELDS``); when they change,
        this pass reads every process in full so the new fields are filled everywhere."""
        with self._files.lock:
            return self._sample(threads, fields)

    def _sample(self, threads: bool, fields: frozenset[str]) -> Snapshot:
        mono = time.monotonic()
        wall = time.time()
        self._errors = []
        system = self._sys.read(self._errors)
        procs: list[ProcInfo] = []
        append = procs.append
        last = self._last
        new_last: dict[str, _Ident] = {}
        dirfd = self._dirfd
        reuse = self._reuse
        forced = fields != self._fields  # new fields: read everything once
        if forced:
            self._fields = frozenset(fields)
            reuse = False
        self._tick += 1
        feed = self.feed
        live = feed is not None and feed.live
        if feed is not None:
            for pid, what in feed.drain().items():
                held = last.get(str(pid))
                if held is not None:  # read it on the slow path this pass: stat "changed"
                    held.marked |= what
                    held.stat_hash = None
            if every_one := feed.drain_all():  # events lost: every process read again once
                for held in last.values():
                    held.marked |= every_one
                    held.stat_hash = None
        self._live = live
        # idle processes: the owner every pass without events (htop's way), the optional
        # fields every pass while shown (they change while the stat does not)
        owner_each = not live
        recheck = owner_each or bool(self._fields)
        if reuse and last:
            # The processes whose PID % refresh_ticks is this tick's: read again what can
            # change while their stat does not. Done first, into ``last``, so the loop below
            # reuses the refreshed entry when the stat is still the same.
            every = max(1, self.refresh_ticks)
            if self._turns_every != every:
                self._turns_every, self._turns = every, {}
                for entry in last.values():
                    if not (entry.info.is_kernel_thread or entry.info.is_thread):
                        self._turns.setdefault(entry.info.pid % every, []).append(entry.info.pid)
            turn = self._turns.get(self._tick % every)
            if turn:
                kept: list[int] = []
                for pid in dict.fromkeys(turn):  # once each
                    key = str(pid)
                    held = last.get(key)
                    if held is not None and not held.info.is_thread:  # else gone (or a TID)
                        kept.append(pid)
                        self._refresh(key, held)
                turn[:] = kept
        os_open, os_read, os_pread, os_close = os.open, os.read, os.pread, os.close
        stat_files = self._files
        try:
            names = os.listdir(dirfd)
            stat_files.begin(len(names))
        except OSError as e:  # out of fds (EMFILE), /proc gone?
            self._errors.append(f"cannot list {self.proc}: {e}")
            names = []
            stat_files.listing_failed()  # no process was seen gone: keep their files
        files, new_held = stat_files.fds, stat_files.seen
        for name in names:
            if not name.isdigit():
                continue
            # the hot path, inlined: ~2 µs of syscalls (held file) + ~1.5 µs of Python per
            # idle process; ~6 µs of syscalls to open, read and close one
            fd = files.get(name)
            if fd is not None:
                try:
                    data = os_pread(fd, 4096, 0)
                    new_held[name] = fd
                except OSError:  # ESRCH: reaped. The PID may be a newcomer's: open it anew
                    stat_files.reaped(name)
                    fd = None
                    last.pop(name, None)  # never the old identity's cache for a newcomer
            if fd is None:
                rel = name + "/stat"
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
                    os_close(fd)
                    continue
                stat_files.adopt(name, fd)
            prev = last.get(name)
            info: ProcInfo | None
            if prev is not None and prev.stat_hash == hash(data) and reuse:
                if recheck:  # the owner without events, the shown optional fields
                    self._recheck(name, prev, owner_each)
                info = prev.info  # unchanged since last tick: same identity
                new_last[name] = prev
            else:
                info = self._parse(name + "/stat", name, data, prev, None, new_last, forced)
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
        self._ints = {}
        stat_files.end()  # the files of processes gone from the listing closed now
        return Snapshot(
            time=mono,
            wall=wall,
            processes=tuple(procs),
            system=system,
            clk_tck=self.clk_tck,
            page_size=self.page_size,
            boot_time=self._sys.boot_time,
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
        last: dict[str, _Ident],
        new_last: dict[str, _Ident],
    ) -> ProcInfo | None:
        """Read one thread's stat file (threads are not in the /proc listing). Its cache is
        keyed by its TID (``name``): TIDs and PIDs are one number space."""
        try:
            data = self._read(rel)
        except OSError:
            return None
        prev = last.get(name)
        if prev is not None and prev.stat_hash == hash(data) and self._reuse:
            p = prev.info
            if (p.cmdline, p.user, p.exe_deleted) == (
                leader.cmdline,
                leader.user,
                leader.exe_deleted,
            ):
                if self._fields:
                    self._recheck(name, prev, False, rel[:-4])
                new_last[name] = prev
                return prev.info
        return self._parse(rel, name, data, prev, leader, new_last, False)

    def _parse(
        self,
        rel: str,
        name: str,
        data: bytes,
        prev: _Ident | None,
        leader: ProcInfo | None,
        new_last: dict[str, _Ident],
        refresh: bool,
    ) -> ProcInfo | None:
        """The slow path: a new or changed process (or thread when ``leader`` is given), or
        one read in full (``refresh``). Returns the previous ``ProcInfo`` object when nothing
        it holds changed (the table and view skip work on an ``is`` check)."""
        try:
            s = parse_stat(data)
        except (ValueError, IndexError):
            self._errors.append(f"unparsable {self.proc}/{rel}")
            return None
        kernel = bool(s.flags & PF_KTHREAD)
        # same /proc path and same start time: the same identity as last tick
        same = prev is not None and prev.info.starttime == s.starttime
        ident = prev if same and prev is not None else _Ident()
        if not same and leader is None and self._turns_every and not s.flags & PF_KTHREAD:
            self._turns.setdefault(s.pid % self._turns_every, []).append(s.pid)
        ident.sightings += 1
        comm = _decode(s.comm_raw)  # ~0.3 µs, on this slow path only
        exec_seen = comm != ident.comm or ident.sightings == 1
        if exec_seen:  # equal texts of many processes: one string (sys.intern: freed unused)
            ident.comm = sys.intern(comm)
        base = rel[:-4]  # "PID/" or "PID/task/TID/"
        alive = s.state != "Z" and s.state != "X"
        fields = self._fields
        if leader is not None:
            ident.uid, ident.user, ident.cmdline = leader.uid, leader.user, leader.cmdline
            ident.exe_deleted, ident.cgroup = leader.exe_deleted, leader.cgroup
        else:
            marked, ident.marked = ident.marked, 0
            # The owner: at the first sighting, then every pass without events (htop's way),
            # or when a UID event marked it. The /proc/PID directory is owned by the effective
            # uid (always, unlike the files in it, which turn root's for a non-dumpable one).
            if ident.uid is None or (not kernel and (not self._live or marked & OWNER)):
                try:
                    uid = os.stat(name, dir_fd=self._dirfd).st_uid
                    if uid != ident.uid:
                        ident.uid, ident.user = uid, self._user_name(uid)
                except _VANISHED:
                    return None
                except OSError:
                    pass
            # The command line: whenever the process ran (argv rewritten in place sends no
            # event) or was marked. Never for a zombie (no mm: it reads empty), and an empty
            # read never replaces a known command line (an exiting task that is not a zombie
            # yet): the same identity keeps its last command line to the end.
            if not kernel and alive:
                raw = self._cmdline_raw(name)
                if raw and (h := hash(raw)) != ident.cmdline_hash:
                    # equal command lines (a program's workers): one hash object, as one text
                    ident.cmdline_hash, ident.cmdline = self._ints.setdefault(h, h), argv_text(raw)
            # the executable: at an exec (seen or marked) and on its turn
            if (exec_seen or refresh or marked & COMMAND) and not kernel and alive:
                ident.exe_deleted = self._exe_deleted(name, ident.exe_deleted)
            if FIELD_CGROUP in fields:
                with contextlib.suppress(OSError):
                    ident.cgroup = parse_cgroup(self._read_all(base + "cgroup"))
        rss = s.rss_pages * self.page_size  # approximate (per-CPU batched): statm is exact
        shared: int | None
        if kernel:
            shared = 0
        else:
            try:
                statm = self._read(base + "statm", 256).split()
                rss = int(statm[1]) * self.page_size
                shared = int(statm[2]) * self.page_size
            except (OSError, ValueError, IndexError):
                shared = None
        io_read = io_write = oom = vol = invol = None
        if fields:
            if FIELD_IO in fields:
                io_read, io_write = self._io(base)
            if FIELD_OOM in fields:
                oom = leader.oom_score if leader is not None else self._int_file(base + "oom_score")
            if FIELD_CTXSW in fields:
                with contextlib.suppress(OSError, ValueError):
                    vol, invol = parse_ctxsw(self._read(base + "status", 8192))
        one = self._ints.setdefault  # equal numbers of many processes: one object
        info = ProcInfo(
            pid=s.pid,
            tgid=leader.pid if leader is not None else s.pid,
            ppid=one(s.ppid, s.ppid),
            starttime=one(s.starttime, s.starttime),
            state=s.state,
            comm=ident.comm,
            cmdline=ident.cmdline,
            uid=ident.uid,
            user=ident.user,
            priority=s.priority,
            nice=s.nice,
            num_threads=s.num_threads,
            vsize=one(s.vsize, s.vsize),
            rss=one(rss, rss),
            shared=shared if shared is None else one(shared, shared),
            utime=s.utime,
            stime=s.stime,
            processor=s.processor,
            is_kernel_thread=kernel,
            is_thread=leader is not None,
            tty_nr=s.tty_nr,
            exe_deleted=ident.exe_deleted,
            io_read=io_read,
            io_write=io_write,
            cgroup=ident.cgroup if FIELD_CGROUP in fields else None,
            oom_score=oom,
            ctxsw_voluntary=vol,
            ctxsw_involuntary=invol,
        )
        if same and prev is not None and prev.info == info:
            info = prev.info  # a forced or marked read that found nothing new
        ident.stat_hash, ident.info = hash(data), info
        new_last[name] = ident
        return info

    def _refresh(self, name: str, ident: _Ident) -> None:
        """An unchanged process's turn: read again what can change while its stat does not
        and no event says (a run shorter than a clock tick, another process's act): command
        line, executable, memory. ~12 µs; a new ``ProcInfo`` only if something changed."""
        info = ident.info
        changes: dict[str, object] = {}
        base = name + "/"
        if info.state != "Z" and info.state != "X":
            raw = self._cmdline_raw(name)
            if raw and hash(raw) != ident.cmdline_hash:
                ident.cmdline_hash, ident.cmdline = hash(raw), argv_text(raw)
                changes["cmdline"] = ident.cmdline
            deleted = self._exe_deleted(name, ident.exe_deleted)
            if deleted != ident.exe_deleted:
                ident.exe_deleted = changes["exe_deleted"] = deleted
            with contextlib.suppress(OSError, ValueError, IndexError):
                statm = self._read(base + "statm", 256).split()
                rss, shared = int(statm[1]) * self.page_size, int(statm[2]) * self.page_size
                if (rss, shared) != (info.rss, info.shared):
                    changes["rss"], changes["shared"] = rss, shared
        if changes:
            ident.info = replace(info, **changes)  # type: ignore[arg-type]

    def _recheck(self, name: str, ident: _Ident, owner: bool, base: str = "") -> None:
        """An idle process's per-pass reads: the owner (``owner``: no events say it; one
        ``stat()`` of ``/proc/PID``) and the optional fields being shown (they change while
        the stat does not). The same ``ProcInfo`` when nothing changed (the table then knows at
        an ``is`` check that this process's rates are 0), else a new one in ``ident.info``.
        ``base``: the files' directory, ``PID/task/TID/`` for a thread (default ``PID/``)."""
        info = ident.info
        changes: dict[str, object] = {}
        if owner and not info.is_kernel_thread and not info.is_thread:
            uid: int | None
            try:
                uid = os.stat(name, dir_fd=self._dirfd).st_uid
            except OSError:  # gone: it is swept next pass
                uid = ident.uid
            if uid != ident.uid and uid is not None:
                ident.uid, ident.user = uid, self._user_name(uid)
                changes["uid"], changes["user"] = uid, ident.user
        fields = self._fields
        if fields:
            base = base or name + "/"
            if FIELD_CGROUP in fields:
                with contextlib.suppress(OSError):
                    ident.cgroup = parse_cgroup(self._read_all(base + "cgroup"))
                if ident.cgroup != info.cgroup:
                    changes["cgroup"] = ident.cgroup
            if FIELD_IO in fields:
                io = self._io(base)
                if io != (info.io_read, info.io_write):
                    changes["io_read"], changes["io_write"] = io
            if FIELD_OOM in fields:
                oom = self._int_file(base + "oom_score")
                if oom != info.oom_score:
                    changes["oom_score"] = oom
            if FIELD_CTXSW in fields:
                with contextlib.suppress(OSError, ValueError):
                    ctx = parse_ctxsw(self._read(base + "status", 8192))
                    if ctx != (info.ctxsw_voluntary, info.ctxsw_involuntary):
                        changes["ctxsw_voluntary"], changes["ctxsw_involuntary"] = ctx
        if changes:
            ident.info = replace(info, **changes)  # type: ignore[arg-type]
