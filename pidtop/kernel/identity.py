"""A process's identity: ``PID:INODE`` (parse, format), its start time, the boot clock.

A PID alone is recyclable; the pair (PID, pidfs inode) or (PID, start time) names one process.
"""

from __future__ import annotations

import errno
import os
import re
import time
from dataclasses import dataclass

from pidtop.kernel.errors import FdLimit, HandleError, ProcessGone, fd_limit_text
from pidtop.kernel.stat import parse_stat

CLK_TCK = os.sysconf("SC_CLK_TCK")


PID_MAX = 2**31 - 1  # pid_t; the kernel's own limit (pid_max) is at most 2**22


INODE_MAX = 2**64 - 1  # pidfs inode numbers are 64-bit


_DIGITS = re.compile(r"[0-9]+")  # ASCII only: int() also takes "1_0", "+5", " 5", "١٢٣"


@dataclass(frozen=True, slots=True)
class Identity:
    """What names a process: its PID plus the pidfs inode and/or start time seen for it."""

    pid: int
    inode: int | None = None
    starttime: int | None = None  # clock ticks since boot, /proc/PID/stat field 22

    def __str__(self) -> str:
        return format_identity(self)


def parse_number(text: str, maximum: int) -> int | None:
    """``text`` as a whole number if it is ASCII digits only and at most ``maximum``, else None.

    Stricter than ``int()``, which also accepts signs, spaces, underscores and non-ASCII digits
    (``int("1_0") == 10``, ``int("١٢٣") == 123``): a command that signals processes must act on
    exactly the number that was typed.
    """
    if not _DIGITS.fullmatch(text):
        return None
    value = int(text)
    return value if value <= maximum else None


def parse_target(text: str) -> Identity:
    """Parse ``PID`` or ``PID:INODE`` (util-linux >= 2.42 notation); ValueError if malformed.

    Both parts are ASCII digits only (no sign, space or underscore); PID is at most 2**31-1.
    """
    pid_text, sep, ino_text = text.partition(":")
    pid = parse_number(pid_text, PID_MAX)
    inode = parse_number(ino_text, INODE_MAX) if sep else None
    if pid is None or (sep and inode is None):
        raise ValueError(
            f"malformed target {text!r}: expected PID or PID:INODE (digits 0-9, PID <= {PID_MAX})"
        )
    if pid <= 0 or (inode is not None and inode <= 0):
        raise ValueError(f"malformed target {text!r}: PID and INODE must be positive")
    return Identity(pid, inode)


def format_identity(identity: Identity) -> str:
    """``PID:INODE`` when the inode is known, else just ``PID``."""
    if identity.inode is None:
        return str(identity.pid)
    return f"{identity.pid}:{identity.inode}"


def _read_stat(pid: int) -> tuple[str, int]:
    """(state letter, starttime) from /proc/PID/stat; ProcessGone when it is not there."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except (FileNotFoundError, ProcessLookupError):
        raise ProcessGone(pid) from None
    except OSError as e:
        if e.errno in (errno.EMFILE, errno.ENFILE):
            raise FdLimit(f"PID {pid}: cannot read /proc: {fd_limit_text(e)}") from None
        raise HandleError(f"PID {pid}: cannot read /proc/{pid}/stat: {e.strerror}") from None
    try:
        stat = parse_stat(data)
    except (ValueError, IndexError):
        raise HandleError(f"PID {pid}: malformed /proc/{pid}/stat") from None
    return stat.state, stat.starttime


def read_starttime(pid: int) -> int:
    """Start time of ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22)."""
    return _read_stat(pid)[1]


def boottime_now() -> float:
    """Seconds since boot on the clock start times use (CLOCK_BOOTTIME)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def starttime_to_wall(starttime: int) -> float:
    """Convert a start time in ticks since boot to wall-clock epoch seconds."""
    return time.time() - boottime_now() + starttime / CLK_TCK
