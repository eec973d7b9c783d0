"""Exit journal records: one exit, or events lost; filters and text forms (no I/O)."""

from __future__ import annotations

import pwd
import re
import signal as _signal
import time
from dataclasses import dataclass, fields

from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.kernel.signals import signal_name
from pidtop.sampling.fmt import format_duration, sanitize

__all__ = [
    "CORE_SIGNALS",
    "HEADER",
    "ExitRecord",
    "LostRecord",
    "Record",
    "RecordFilter",
    "describe",
    "format_lifetime",
    "lifetime_text",
    "new_exit_record",
    "record_user",
    "status_text",
    "text_line",
    "user_name",
]


# --------------------------------------------------------------------------- records

#: signals whose default action dumps core (signal(7)): a process killed by one crashed
CORE_SIGNALS = frozenset(
    int(getattr(_signal, n))
    for n in (
        "SIGQUIT",
        "SIGILL",
        "SIGTRAP",
        "SIGABRT",
        "SIGBUS",
        "SIGFPE",
        "SIGSEGV",
        "SIGXCPU",
        "SIGXFSZ",
        "SIGSYS",
    )
    if hasattr(_signal, n)
)


@dataclass(frozen=True, slots=True)
class ExitRecord:
    """One process exit. Text fields are the process's own text (not sanitised)."""

    time: float  # wall clock (epoch seconds) of the exit
    monotonic: float  # CLOCK_MONOTONIC seconds of the exit (rates, ordering)
    pid: int
    ppid: int  # the parent at exit (after re-parenting); at fork if the kernel did not say; 0: ?
    uid: int | None  # real user ID
    comm: str | None
    cmdline: str | None  # None: the process was gone before its command line could be read
    status: ExitStatus
    lifetime_s: float | None
    inode: int | None = None  # pidfs inode, when pidtop held a pidfd for the process
    user: str | None = None  # the user's name when the source knows it (scripted); else by uid
    #: what the kernel said about the core dump (PIDFD_INFO_COREDUMP, 6.19+, pidfd held):
    #: ``written`` or ``skipped``; ``unknown`` when it did not say (see :attr:`coredump`)
    coredump_fact: str = "unknown"
    #: how exact ``lifetime_s`` is, in seconds: None for event timestamps (ns); one clock tick
    #: (0.01 s) when it comes from a /proc start time (the fallback, processes older than pidtop)
    lifetime_resolution_s: float | None = None

    kind = "exit"

    @property
    def exit_code(self) -> int | None:
        return self.status.code if self.status.known else None

    @property
    def signal(self) -> int | None:
        return self.status.signal if self.status.known else None

    @property
    def core_dumped(self) -> bool | None:
        return self.status.core_dumped if self.status.known else None

    @property
    def crashed(self) -> bool:
        """Killed by a signal whose default action dumps core (SIGSEGV, SIGABRT ...)."""
        return self.status.known and self.status.signal in CORE_SIGNALS

    @property
    def coredump(self) -> str | None:
        """``written`` / ``skipped`` / ``unknown`` for a crash, None for any other end."""
        return self.coredump_fact if self.crashed else None

    @property
    def failed(self) -> bool:
        """Non-zero exit or killed by a signal (an unknown status is not counted)."""
        return self.status.known and (self.status.signal is not None or bool(self.status.code))

    def to_dict(self) -> dict[str, object]:
        """The documented, stable JSON fields (see README, ``pidtop journal``)."""
        return {
            "event": "exit",
            "time": round(self.time, 6),
            "pid": self.pid,
            "ppid": self.ppid,
            "uid": self.uid,
            "comm": self.comm,
            "cmdline": self.cmdline,
            "exit_code": self.exit_code,
            "signal": self.signal,
            "core_dumped": self.core_dumped,
            "coredump": self.coredump,
            "lifetime_s": None if self.lifetime_s is None else round(self.lifetime_s, 6),
            "lifetime_resolution_s": self.lifetime_resolution_s,
            "inode": self.inode,
        }

    def to_json(self) -> str:
        import json  # for the command line's --json: not on the monitor's start-up path

        return json.dumps(self.to_dict(), ensure_ascii=True)


