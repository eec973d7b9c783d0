"""Kernel feature probes, run once: pidfd_open, unique pidfs inodes, PIDFD_GET_INFO,
process_mrelease, waitid(P_PIDFD), and whether /proc is pidtop's own PID namespace.

The probe forks (a child that exits at once): run it before any thread starts.
"""

from __future__ import annotations

import contextlib
import errno
import functools
import os
import select
import time
from dataclasses import dataclass, field

from pidtop.kernel.errors import FdLimit, fd_limit_text
from pidtop.kernel.pidfdinfo import (
    PIDFD_INFO_EXIT,
    PIDFD_INFO_PID,
    _get_info,
    _process_mrelease,
)


@dataclass(frozen=True, slots=True)
class Features:
    """What this kernel/sandbox supports, found by probing. ``notes`` explain what is missing."""

    pidfd_open: bool
    unique_inodes: bool
    get_info: bool
    info_exit: bool
    process_mrelease: bool
    waitid_pidfd: bool
    notes: tuple[str, ...] = field(default=())
    #: /proc is mounted from pidtop's own PID namespace (``/proc/self`` is ``getpid()``)
    proc_is_own: bool = True


def proc_namespace_note() -> str | None:
    """Why /proc cannot be trusted for PIDs (it is another PID namespace's), or None.

    ``/proc/self`` resolves to pidtop's PID *as the /proc mount's namespace sees it*: when that
    is not ``getpid()``, PID N in /proc is not PID N for pidfd_open or kill.
    """
    me = os.getpid()
    try:
        seen = os.readlink("/proc/self")
    except OSError as e:
        return f"/proc is not usable ({e.strerror}): processes cannot be verified; actions refused"
    if seen == str(me):
        return None
    return (
        f"/proc is from another PID namespace (/proc/self is {seen}, pidtop is PID {me}): "
        "its PIDs are not pidtop's, so actions are refused"
    )


@functools.cache
def features() -> Features:
    """Probe pidfd support once (cached). Raises FdLimit when out of fds (not cached then).

    It forks (a child that exits at once): call it before any thread is started (the TUI does,
    before Textual runs).
    """
    foreign = proc_namespace_note()
    if foreign is not None:
        feats = _probe()
        return Features(
            feats.pidfd_open,
            feats.unique_inodes,
            feats.get_info,
            feats.info_exit,
            feats.process_mrelease,
            feats.waitid_pidfd,
            (foreign, *feats.notes),
            proc_is_own=False,
        )
    return _probe()


def _probe() -> Features:
    notes: list[str] = []
    try:
        me = os.pidfd_open(os.getpid())
    except OSError as e:
        if e.errno in (errno.EMFILE, errno.ENFILE):
            raise FdLimit(f"cannot probe pidfd support: {fd_limit_text(e)}") from None
        notes.append(
            f"pidfd_open unavailable ({e.strerror}): signals use kill(2) after a start-time check"
        )
        return Features(False, False, False, False, False, False, tuple(notes))
    try:
        unique = _probe_unique_inodes(me)
        if not unique:
            notes.append("no unique pidfs inodes (kernel < 6.9): identity is (PID, start time)")
        try:
            get_info = bool(_get_info(me, PIDFD_INFO_PID)[0] & PIDFD_INFO_PID)
        except OSError:
            get_info = False
            notes.append("no PIDFD_GET_INFO (kernel < 6.13)")
        err = _process_mrelease(-1)  # EBADF when the syscall exists and may be called
        mrelease = err == errno.EBADF
        if err == errno.ENOSYS:
            notes.append("no process_mrelease (kernel < 5.15): --reclaim does nothing")
        elif not mrelease:  # EPERM/EACCES: a seccomp filter (container profile) forbids it
            notes.append(
                f"process_mrelease blocked ({os.strerror(err)}, a sandbox): --reclaim does nothing"
            )
    finally:
        os.close(me)
    waitid_ok, info_exit, why = _probe_reaped_child(get_info)
    if why:
        notes.append(why)
    return Features(True, unique, get_info, info_exit, mrelease, waitid_ok, tuple(notes))


