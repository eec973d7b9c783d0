"""One process's own ``/proc/PID`` directory, held open: every read through it is that process's.

A ``/proc/PID`` directory fd belongs to the process it was opened for (``shared/PIDFD-FACTS.md``
§15): once that process is reaped, every ``openat`` through it (``stat``, ``status``,
``cmdline``, ``environ``, ``fd/`` ...) fails with ESRCH, also after the PID went to a newcomer,
while ``/proc/PID/...`` by path reads the newcomer. So the fd is checked against the process's
handle ONCE, when it is opened, and never again:

1. open ``/proc/PID`` (``O_DIRECTORY``);
2. its ``stat`` start time must be the handle's (read through the new fd);
3. the handle's pidfd must not be reaped *after* the open: the process then held its PID from
   before the open until after it, so the fd is its directory.

After that a read either describes the process or raises :class:`ProcessLookupError` (ESRCH).
A zombie's files still read (state Z) until it is reaped. It costs one fd per directory held.
"""

from __future__ import annotations

import contextlib
import os
from typing import Protocol

from pidtop.kernel.errors import ProcessGone
from pidtop.kernel.stat import parse_stat

__all__ = ["ProcDir", "ProcessLike", "read_all_at"]

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | getattr(os, "O_CLOEXEC", 0)
_FILE_FLAGS = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0)


def read_all_at(dirfd: int, rel: str) -> bytes:
    """The whole file ``rel`` (relative to the directory fd ``dirfd``), however long."""
    fd = os.open(rel, _FILE_FLAGS, dir_fd=dirfd)
    try:
        chunks: list[bytes] = []
        while True:
            chunk = os.read(fd, 65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        os.close(fd)


class ProcessLike(Protocol):
    """What the check needs of a handle: its PID, start time and whether it is reaped."""

    @property
    def pid(self) -> int: ...
    @property
    def starttime(self) -> int | None: ...
    def state(self) -> str: ...


class ProcDir:
    """A checked ``/proc/PID`` directory fd (see the module docstring). A context manager."""

    def __init__(self, fd: int, pid: int) -> None:
        self._fd = fd
        self.pid = pid

    @classmethod
    def open(cls, handle: ProcessLike, proc: str = "/proc") -> ProcDir:
        """Open and check ``handle``'s directory. ProcessGone if the handle's process is no
        longer the one at ``/proc/PID`` (reaped, the PID reused)."""
        pid = handle.pid
        if handle.state() == "reaped":
            raise ProcessGone(pid, "has exited")
        try:
            fd = os.open(f"{proc}/{pid}", _DIR_FLAGS)
        except (FileNotFoundError, ProcessLookupError):
            raise ProcessGone(pid, "has exited") from None
        self = cls(fd, pid)
        try:
            seen = parse_stat(self.read("stat")).starttime
        except (OSError, ValueError, IndexError):
            self.close()
            raise ProcessGone(pid, "has exited") from None
        if handle.starttime is not None and seen != handle.starttime:
            self.close()
            raise ProcessGone(pid, "is now another process")
        if handle.state() == "reaped":  # it may have gone before the open: not provably its
            self.close()
            raise ProcessGone(pid, "has exited")
        return self

    def fileno(self) -> int:
        return self._fd

    @property
    def closed(self) -> bool:
        return self._fd < 0

    def close(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ProcDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()

    # -- reads (ESRCH: ProcessLookupError once the process is reaped)

    def read(self, name: str) -> bytes:
        """The whole file ``name`` (``"stat"``, ``"task/123/stat"``...)."""
        return read_all_at(self._fd, name)

    def text(self, name: str) -> str:
        return self.read(name).decode("utf-8", "replace")

    def readlink(self, name: str) -> str:
        return os.readlink(name, dir_fd=self._fd)

    def listdir(self, name: str) -> list[str]:
        fd = os.open(name, _DIR_FLAGS, dir_fd=self._fd)
        try:
            return os.listdir(fd)
        finally:
            os.close(fd)

    def stat(self, name: str) -> os.stat_result:
        """``stat`` of ``name`` (follows links: ``fd/3`` gives the open file's)."""
        return os.stat(name, dir_fd=self._fd)
