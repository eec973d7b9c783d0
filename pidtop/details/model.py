"""The details screen's data: one read of one process (:class:`Details` and its parts) and
where it comes from (:class:`DetailsSource`: the real reader, :mod:`pidtop.details.reader`, or
the demo's scripted one).

Plain immutable records, no I/O: named tuples (a frozen slotted dataclass costs ~1 ms of
``exec`` to create: 18 ms for this module, most of a first details opening's imports), but
:class:`Unavailable`, which must not be a tuple (a part that is a tuple is told from it). A
part that could not be read is an :class:`Unavailable` with the reason (``permission
denied``, ``exited``...), never an exception. Process text is sanitised by the source (no
control characters).
"""

# (no "from __future__ import annotations": NamedTuple would compile each annotation string)

from dataclasses import dataclass
from typing import Any, NamedTuple, Protocol

from pidtop.kernel.handle import ProcessHandle

__all__ = [
    "NAMESPACES",
    "STATE_WORDS",
    "Ancestor",
    "Cgroup",
    "Credentials",
    "Details",
    "DetailsSource",
    "IoCounters",
    "Limit",
    "Memory",
    "Namespace",
    "Person",
    "ThreadRow",
    "Unavailable",
]

#: ``Details.state`` letters in words
STATE_WORDS = {
    "R": "running",
    "S": "sleeping",
    "D": "disk sleep",
    "Z": "zombie",
    "T": "stopped",
    "t": "tracing stop",
    "X": "dead",
    "I": "idle",
    "P": "parked",
    "W": "paging",
}
#: the namespace types of ``/proc/PID/ns``, in the order they are shown
NAMESPACES = (
    "cgroup",
    "ipc",
    "mnt",
    "net",
    "pid",
    "pid_for_children",
    "time",
    "time_for_children",
    "user",
    "uts",
)


@dataclass(frozen=True, slots=True)
class Unavailable:
    """A part that could not be read, and why (``permission denied``, ``exited``...)."""

    reason: str

    def __str__(self) -> str:
        return self.reason


class Person(NamedTuple):
    """A uid or gid with its name (the number when it has none)."""

    id: int
    name: str

    def __str__(self) -> str:
        return self.name if self.name == str(self.id) else f"{self.name} ({self.id})"


class Credentials(NamedTuple):
    """real, effective, saved, filesystem uids and gids; supplementary groups."""

    uids: tuple[Person, Person, Person, Person]
    gids: tuple[Person, Person, Person, Person]
    groups: tuple[Person, ...]


class ThreadRow(NamedTuple):
    tid: int
    name: str
    state: str
    cpu: float | None  # % of one CPU since the previous read; None on the first
    ticks: int  # utime + stime
    processor: int


class Memory(NamedTuple):
    rss: int
    vms: int
    shared: int
    uss: int | None = None  # only with full (smaps) reads
    pss: int | None = None
    swap: int | None = None


class IoCounters(NamedTuple):
    read_bytes: int
    write_bytes: int
    read_chars: int
    write_chars: int
    read_calls: int
    write_calls: int
    #: bytes/s since the previous read (storage read, storage write); None on the first
    read_rate: float | None = None
    write_rate: float | None = None


class Cgroup(NamedTuple):
    path: str
    unit: str | None  # systemd unit (``ssh.service``, ``session-3.scope``)
    container: str | None  # ``docker 0123456789ab``, ``podman ...``, ``kubernetes pod ...``


class Namespace(NamedTuple):
    name: str
    id: int | None  # None: unreadable
    shared: bool  # the same as pidtop's own


class Limit(NamedTuple):
    name: str
    soft: int
    hard: int
    unit: str


class Ancestor(NamedTuple):
    pid: int
    starttime: int
    name: str


class Details(NamedTuple):
    """One read of one process. Process text is sanitised (no control characters)."""

    pid: int
    inode: int | None
    starttime: int
    target: str  # PID:INODE (or PID)
    read_at: float  # wall-clock seconds of this read
    read_mono: float  # monotonic seconds (rates)
    comm: str
    argv: tuple[str, ...] | Unavailable
    exe: str | Unavailable
    exe_deleted: bool
    cwd: str | Unavailable
    cwd_deleted: bool
    ppid: int
    parents: tuple[Ancestor, ...]
    creds: Credentials | Unavailable
    state: str  # letter
    start_wall: float
    age: float  # seconds
    nice: int
    priority: int
    policy: str
    rt_priority: int
    cpu: float | None  # % of one CPU since the previous read
    cpu_ticks: int
    affinity: tuple[int, ...] | Unavailable
    ionice: tuple[str, int] | Unavailable
    num_threads: int
    threads: tuple[ThreadRow, ...] | Unavailable
    memory: Memory | Unavailable
    full_memory: Memory | Unavailable | None  # None: not asked for
    io: IoCounters | Unavailable
    cgroup: Cgroup | Unavailable
    namespaces: tuple[Namespace, ...] | Unavailable
    limits: tuple[Limit, ...] | Unavailable
    num_fds: int | Unavailable
    kernel_thread: bool = False

    @property
    def state_text(self) -> str:
        return f"{self.state} ({STATE_WORDS.get(self.state, '?')})"

    @property
    def command(self) -> str:
        if self.kernel_thread:
            return f"[{self.comm}]"
        if isinstance(self.argv, tuple) and self.argv:
            return " ".join(self.argv)
        return self.comm


class DetailsSource(Protocol):
    """Where the details screen gets its handle and data: real /proc or the scripted source."""

    def open(self, pid: int, starttime: int | None) -> ProcessHandle:
        """A verified handle (HandleError if that process is gone or the PID is another's)."""
        ...

    def read(
        self, handle: ProcessHandle, previous: Details | None, *, full_memory: bool = False
    ) -> Details | None:
        """One read; None when the process is gone (the read was thrown away)."""
        ...

    def environ(self, handle: ProcessHandle) -> dict[str, str] | Unavailable: ...

    def files(self, handle: ProcessHandle, first: int | None = None) -> list[Any] | Unavailable:
        """The fd table (:class:`pidtop.details.openfiles.FdEntry` rows). With ``first``, the
        rows after the first ``first`` may be pending (``mode`` None): :meth:`complete_files`."""
        ...

    def complete_files(self, handle: ProcessHandle, rows: list[Any]) -> list[Any] | Unavailable:
        """``rows`` of :meth:`files` with their pending rows read."""
        ...
