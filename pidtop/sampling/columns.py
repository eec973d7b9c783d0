"""The column registry: every column the process table can show, in one place.

Each ``Column`` says how it looks (title, width, alignment), how it sorts, what its cell text
is, what its raw value is (``raw(row)``, in ``unit``: for batch output), whether it is shown by
default, which optional sampler fields it needs (``extras.py``; a hidden column reads
nothing), how early it goes on a narrow terminal, and whether the text filter looks at it.
The setup screen lists ``COLUMNS``; ``ProcessTable.set_columns(ids)`` picks and orders the
visible ones. No Textual, no /proc reads (except a one-off scan of /dev to name an unusual TTY).

Units of ``raw``: ``bytes``, ``bytes/s``, ``ticks`` (clock ticks, ``Snapshot.clk_tck`` per
second; STARTTIME is ticks since boot), ``percent`` (of one CPU for CPU%, may exceed 100; of
total memory for MEM%), ``count``, ``""`` for identifiers, names and text. ``None`` when the
value is unknown or unreadable (I/O of another user's process: ``info.io_read ==
IO_DENIED``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from pidtop.sampling.extras import (
    FIELD_CGROUP,
    FIELD_CTXSW,
    FIELD_IO,
    FIELD_OOM,
    IO_DENIED,
    cgroup_unit,
    tty_name,
)
from pidtop.sampling.fmt import format_time_plus, human_bytes, truncate_plus

if TYPE_CHECKING:
    from pidtop.sampling.rows import Row
    from pidtop.sampling.snapshot import Snapshot

__all__ = [
    "COLUMNS",
    "COLUMN_BY_ID",
    "DEFAULT_COLUMNS",
    "Column",
    "cell_text",
    "resolve_sort_key",
]

Unit = Literal["", "bytes", "bytes/s", "ticks", "percent", "count"]


@dataclass(frozen=True, slots=True)
class Column:
    """A table column. ``width`` 0 means "the rest of the line" (COMMAND)."""

    id: str
    title: str
    width: int
    align: Literal["left", "right"]
    sort_key: Callable[[Row], Any]
    default_reverse: bool  # descending by default (CPU, MEM, TIME, RES ... like htop)
    #: the cell's text from the row, the snapshot it was merged from (None: unknown) and the
    #: clock ticks per second (the snapshot's when there is one)
    text: Callable[[Row, Snapshot | None, int], str] = field(repr=False, default=lambda r, s, c: "")
    raw: Callable[[Row], object] = field(repr=False, default=lambda r: None)
    unit: Unit = ""
    description: str = ""
    default_visible: bool = False
    #: optional sampler fields (``extras.OPTIONAL_FIELDS``) this column needs
    fields: frozenset[str] = frozenset()
    #: narrow terminals: the column with the highest number goes first
    drop: int = 50
    #: dropped only after COMMAND is down to ``layout.ESSENTIAL_COMMAND_WIDTH`` cells
    essential: bool = False
    #: the text filter (``\\``) also matches this column's text while it is shown
    filterable: bool = False
    #: where text longer than the column is cut (``left`` keeps the end: cgroup paths)
    cut: Literal["left", "right"] = "right"


def _none_low(v: int | float | None) -> int | float:
    return -1 if v is None else v


def _count(n: int | None) -> str:
    """A count in at most 6 characters: ``123456``, ``1.23M``, ``45.6M``, ``789G``."""
    if n is None:
        return "-"
    if n < 1_000_000:
        return str(n)
    for unit, scale in (("M", 1e6), ("G", 1e9), ("T", 1e12)):
        v = n / scale
        if v < 9.995:
            return f"{v:.2f}{unit}"
        if v < 99.95:
            return f"{v:.1f}{unit}"
        if v < 999.5 or unit == "T":
            return f"{v:.0f}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def _start_wall(row: Row, snap: Snapshot | None) -> float | None:
    if snap is None or snap.boot_time <= 0:
        return None
    return snap.boot_time + row.info.starttime / snap.clk_tck


def _start_text(row: Row, snap: Snapshot | None, clk_tck: int = 100) -> str:
    """htop's START: ``HH:MM`` within the last 24 hours, else ``MonDD`` (local time)."""
    start = _start_wall(row, snap)
    if start is None or snap is None:
        return "-"
    fmt = "%H:%M" if snap.wall - start < 86400 else "%b%d"
    return time.strftime(fmt, time.localtime(start))


def _io_text(counter: int | None, rate: float | None) -> str:
    if counter == IO_DENIED:
        return "no perm"
    if counter is None or rate is None:
        return "-"
    return human_bytes(round(rate))


def _io_key(counter: int | None, rate: float | None) -> float:
    if counter == IO_DENIED:
        return -1.0
    return -0.5 if rate is None else rate


def _cpu_text(row: Row, snap: Snapshot | None, clk_tck: int = 100) -> str:
    return f"{row.cpu:.1f}" if row.cpu < 99.95 else f"{row.cpu:.0f}"


_USER_WIDTH = 9

