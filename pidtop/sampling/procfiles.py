"""Small readers of /proc files for the sampler: relative to a /proc directory fd, one
``os.open``/``os.read``/``os.close`` each (~6 µs, against ~10 µs for ``open()``), and the decoding
of a command line. ``read_command`` reads one process's COMMAND text at once (``--pin``)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from pidtop.kernel.procdir import read_all_at
from pidtop.kernel.rawtext import argv_join, read_raw_command
from pidtop.sampling.extras import IO_DENIED, parse_io
from pidtop.sampling.fmt import sanitize

__all__ = [
    "argv_text",
    "exe_deleted_at",
    "read_all_at",
    "read_at",
    "read_cmdline_at",
    "read_command",
    "read_io",
]

_O_RDONLY = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def read_at(dirfd: int, rel: str, size: int = 4096) -> bytes:
    """One read of ``rel`` (relative to ``dirfd``): enough for stat, statm, io, oom_score."""
    fd = os.open(rel, _O_RDONLY, dir_fd=dirfd)
    try:
        return os.read(fd, size)
    finally:
        os.close(fd)


def read_cmdline_at(dirfd: int, name: str) -> bytes:
    """/proc/PID/cmdline (``b""`` if unreadable), in one read when it is under 64 KiB (the
    kernel fills the buffer in one call; a second read just to see the end costs ~1 µs)."""
    try:
        fd = os.open(name + "/cmdline", _O_RDONLY, dir_fd=dirfd)
    except OSError:
        return b""
    try:
        data = os.read(fd, 65536)
        if len(data) < 65536:
            return data
        chunks = [data]
        while data:
            data = os.read(fd, 65536)
            chunks.append(data)
        return b"".join(chunks)
    except OSError:
        return b""
    finally:
        os.close(fd)


def exe_deleted_at(dirfd: int, name: str, before: bool) -> bool:
    """Whether the executable's link reads ``... (deleted)``; ``before`` when unreadable
    (another user's process without root, or gone)."""
    try:
        return os.readlink(name + "/exe", dir_fd=dirfd).endswith(" (deleted)")
    except OSError:
        return before


def read_io(read: Callable[[str, int], bytes], base: str) -> tuple[int | None, int | None]:
    """``(read_bytes, write_bytes)`` of ``base + "io"``; ``IO_DENIED`` twice when not
    readable, ``None`` twice when gone."""
    try:
        return parse_io(read(base + "io", 1024))
    except PermissionError:
        return IO_DENIED, IO_DENIED
    except (OSError, ValueError):
        return None, None


def _decode(raw: bytes) -> str:
    return sanitize(raw.decode("utf-8", "replace"))


def argv_text(raw: bytes) -> str:
    """/proc/PID/cmdline as one printable line (``rawtext.argv_join``, sanitized). Interned:
    equal command lines (a program's workers) are one string, shared with the journal's."""
    return sys.intern(sanitize(argv_join(raw)))


def read_command(pid: int) -> str:
    """What the COMMAND column shows for one process, read now (for ``--pin`` before any
    sample): the command line; ``[comm]`` for a kernel thread; the bare comm for a zombie."""
    raw = read_raw_command(pid)
    if raw.cmdline:
        return argv_text(raw.cmdline)
    if raw.comm is None:
        return "?"
    comm = _decode(raw.comm)
    return f"[{comm}]" if raw.kernel else comm
