"""Parsing ``/proc/PID/stat``: the one file the sampler reads for every process every tick."""

from __future__ import annotations

__all__ = ["PF_KTHREAD", "StatFields", "parse_stat"]

#: ``flags`` (stat field 9) bit of kernel threads (include/linux/sched.h).
PF_KTHREAD = 0x00200000


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
        "tty_nr",
        "utime",
        "vsize",
    )

    pid: int
    comm_raw: bytes
    state: str
    ppid: int
    tty_nr: int
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
    s.tty_nr = int(f[4])
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
