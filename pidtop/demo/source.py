"""A deterministic ``ProcessSource``: the script's process tree on the script's clock.

Used by snapshot tests, screenshots and ``pidtop --demo``. Nothing here reads the real system or
the real clock: two sources built with the same arguments and called the same way return equal
snapshots on any machine. The script itself (the processes, their users, what appears and exits
when, the clock) is data in :mod:`pidtop.demo.script`; this module plays it: CPU time advancing
with each process's load, memory, threads, the host meters. Tests can add and remove processes
with ``spawn``/``exit``.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from pidtop.demo.extras import extra_fields
from pidtop.demo.script import (
    CLK_TCK,
    EXIT_AT,
    EXIT_PID,
    KERNEL,
    MONO0,
    NEW_AT,
    NEW_PROCESS,
    PAGE_SIZE,
    PROCESSES,
    THREAD_NAMES,
    UPTIME0,
    USERS,
    WALL0,
    ScriptRow,
)
from pidtop.sampling.fmt import sanitize
from pidtop.sampling.snapshot import HoldsNoFiles, ProcInfo, ProcKey, Snapshot, SystemInfo

if TYPE_CHECKING:
    from pidtop.demo.details import ScriptedDetails

__all__ = ["ScriptedSource"]

MIB = 1024 * 1024
GIB = 1024 * MIB


@dataclass(slots=True)
class _Proc:
    """Mutable script state of one process."""

    pid: int
    ppid: int
    comm: str
    cmdline: str
    user: str
    state: str
    nice: int
    priority: int
    vsize: int
    rss: int
    shared: int
    load: float  # mean fraction of one CPU
    starttime: int
    kernel: bool
    utime: int = 0
    stime: int = 0
    processor: int = 0
    tids: tuple[int, ...] = ()
    thread_comms: tuple[str, ...] = ()
    last_delta: int = 0


class ScriptedSource(HoldsNoFiles):
    """Deterministic ``ProcessSource``.

    ``sample()`` number *k* (0-based) has ``time = MONO0 + k * interval`` and
    ``wall = WALL0 + k * interval``. CPU use per process follows its scripted load with jitter
    from a ``random.Random`` seeded with ``seed``, so repeated runs are identical.
    """

    def __init__(self, *, ncpu: int = 4, interval: float = 1.5, seed: int = 42) -> None:
        self.ncpu = ncpu
        self.interval = interval
        self._rng = random.Random(seed)
        self._index = 0  # index of the next sample
        self._procs: dict[int, _Proc] = {}
        self._next_tid = 20_000
        self._pending: dict[int, list[ScriptRow]] = {NEW_AT: [NEW_PROCESS]}
        self._exits: dict[int, list[int]] = {EXIT_AT: [EXIT_PID]}
        self._cpu_base = [35.0 + 40.0 * ((i * 7) % 5) / 4 for i in range(ncpu)]
        self._fields: frozenset[str] = frozenset()
        self._deleted_exe: set[int] = set()
        for row in PROCESSES:
            self._add(*row)

    # -- script editing (tests) ------------------------------------------------------------

    def details_source(self) -> ScriptedDetails:
        """The details of this script's processes (the UI asks its source for them)."""
        from pidtop.demo.details import ScriptedDetails  # when first asked for, like the real one

        return ScriptedDetails(self)

    def spawn(
        self,
        pid: int,
        ppid: int,
        comm: str,
        cmdline: str = "",
        *,
        user: str = "root",
        state: str = "S",
        nice: int = 0,
        threads: int = 1,
        rss_mib: float = 4.0,
        load: float = 0.0,
        kernel: bool = False,
    ) -> ProcKey:
        """Add a process that will be in the next sample; returns its key. Replaces a live pid."""
        proc = self._add(
            pid,
            ppid,
            user,
            comm,
            cmdline if not kernel else KERNEL,
            state,
            nice,
            threads,
            rss_mib,
            load,
            0.0,
        )
        return (proc.pid, proc.starttime)

    def exit(self, pid: int) -> None:
        """Remove a process (and its threads) from the next sample. Unknown pids are ignored."""
        self._procs.pop(pid, None)

    def set_state(self, pid: int, state: str) -> None:
        """Change a process's state letter (e.g. ``"T"`` to stop it)."""
        self._procs[pid].state = state

    def key_of(self, pid: int) -> ProcKey:
        """The current identity of a scripted pid."""
        p = self._procs[pid]
        return (p.pid, p.starttime)

    def info_of(self, pid: int, *, threads: bool = False) -> list[ProcInfo]:
        """The process as the next sample would show it (with its threads); [] if unknown.

        For the scripted details source; the CPU figures are those of the last sample."""
        p = self._procs.get(pid)
        if p is None:
            return []
        return [self._info(p), *(self._thread_infos(p) if threads and not p.kernel else [])]

    def cpu_of(self, pid: int) -> float:
        """CPU% of one process over the last scripted interval."""
        p = self._procs.get(pid)
        return 0.0 if p is None else 100.0 * p.last_delta / (self.interval * CLK_TCK)

    @property
    def samples_taken(self) -> int:
        return self._index

    # -- ProcessSource -----------------------------------------------------------------------

    def now(self) -> float:
        """Wall time of the latest sample (``WALL0`` before the first)."""
        return WALL0 + max(0, self._index - 1) * self.interval

    def delete_exe(self, pid: int) -> None:
        """Mark a process's executable as deleted (an upgraded daemon), from the next sample."""
        self._deleted_exe.add(pid)

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        """Advance the script by one interval and return the snapshot. Never touches the system.

        Optional ``fields`` are filled only when asked for, as the real sampler does."""
        self._fields = fields
        k = self._index
        for row in self._pending.pop(k, []):
            self._add(*row)
        for pid in self._exits.pop(k, []):
            self._procs.pop(pid, None)
        if k > 0:
            self._advance()
        self._index += 1
        procs: list[ProcInfo] = []
        for pid in sorted(self._procs):
            p = self._procs[pid]
            procs.append(self._info(p))
            if threads and not p.kernel:
                procs.extend(self._thread_infos(p))
        system = self._system(k)
        return Snapshot(
            time=MONO0 + k * self.interval,
            wall=WALL0 + k * self.interval,
            processes=tuple(procs),
            system=system,
            clk_tck=CLK_TCK,
            page_size=PAGE_SIZE,
            boot_time=WALL0 - UPTIME0,
        )

    # -- internals ---------------------------------------------------------------------------

    def _uptime_ticks(self) -> int:
        """Ticks since boot at the next sample."""
        return int((UPTIME0 + self._index * self.interval) * CLK_TCK)

    def _add(
        self,
        pid: int,
        ppid: int,
        user: str,
        comm: str,
        cmdline: str,
        state: str,
        nice: int,
        threads: int,
        rss_mib: float,
        load: float,
        age: float,
    ) -> _Proc:
        kernel = cmdline == KERNEL
        starttime = max(1, self._uptime_ticks() - int(age * CLK_TCK))
        rss = int(rss_mib * MIB) // PAGE_SIZE * PAGE_SIZE
        if kernel:
            vsize = shared = 0
        elif state == "Z":
            vsize = shared = rss = 0
        else:
            vsize = rss * 3 + (60 + pid % 97) * MIB
            shared = min(rss, (2 + pid % 13) * MIB // 2)
        cpu_ticks = int(load * 0.8 * age * CLK_TCK)
        tids = tuple(range(self._next_tid, self._next_tid + threads - 1))
        self._next_tid += max(0, threads - 1)
        names = THREAD_NAMES.get(comm, (comm,))
        proc = _Proc(
            pid=pid,
            ppid=ppid,
            comm=sanitize(comm),
            cmdline="" if kernel else sanitize(cmdline),
            user=user,
            state=state,
            nice=nice,
            priority=-100 if comm.startswith("migration/") else 20 + nice,
            vsize=vsize,
            rss=rss,
            shared=shared,
            load=load,
            starttime=starttime,
            kernel=kernel,
            utime=cpu_ticks * 4 // 5,
            stime=cpu_ticks - cpu_ticks * 4 // 5,
            processor=pid % self.ncpu,
            tids=tids,
            thread_comms=tuple(sanitize(names[i % len(names)]) for i in range(len(tids))),
        )
        self._procs[pid] = proc
        return proc

    def _advance(self) -> None:
        rng = self._rng
        per_tick = self.interval * CLK_TCK
        for pid in sorted(self._procs):
            p = self._procs[pid]
            if p.state in "ZTX" or p.load <= 0.0:
                p.last_delta = 0
                continue
            delta = round(p.load * per_tick * rng.uniform(0.6, 1.4))
            user_part = delta * 4 // 5
            p.utime += user_part
            p.stime += delta - user_part
            p.last_delta = delta
            p.processor = rng.randrange(self.ncpu)
            if p.load > 0.5 and not p.kernel:  # busy processes grow a little
                p.rss += rng.randrange(0, 4) * 64 * PAGE_SIZE

    def _info(self, p: _Proc) -> ProcInfo:
        return ProcInfo(
            pid=p.pid,
            tgid=p.pid,
            ppid=p.ppid,
            starttime=p.starttime,
            state=p.state,
            comm=p.comm,
            cmdline=p.cmdline,
            uid=USERS.get(p.user),
            user=p.user,
            priority=p.priority,
            nice=p.nice,
            num_threads=len(p.tids) + 1,
            vsize=p.vsize,
            rss=p.rss,
            shared=p.shared,
            utime=p.utime,
            stime=p.stime,
            processor=p.processor,
            is_kernel_thread=p.kernel,
            is_thread=False,
            exe_deleted=p.pid in self._deleted_exe,
            **extra_fields(p, self._procs, self._fields),
        )

    def _thread_infos(self, p: _Proc) -> list[ProcInfo]:
        """The process's threads: its own figures but the CPU time, shared out."""
        n = len(p.tids) + 1
        leader = self._info(p)
        return [
            replace(
                leader,
                pid=tid,
                starttime=p.starttime + 1 + (tid - p.tids[0]),
                state="S" if p.state != "T" else "T",
                comm=comm,
                utime=p.utime // n,
                stime=p.stime // n,
                processor=(p.processor + tid) % self.ncpu,
                is_thread=True,
            )
            for tid, comm in zip(p.tids, p.thread_comms, strict=True)
        ]

    def _system(self, k: int) -> SystemInfo:
        rng = self._rng
        cpus = tuple(
            round(min(100.0, max(0.0, base + rng.uniform(-12.0, 12.0))), 1)
            for base in self._cpu_base
        )
        used_rss = sum(p.rss for p in self._procs.values())
        mem_total = 16 * GIB
        mem_used = min(mem_total, used_rss + 3 * GIB + (k % 7) * 8 * MIB)
        swing = (k % 10) / 100.0
        return SystemInfo(
            cpu_percent=cpus,
            mem_total=mem_total,
            mem_used=mem_used,
            swap_total=2 * GIB,
            swap_used=128 * MIB + (k % 3) * 4 * MIB,
            load=(round(1.62 + swing, 2), round(1.40 + swing / 2, 2), 1.05),
            uptime=UPTIME0 + k * self.interval,
            ncpu=self.ncpu,
        )
