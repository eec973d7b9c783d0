"""A process's name and command line read now, as the exact bytes the kernel gives.

The sampler shows sanitized text (``fmt.sanitize``); scripts (``pidtop snapshot --json``)
need the real bytes. Both start here: one reader of ``/proc/PID/cmdline`` outside the
sampler's hot path, and one way of joining argv into a command line.
"""

from __future__ import annotations

from dataclasses import dataclass

from pidtop.process.statparse import PF_KTHREAD, parse_stat

__all__ = ["RawCommand", "argv_join", "read_raw_command"]


def argv_join(raw: bytes) -> str:
    """/proc/PID/cmdline bytes as one line of *real* text: NUL-separated argv joined by spaces
    (a trailing NUL is normal; setproctitle-style titles have none), UTF-8 with U+FFFD for
    invalid bytes. Not sanitized: control characters are kept."""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class RawCommand:
    """A process's name and command line exactly as the kernel gives them (bytes)."""

    comm: bytes | None  # /proc/PID/stat field 2; None when stat was unreadable
    cmdline: bytes  # /proc/PID/cmdline; b"" for kernel threads, zombies, unreadable
    kernel: bool  # a kernel thread (PF_KTHREAD)


def read_raw_command(pid: int) -> RawCommand:
    """Read ``/proc/PID/cmdline`` and the ``comm`` of ``/proc/PID/stat`` now, as bytes."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read()
    except OSError:
        cmdline = b""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return RawCommand(None, cmdline, False)
    return RawCommand(stat.comm_raw, cmdline, bool(stat.flags & PF_KTHREAD))