def _probe_unique_inodes(me: int) -> bool:
    """Two processes' pidfds differ in st_ino on pidfs (>= 6.9); before, all pidfds shared the
    anon inode, so with no other process at hand (PID 1 of a namespace) compare with epoll's."""
    other = os.getppid() or (1 if os.getpid() != 1 else 0)
    try:
        fd = os.pidfd_open(other) if other else -1
    except OSError:
        fd = -1
    if fd < 0:
        with select.epoll() as ep:
            fd = os.dup(ep.fileno())
    try:
        return os.fstat(fd).st_ino != os.fstat(me).st_ino
    finally:
        os.close(fd)


def _probe_reaped_child(get_info: bool) -> tuple[bool, bool, str]:
    """Fork a child that exits at once, reap it with waitid(P_PIDFD), ask for PIDFD_INFO_EXIT.

    Returns (waitid_pidfd, info_exit, note). ``os.fork`` + ``os._exit``: no program, no PATH.
    The child waits on a pipe until its pidfd is open, so it cannot be reaped before that.
    ECHILD from waitid means the kernel knows P_PIDFD (older kernels say EINVAL) but the child
    was reaped elsewhere (SIGCHLD ignored, another waiter): waitid counts as supported then,
    and the reap is awaited on the pidfd (POLLHUP) before PIDFD_INFO_EXIT is asked for.
    """
    try:
        r, w = os.pipe()
    except OSError as e:
        return False, False, f"could not probe waitid(P_PIDFD) and PIDFD_INFO_EXIT: {e.strerror}"
    try:
        pid = os.fork()
    except OSError as e:
        os.close(r)
        os.close(w)
        return False, False, f"could not probe waitid(P_PIDFD) and PIDFD_INFO_EXIT: {e.strerror}"
    if pid == 0:  # the child: wait for the parent's pidfd, then exit (no cleanup, no atexit)
        try:
            os.close(w)
            os.read(r, 1)
        finally:
            os._exit(0)
    os.close(r)
    fd = -1
    try:
        try:
            fd = os.pidfd_open(pid)
        finally:
            os.close(w)  # the child exits now
        waitid_ok, note = True, ""
        try:
            os.waitid(os.P_PIDFD, fd, os.WEXITED)
        except ChildProcessError:  # reaped by someone else: wait for it (bounded)
            if not _reaped(fd, 2.0):
                return True, False, "could not probe PIDFD_INFO_EXIT (probe child not reaped)"
        except OSError as e:
            if e.errno != errno.EINVAL:
                note = f"waitid(P_PIDFD) failed: {e.strerror}: exit codes need PIDFD_INFO_EXIT"
            else:
                note = "no waitid(P_PIDFD) (kernel < 5.4)"
            waitid_ok = False
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, 0)
        if not get_info:
            return waitid_ok, False, note
        try:
            info_exit = bool(_get_info(fd, PIDFD_INFO_EXIT)[0] & PIDFD_INFO_EXIT)
        except OSError:
            info_exit = False
        if not info_exit:
            note = "; ".join(
                filter(
                    None,
                    [note, "no PIDFD_INFO_EXIT (kernel < 6.15): exit codes only for own children"],
                )
            )
        return waitid_ok, info_exit, note
    except OSError as e:
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        return False, False, f"could not probe waitid(P_PIDFD) and PIDFD_INFO_EXIT: {e.strerror}"
    finally:
        if fd >= 0:
            os.close(fd)


def _reaped(pidfd: int, bound: float) -> bool:
    """Whether the process of ``pidfd`` is reaped (POLLHUP) within ``bound`` seconds. The
    pidfd is readable (POLLIN) from its exit on, and no wake-up comes when the reap follows a
    moment later (the kernel reaping a child of a parent that ignores SIGCHLD): one poll could
    return at the exit and miss the reap (seen once in CI), so it is polled again until then."""
    p = select.poll()
    p.register(pidfd, select.POLLIN)
    deadline = time.monotonic() + bound
    while True:
        events = p.poll(10)
        if any(ev & select.POLLHUP for _, ev in events):
            return True
        if time.monotonic() >= deadline:
            return False
        if events:  # exited, not yet reaped: POLLIN stays set, poll would not wait
            time.sleep(0.001)