#: the slots' own setters, in field order (see :func:`new_exit_record`)
(
    _SET_TIME,
    _SET_MONOTONIC,
    _SET_PID,
    _SET_PPID,
    _SET_UID,
    _SET_COMM,
    _SET_CMDLINE,
    _SET_STATUS,
    _SET_LIFETIME,
    _SET_INODE,
    _SET_USER,
    _SET_COREDUMP,
    _SET_RESOLUTION,
) = (getattr(ExitRecord, f.name).__set__ for f in fields(ExitRecord))
_object_new = object.__new__


def new_exit_record(
    time: float,
    monotonic: float,
    pid: int,
    ppid: int,
    uid: int | None,
    comm: str | None,
    cmdline: str | None,
    status: ExitStatus,
    lifetime_s: float | None,
    lifetime_resolution_s: float | None,
) -> ExitRecord:
    """The same :class:`ExitRecord` as its constructor makes (no inode, no user, coredump
    unknown), for the journal's reader, which makes one per exit: the frozen dataclass's
    ``__init__`` sets each of the 13 fields through ``object.__setattr__`` (2.7 µs, the largest
    part of the reader's work per exit); this sets the slots directly (1.1 µs)."""
    r = _object_new(ExitRecord)
    _SET_TIME(r, time)
    _SET_MONOTONIC(r, monotonic)
    _SET_PID(r, pid)
    _SET_PPID(r, ppid)
    _SET_UID(r, uid)
    _SET_COMM(r, comm)
    _SET_CMDLINE(r, cmdline)
    _SET_STATUS(r, status)
    _SET_LIFETIME(r, lifetime_s)
    _SET_INODE(r, None)
    _SET_USER(r, None)
    _SET_COREDUMP(r, "unknown")
    _SET_RESOLUTION(r, lifetime_resolution_s)
    return r


@dataclass(frozen=True, slots=True)
class LostRecord:
    """Events the journal never received (``events`` exact); exits among them are missing:
    at most ``events`` of them (any lost event may have been an exit; no tighter bound is
    known from the kernel's sequence numbers)."""

    time: float
    monotonic: float
    events: int
    overflow: bool  # the socket's receive buffer overflowed (ENOBUFS)

    kind = "lost"
    failed = False

    def to_dict(self) -> dict[str, object]:
        return {
            "event": "lost",
            "time": round(self.time, 6),
            "lost_events": self.events,
            "exits_missing_max": self.exits_missing_max,
            "overflow": self.overflow,
        }

    def to_json(self) -> str:
        import json  # for the command line's --json: not on the monitor's start-up path

        return json.dumps(self.to_dict(), ensure_ascii=True)

    @property
    def exits_missing_max(self) -> int:
        """An upper bound on the exits missing because of this loss."""
        return self.events

    def describe(self) -> str:
        cause = " (receive buffer overflow)" if self.overflow else ""
        return f"{self.events} event{'s' if self.events != 1 else ''} lost{cause}"

    def missing(self) -> str:
        """``up to 37 exits missing``."""
        n = self.exits_missing_max
        return f"up to {n} exit{'s' if n != 1 else ''} missing"


Record = ExitRecord | LostRecord


# --------------------------------------------------------------------------- filters


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """Which records to show. Lost records always pass: losses are never hidden."""

    failed: bool = False
    uids: frozenset[int] = frozenset()
    command: re.Pattern[str] | None = None  # searched in comm and cmdline
    pids: frozenset[int] = frozenset()
    ppids: frozenset[int] = frozenset()
    text: str = ""  # case-insensitive substring of pid, ppid, user, comm, cmdline, status

    def __call__(self, record: Record, user: str = "") -> bool:
        if isinstance(record, LostRecord):
            return True
        if self.failed and not record.failed:
            return False
        if self.uids and record.uid not in self.uids:
            return False
        if self.pids and record.pid not in self.pids:
            return False
        if self.ppids and record.ppid not in self.ppids:
            return False
        if self.command is not None and not (
            self.command.search(record.comm or "") or self.command.search(record.cmdline or "")
        ):
            return False
        if self.text:
            hay = " ".join(
                (str(record.pid), str(record.ppid), user, record.comm or "", record.cmdline or "")
            )
            if self.text.lower() not in hay.lower() + " " + status_text(record).lower():
                return False
        return True