#: Registry order: the default columns in htop's order (PID USER PRI NI VIRT RES SHR S CPU%
#: MEM% TIME+ Command) with the optional ones where htop's field list has them.
COLUMNS: tuple[Column, ...] = (
    Column(
        "pid", "PID", 7, "right", lambda r: r.info.pid, False,
        text=lambda r, s, c: str(r.info.pid), raw=lambda r: r.info.pid,
        description="Process (or thread) ID", default_visible=True, drop=0, essential=True,
    ),
    Column(
        "ppid", "PPID", 7, "right", lambda r: r.info.ppid, False,
        text=lambda r, s, c: str(r.info.ppid), raw=lambda r: r.info.ppid,
        description="Parent process ID", drop=72,
    ),
    Column(
        "user", "USER", _USER_WIDTH, "left", lambda r: r.info.user, False,
        text=lambda r, s, c: truncate_plus(r.info.user, _USER_WIDTH), raw=lambda r: r.info.user,
        description="Effective user (name, or the uid when it has none)", default_visible=True,
        drop=40,
    ),
    Column(
        "tty", "TTY", 8, "left", lambda r: (r.info.tty_nr == 0, tty_name(r.info.tty_nr)), False,
        text=lambda r, s, c: tty_name(r.info.tty_nr), raw=lambda r: tty_name(r.info.tty_nr),
        description="Controlling terminal, as ps names it (? for none)", drop=70,
        filterable=True,
    ),
    Column(
        "pri", "PRI", 3, "right", lambda r: r.info.priority, False,
        text=lambda r, s, c: "RT" if r.info.priority <= -100 else str(r.info.priority),
        raw=lambda r: r.info.priority,
        description="Kernel scheduling priority (RT: real-time)", default_visible=True, drop=100,
    ),
    Column(
        "ni", "NI", 3, "right", lambda r: r.info.nice, False,
        text=lambda r, s, c: str(r.info.nice), raw=lambda r: r.info.nice,
        description="Nice value (-20 .. 19)", default_visible=True, drop=95,
    ),
    Column(
        "virt", "VIRT", 5, "right", lambda r: r.info.vsize, True,
        text=lambda r, s, c: human_bytes(r.info.vsize), raw=lambda r: r.info.vsize, unit="bytes",
        description="Virtual memory size", default_visible=True, drop=85,
    ),
    Column(
        "res", "RES", 5, "right", lambda r: r.info.rss, True,
        text=lambda r, s, c: human_bytes(r.info.rss), raw=lambda r: r.info.rss, unit="bytes",
        description="Resident memory (exact, from statm, like VmRSS)", default_visible=True,
        drop=35,
    ),
    Column(
        "shr", "SHR", 5, "right", lambda r: _none_low(r.info.shared), True,
        text=lambda r, s, c: human_bytes(r.info.shared), raw=lambda r: r.info.shared, unit="bytes",
        description="Shared resident memory (file-backed and shmem)", default_visible=True,
        drop=90,
    ),
    Column(
        "s", "S", 1, "left", lambda r: r.info.state, True,
        text=lambda r, s, c: r.info.state, raw=lambda r: r.info.state,
        description="State: R running, S sleeping, D disk, Z zombie, T stopped, I idle",
        default_visible=True, drop=50,
    ),
    Column(
        "cpu", "CPU%", 5, "right", lambda r: r.cpu, True,
        text=_cpu_text, raw=lambda r: r.cpu, unit="percent",
        description="CPU use over the last interval, % of one CPU", default_visible=True,
        drop=10, essential=True,
    ),
    Column(
        "mem", "MEM%", 5, "right", lambda r: r.mem, True,
        text=lambda r, s, c: f"{r.mem:.1f}", raw=lambda r: r.mem, unit="percent",
        description="Resident memory, % of total memory", default_visible=True, drop=15,
        essential=True,
    ),
    Column(
        "time", "TIME+", 9, "right", lambda r: r.info.utime + r.info.stime, True,
        text=lambda r, s, c: format_time_plus(r.info.utime + r.info.stime, c),
        raw=lambda r: r.info.utime + r.info.stime, unit="ticks",
        description="CPU time used (user + system)", default_visible=True, drop=20,
        essential=True,
    ),
    Column(
        "start", "START", 5, "right", lambda r: r.info.starttime, True,
        text=_start_text, raw=lambda r: r.info.starttime, unit="ticks",
        description="Start time (HH:MM today, else month and day)", drop=68,
    ),
    Column(
        "nlwp", "NLWP", 4, "right", lambda r: r.info.num_threads, True,
        text=lambda r, s, c: str(r.info.num_threads), raw=lambda r: r.info.num_threads,
        unit="count", description="Number of threads", drop=66,
    ),
    Column(
        "io_read", "RD/s", 7, "right", lambda r: _io_key(r.info.io_read, r.io_read_rate), True,
        text=lambda r, s, c: _io_text(r.info.io_read, r.io_read_rate),
        raw=lambda r: None if r.info.io_read == IO_DENIED else r.io_read_rate, unit="bytes/s",
        description="Storage read rate (/proc/PID/io read_bytes)", fields=frozenset({FIELD_IO}),
        drop=63,
    ),
    Column(
        "io_write", "WR/s", 7, "right", lambda r: _io_key(r.info.io_write, r.io_write_rate),
        True,
        text=lambda r, s, c: _io_text(r.info.io_write, r.io_write_rate),
        raw=lambda r: None if r.info.io_write == IO_DENIED else r.io_write_rate,
        unit="bytes/s", description="Storage write rate (/proc/PID/io write_bytes)",
        fields=frozenset({FIELD_IO}), drop=64,
    ),
    Column(
        "oom", "OOM", 4, "right", lambda r: _none_low(r.info.oom_score), True,
        text=lambda r, s, c: "-" if r.info.oom_score is None else str(r.info.oom_score),
        raw=lambda r: r.info.oom_score,
        description="OOM killer score (/proc/PID/oom_score)", fields=frozenset({FIELD_OOM}),
        drop=74,
    ),
    Column(
        "vcsw", "VCSW", 6, "right", lambda r: _none_low(r.info.ctxsw_voluntary), True,
        text=lambda r, s, c: _count(r.info.ctxsw_voluntary), raw=lambda r: r.info.ctxsw_voluntary,
        unit="count", description="Voluntary context switches (waits) since start",
        fields=frozenset({FIELD_CTXSW}), drop=76,
    ),
    Column(
        "icsw", "ICSW", 6, "right", lambda r: _none_low(r.info.ctxsw_involuntary), True,
        text=lambda r, s, c: _count(r.info.ctxsw_involuntary),
        raw=lambda r: r.info.ctxsw_involuntary,
        unit="count", description="Involuntary context switches (preemptions) since start",
        fields=frozenset({FIELD_CTXSW}), drop=75,
    ),
    Column(
        "cgroup", "CGROUP", 24, "left", lambda r: r.info.cgroup or "", False,
        text=lambda r, s, c: r.info.cgroup or "-", raw=lambda r: r.info.cgroup,
        description="Control group (cgroup v2 path, else the systemd one)",
        fields=frozenset({FIELD_CGROUP}), drop=80, filterable=True, cut="left",
    ),
    Column(
        "unit", "UNIT", 20, "left", lambda r: cgroup_unit(r.info.cgroup), False,
        text=lambda r, s, c: cgroup_unit(r.info.cgroup) or "-",
        raw=lambda r: cgroup_unit(r.info.cgroup) or None,
        description="Container, else systemd unit (from the cgroup)",
        fields=frozenset({FIELD_CGROUP}), drop=78, filterable=True,
    ),
    Column(
        "command", "Command", 0, "left", lambda r: r.info.command, False,
        text=lambda r, s, c: r.info.command, raw=lambda r: r.info.command,
        description="Command line ([name] for kernel threads)", default_visible=True, drop=0,
        essential=True,
    ),
)  # fmt: skip
COLUMN_BY_ID: Mapping[str, Column] = {c.id: c for c in COLUMNS}
#: ids of the columns shown by default, in order (htop's default set)
DEFAULT_COLUMNS: tuple[str, ...] = tuple(c.id for c in COLUMNS if c.default_visible)


