"""Why a handle could not be opened or used: one exception type per outcome; fd-limit helpers."""

from __future__ import annotations

import errno
import os
import resource


class HandleError(Exception):
    """Base class for everything a handle refuses to do; ``str()`` is one clear line."""


class ProcessGone(HandleError):
    """No such process (ESRCH), or it exited before it could be opened."""

    def __init__(self, pid: int, detail: str = "no such process") -> None:
        self.pid = pid
        super().__init__(f"PID {pid}: {detail}")


class IdentityMismatch(HandleError):
    """The PID now belongs to another process than the one the caller saw."""

    def __init__(self, pid: int, detail: str = "") -> None:
        self.pid = pid
        super().__init__(f"PID {pid} is now another process" + (f" ({detail})" if detail else ""))


class NotPermitted(HandleError):
    """EPERM/EACCES."""


class FdLimit(HandleError):
    """Out of file descriptors (EMFILE/ENFILE): transient, see :func:`raise_fd_limit`."""


def open_fd_count() -> int | None:
    """How many fds this process has open now (``/proc/self/fd``), None if unknown."""
    try:
        return len(os.listdir("/proc/self/fd")) - 1  # minus the one listdir itself used
    except OSError:
        return None


def fd_limit_text(e: OSError) -> str:
    """EMFILE/ENFILE as one line with the real numbers."""
    if e.errno == errno.ENFILE:
        return f"{e.strerror} (the system-wide file table is full)"
    soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    n = open_fd_count()
    held = f"{n} fds open, " if n is not None else ""
    return f"{e.strerror} ({held}RLIMIT_NOFILE {soft}; raise `ulimit -n`)"


class Unsupported(HandleError):
    """The kernel cannot do what was asked (e.g. PID:INODE without unique pidfs inodes)."""


class ForeignProc(Unsupported):
    """/proc belongs to another PID namespace than pidtop's: PID N there is not PID N here.

    ``pidfd_open(N)`` resolves N in pidtop's namespace, but /proc (rows, start times) in the
    namespace of the /proc *mount* (``unshare --pid`` without remounting, a container given the
    host's /proc). Nothing read from that /proc can verify a pidfd, so actions are refused.
    """


def raise_fd_limit() -> int:
    """Raise the soft RLIMIT_NOFILE to the hard limit; return the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard
    if hard == resource.RLIM_INFINITY:  # the soft limit may not exceed fs.nr_open
        with open("/proc/sys/fs/nr_open") as f:
            target = int(f.read())
    if soft != resource.RLIM_INFINITY and soft < target:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        except (ValueError, OSError):
            return soft
        return target
    return soft