def status_text(record: ExitRecord) -> str:
    """``exit 0``, ``exit 3``, ``SIGKILL``, ``SIGSEGV core``, ``unknown``."""
    status = record.status
    if not status.known:
        return "unknown"
    if status.signal is not None:
        return signal_name(status.signal) + (" core" if status.core_dumped else "")
    return f"exit {status.code}"


def format_lifetime(seconds: float | None) -> str:
    """``0.4ms``, ``12.3ms``, ``1.25s``, ``3m12s`` ...; ``-`` when unknown."""
    if seconds is None:
        return "-"
    if seconds < 0.1:
        return f"{seconds * 1000:.1f}ms"
    if seconds < 10:
        return f"{seconds:.2f}s"
    return format_duration(seconds)


def lifetime_text(record: ExitRecord) -> str:
    """The lifetime as shown: exact (``4.2ms``), or to its resolution when that is coarse:
    ``~1.25s``, ``<10.0ms`` (from /proc start times, counted in 10 ms clock ticks)."""
    seconds, resolution = record.lifetime_s, record.lifetime_resolution_s
    if seconds is None or resolution is None:
        return format_lifetime(seconds)
    if seconds < resolution:
        return "<" + format_lifetime(resolution)
    return "~" + format_lifetime(seconds)


_users: dict[int, str] = {}


def user_name(uid: int | None) -> str:
    """The user name of ``uid`` (cached), its number without one, ``?`` when unknown."""
    if uid is None:
        return "?"
    name = _users.get(uid)
    if name is None:
        try:
            name = pwd.getpwuid(uid).pw_name
        except KeyError:
            name = str(uid)
        _users[uid] = name
    return name


def record_user(record: Record) -> str:
    """The user name shown for a record: its own (scripted sources), else looked up by uid;
    empty for a loss."""
    if isinstance(record, LostRecord):
        return ""
    return record.user if record.user is not None else user_name(record.uid)


def text_line(record: Record) -> str:
    """One sanitised line under :data:`HEADER`: time (ms), PID, parent, user, status,
    lifetime, command (marked when not captured). Shared by ``pidtop journal`` and the UI."""
    stamp = time.strftime("%H:%M:%S", time.localtime(record.time))
    stamp += f".{int(record.time * 1000) % 1000:03d}"
    if isinstance(record, LostRecord):
        return f"{stamp} *** {record.describe()}: {record.missing()}"
    command = record.cmdline
    if command is None:
        command = f"{record.comm or '?'} (command line not captured)"
    user = sanitize(record_user(record))
    user = user if len(user) <= 8 else user[:7] + "+"
    return (
        f"{stamp} {record.pid:>7} {record.ppid:>7} {user:<8} {status_text(record):<13} "
        f"{lifetime_text(record):>8}  {sanitize(command)}"
    )


HEADER = f"{'TIME':<12} {'PID':>7} {'PPID':>7} {'USER':<8} {'STATUS':<13} {'LIVED':>8}  COMMAND"


def _core_words(coredump: str | None) -> str:
    """``; core: unknown`` / ``; core dumped (written)`` / ``; core dump skipped``; ``""``."""
    if coredump is None:
        return ""
    if coredump == "written":
        return "; core dumped (written)"
    if coredump == "skipped":
        return "; core dump skipped"
    return "; core: unknown"


def describe(record: Record) -> str:
    """Everything about one record in words, sanitised (the Exits screen's detail lines)."""
    if isinstance(record, LostRecord):
        return f"{record.describe()}: {record.missing()} from this list"
    lived = lifetime_text(record)
    if record.lifetime_resolution_s is not None and record.lifetime_s is not None:
        lived += f" (to {format_lifetime(record.lifetime_resolution_s)}: a /proc start time)"
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(record.time))
    user = sanitize(record_user(record))
    uid = "" if record.uid is None or user == str(record.uid) else f" (uid {record.uid})"
    inode = f", pidfs inode {record.inode}" if record.inode is not None else ""
    head = (
        f"PID {record.pid}{inode}, child of {record.ppid or '?'}, user {user}{uid}: "
        f"{record.status.describe()} at {when}, lived {lived}{_core_words(record.coredump)}"
    )
    if record.cmdline is not None:
        return f"{head}\n{sanitize(record.cmdline)}"
    name = sanitize(record.comm) if record.comm else "?"
    return f"{head}\n{name} (its command line was gone before it could be read)"
