"""The pure parsers of one process's /proc files for the details screen (no I/O, no Textual):
status ids, the CPU list, ``name: value`` tables (io, smaps_rollup), cmdline, environ, limits,
and the scheduling fields of stat. The reader (:mod:`pidtop.details.reader`) reads the files
through the process's own directory fd and hands the bytes or text here.
"""

from __future__ import annotations

import grp
import pwd
import resource

from pidtop.details.model import Credentials, Limit, Person
from pidtop.sampling.fmt import sanitize

__all__ = [
    "LIMITS",
    "SCHED_POLICIES",
    "UNLIMITED",
    "kv_numbers",
    "parse_argv",
    "parse_cpu_list",
    "parse_environ",
    "parse_limits",
    "parse_status_ids",
    "scheduling",
    "status_field",
]

SCHED_POLICIES = {
    0: "SCHED_OTHER",
    1: "SCHED_FIFO",
    2: "SCHED_RR",
    3: "SCHED_BATCH",
    5: "SCHED_IDLE",
    6: "SCHED_DEADLINE",
}
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


def _person(id_: int, group: bool) -> Person:
    try:
        name = grp.getgrgid(id_).gr_name if group else pwd.getpwuid(id_).pw_name
    except (KeyError, OverflowError):
        name = str(id_)
    return Person(id_, sanitize(name))


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


def scheduling(stat: bytes) -> tuple[str, int]:
    """(policy, real-time priority): ``/proc/PID/stat`` fields 41 and 40 (the stat parser
    does not keep them); ``("?", 0)`` when absent."""
    fields = stat[stat.rfind(b")") + 2 :].split()
    try:
        policy, rt_priority = int(fields[41 - 3]), int(fields[40 - 3])
    except (IndexError, ValueError):
        return "?", 0
    return SCHED_POLICIES.get(policy, f"policy {policy}"), rt_priority


def parse_cpu_list(text: str) -> tuple[int, ...]:
    """``0-3,6`` (``Cpus_allowed_list``) as CPU numbers."""
    cpus: list[int] = []
    for item in text.strip().split(","):
        if not item:
            continue
        low, _, high = item.partition("-")
        cpus.extend(range(int(low), int(high or low) + 1))
    return tuple(cpus)


def status_field(status: str, key: str) -> str:
    for line in status.splitlines():
        name, _, value = line.partition(":")
        if name == key:
            return value.strip()
    raise KeyError(key)


def kv_numbers(text: str) -> dict[str, int]:
    """``Name: 123 kB`` / ``name: 123`` lines as name -> number (bytes for ``kB``)."""
    out: dict[str, int] = {}
    for line in text.splitlines():
        name, _, value = line.partition(":")
        parts = value.split()
        if parts and parts[0].isdigit():
            out[name.strip()] = int(parts[0]) * (1024 if parts[1:2] == ["kB"] else 1)
    return out


def parse_argv(raw: bytes) -> tuple[str, ...]:
    """``/proc/PID/cmdline`` as sanitized arguments (empty for a kernel thread or zombie)."""
    if raw.endswith(b"\0"):
        raw = raw[:-1]
    return tuple(sanitize(a.decode("utf-8", "replace")) for a in raw.split(b"\0")) if raw else ()


def parse_environ(raw: bytes) -> dict[str, str]:
    """``/proc/PID/environ`` as a dict (the process's own text: the screen sanitizes it)."""
    env: dict[str, str] = {}
    for item in raw.split(b"\0"):
        if item:
            key, _, value = item.decode("utf-8", "replace").partition("=")
            env[key] = value
    return env


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
