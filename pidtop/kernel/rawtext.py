"""A process's name and command line read now, as the exact bytes the kernel gives.

The sampler shows sanitized text (``fmt.sanitize``); scripts (``pidtop snapshot --json``)
need the real bytes. Both start here: one reader of ``/proc/PID/cmdline`` outside the
sampler's hot path, and one way of joining argv into a command line.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from pidtop.kernel.stat import PF_KTHREAD, parse_stat

__all__ = ["RawCommand", "argv_join", "read_raw_command"]


def argv_join(raw: bytes) -> str:
    """/proc/PID/cmdline bytes as one line of *real* text: NUL-separated argv joined by spaces
    (a trailing NUL is normal; setproctitle-style titles have none), UTF-8 with U+FFFD for
    invalid bytes. Not sanitized: control characters are kept."""
    return raw.rstrip(b"\0").replace(b"\0", b" ").decode("utf-8", "replace")


@dataclass(frozen=True, slots=True)
class RawCommand:
    """A process's name and command line exactly as the kernel gives them (bytes)."""

    comm: bytes | None  # /proc/PID/comm (= stat field 2); None when unreadable
    cmdline: bytes  # /proc/PID/cmdline; b"" for kernel threads, zombies, unreadable
    kernel: bool  # a kernel thread (PF_KTHREAD); only looked up when cmdline is empty


_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def _read_all(path: str) -> bytes:
    fd = os.open(path, _O_RDONLY)
    try:
        chunks = []
        while chunk := os.read(fd, 65536):
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def read_raw_command(pid: int) -> RawCommand:
    """Read ``/proc/PID/cmdline`` and ``/proc/PID/comm`` now, as bytes (``os.read``: about
    15 µs for both; ``stat`` is read too only when the command line is empty, to tell a
    kernel thread from a zombie)."""
    try:
        cmdline = _read_all(f"/proc/{pid}/cmdline")
    except OSError:
        cmdline = b""
    comm: bytes | None
    try:
        text = _read_all(f"/proc/{pid}/comm")
    except OSError:
        comm = None
    else:
        comm = text[:-1] if text.endswith(b"\n") else text
    if cmdline:
        return RawCommand(comm, cmdline, False)
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = parse_stat(f.read())
    except (OSError, ValueError, IndexError):
        return RawCommand(comm, cmdline, False)
    kernel = bool(stat.flags & PF_KTHREAD)
    return RawCommand(stat.comm_raw if comm is None else comm, cmdline, kernel)
