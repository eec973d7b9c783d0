"""Immutable snapshot types shared by the sampler, the table model and every front end.

A *snapshot* is what one sampling pass saw: plain frozen dataclasses, safe to hand from the
sampling thread to the UI loop. Nothing here touches /proc or Textual.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from pidtop.kernel.fdbudget import FdBudget

#: A process (or thread) is identified by its PID *and* its start time (clock ticks since boot,
#: ``/proc/PID/stat`` field 22). A PID alone can be recycled; the pair only collides when a PID is
#: reused within one clock tick. Pins upgrade this to the pidfs inode (see ``handle.py``).
ProcKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class ProcInfo:
    """One process or thread as seen by one sample.

    Unreadable fields are ``None`` (shown as ``-``). ``comm``/``cmdline`` are sanitized by both
    sources (``fmt.sanitize``: no control characters) but may contain Rich markup characters.
    """

    pid: int  # TID for threads
    tgid: int  # == pid for a process; the owning process for a thread
    ppid: int
    starttime: int  # clock ticks since boot
    state: str  # single letter: R S D Z T t I X ...
    comm: str  # kernel short name (from stat), already decoded with surrogateescape-safe replace
    cmdline: str  # full command line joined by spaces; "" for kernel threads (and unknown)
    uid: int | None
    user: str  # user name, or the numeric uid, or "-"
    priority: int
    nice: int
    num_threads: int
    vsize: int  # bytes
    rss: int  # bytes
    shared: int | None  # bytes (from statm), None when unread/unreadable
    utime: int  # clock ticks
    stime: int  # clock ticks
    processor: int = -1  # last CPU it ran on
    is_kernel_thread: bool = False
    is_thread: bool = False  # a userland thread that is not the group leader
    tty_nr: int = 0  # controlling terminal (stat field 7), 0 = none
    exe_deleted: bool = False  # readlink(/proc/PID/exe) ends in " (deleted)"
    # Optional fields (``extras.py``): None unless the sampler was asked for them.
    io_read: int | None = None  # bytes read from storage; extras.IO_DENIED: not readable
    io_write: int | None = None  # bytes written to storage (same convention)
    cgroup: str | None = None  # one cgroup path (extras.parse_cgroup)
    oom_score: int | None = None
    ctxsw_voluntary: int | None = None  # voluntary context switches since start
    ctxsw_involuntary: int | None = None

    @property
    def key(self) -> ProcKey:
        """Identity within this boot: (pid, starttime)."""
        return (self.pid, self.starttime)

    @property
    def command(self) -> str:
        """What the COMMAND column shows: the command line, or ``[comm]`` for kernel threads.

        Like htop, brackets mean a kernel thread and nothing else: a userland process whose
        command line is unknown (a zombie never seen alive, one caught inside ``execve``)
        shows its bare ``comm``.
        """
        if self.is_kernel_thread:
            return f"[{self.comm}]"
        return self.cmdline or self.comm


@dataclass(frozen=True, slots=True)
class SystemInfo:
    """Host-wide figures for the header meters."""

    cpu_percent: tuple[float, ...]  # per CPU, 0..100, since the previous sample
    mem_total: int  # bytes
    mem_used: int  # bytes, as htop counts it (total - free - buffers - cache - SReclaimable)
    swap_total: int
    swap_used: int
    load: tuple[float, float, float]
    uptime: float  # seconds
    ncpu: int
    #: the number of each CPU in ``cpu_percent`` (an offline CPU has no entry); () = 0, 1, ...
    cpu_ids: tuple[int, ...] = ()

    def cpu_numbers(self) -> tuple[int, ...]:
        """The CPU number of each entry of ``cpu_percent``."""
        return self.cpu_ids or tuple(range(len(self.cpu_percent)))


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One sampling pass."""

    time: float  # monotonic seconds when the sample was taken (drives CPU% maths)
    wall: float  # wall-clock seconds (for display only)
    processes: tuple[ProcInfo, ...]
    system: SystemInfo
    clk_tck: int = 100
    page_size: int = 4096
    boot_time: float = 0.0  # wall-clock seconds of boot (start time -> wall time)
    errors: tuple[str, ...] = field(default=())  # non-fatal problems worth showing once


class ProcessSource(Protocol):
    """Where snapshots come from: the real /proc sampler or a scripted, deterministic one."""

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        """Take one snapshot. May block (runs in a worker thread).

        ``fields``: optional fields to read (``extras.OPTIONAL_FIELDS``; what
        ``ProcessTable.fields`` says the visible columns need). A source may fill more.
        Never raises for a process that vanishes mid-sample."""
        ...

    def now(self) -> float:
        """Wall-clock now, from the same clock as ``Snapshot.wall`` (fixed for scripted sources)."""
        ...

    def share_fd_budget(self, budget: FdBudget) -> None:
        """Files the source may keep open between samples take their fds from ``budget`` (the
        monitor's, shared with pins and watches)."""
        ...

    def drop_held_files(self) -> None:
        """Close what :meth:`share_fd_budget` let the source keep open (the monitor's end)."""
        ...


class HoldsNoFiles:
    """For a source that keeps no file open between samples (scripted, recorded): the
    :class:`ProcessSource` fd budget methods as no-ops."""

    def share_fd_budget(self, budget: FdBudget) -> None:
        """Nothing to hold."""

    def drop_held_files(self) -> None:
        """Nothing held."""