def cell_text(
    row: Row, column_id: str, clk_tck: int = 100, *, snapshot: Snapshot | None = None
) -> str:
    """The unpadded text of one cell, htop style (``-`` for unknown values).

    ``snapshot`` (the one the row was merged from; its ``clk_tck`` wins over ``clk_tck``)
    gives the boot time START needs (``-`` without it). Process text (USER, COMMAND) is
    sanitized by the sources (no control characters); render it as ``rich.text.Text``, never
    as markup. A USER longer than its column ends in ``+`` like ``ps`` (a long numeric uid cut
    silently would read as another, valid uid). Raises KeyError for an unknown column id.
    """
    if snapshot is not None:
        clk_tck = snapshot.clk_tck
    return COLUMN_BY_ID[column_id].text(row, snapshot, clk_tck)


#: htop's field names (``-s PERCENT_CPU``, its config) for our columns, where they differ
_HTOP_NAMES = {
    "percent_cpu": "cpu",
    "percent_mem": "mem",
    "m_resident": "res",
    "m_virt": "virt",
    "m_share": "shr",
    "state": "s",
    "priority": "pri",
    "nice": "ni",
    "time": "time",
    "time+": "time",
    "starttime": "start",
    "io_read_rate": "io_read",
    "io_write_rate": "io_write",
    "ctxt": "vcsw",
}


def resolve_sort_key(name: str | None) -> str | None:
    """A column id from its id (``cpu``), title (``CPU%``) or htop key (``PERCENT_CPU``);
    None when no column has that name. The monitor's and ``pidtop snapshot``'s ``-s``."""
    if not name:
        return None
    wanted = name.strip().lower()
    wanted = _HTOP_NAMES.get(wanted, wanted)
    for col in COLUMNS:
        if wanted in (col.id, col.title.lower()):
            return col.id
    return None
