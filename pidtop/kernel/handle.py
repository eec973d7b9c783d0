"""Exact-process handles: a pidfd plus the identity it was verified against.

A :class:`ProcessHandle` names one *process*, never a recyclable PID number: every action goes
through its pidfd, so a PID reused by another process can never be signalled by mistake.
Kernel facts behind this module are in ``shared/PIDFD-FACTS.md``. Features are found by probing
(:func:`features`); without pidfds a *degraded* handle re-checks the start time before
``kill(2)``, which leaves a small race (``degraded`` tells callers so).

Readiness of a pidfd: POLLIN = exited (zombie), POLLIN|POLLHUP = reaped.
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import signal
from collections.abc import Callable
from typing import Protocol

from pidtop.kernel.errors import (
    FdLimit,
    ForeignProc,
    HandleError,
    IdentityMismatch,
    NotPermitted,
    ProcessGone,
    Unsupported,
    fd_limit_text,
)
from pidtop.kernel.identity import (
    CLK_TCK,
    Identity,
    _read_stat,
    boottime_now,
    format_identity,
    read_starttime,
)
from pidtop.kernel.pidfdinfo import (
    _COREDUMP_ASK,
    PIDFD_INFO_EXIT,
    ExitStatus,
    ReclaimResult,
    SignalResult,
    State,
    _fdinfo_pid,
    _get_info,
    _get_info_buf,
    _poll,
    _process_mrelease,
    decode_coredump,
)
from pidtop.kernel.probes import features, proc_namespace_note

_FALLBACK_ERRNOS = (errno.ENOSYS, errno.EPERM, errno.EACCES)  # pidfd_open blocked / missing


class Handle(Protocol):
    """What pins, watchers and actions use of a process handle.

    :class:`ProcessHandle` (the real one) and
    :class:`pidtop.demo.handles.ScriptedHandle` (rendering tests, ``--demo``) both
    subclass it explicitly, so the state -> outcome logic of :meth:`send_signal` exists once
    and a type checker (tests/test_typecheck.py, mypy) proves both implement the rest.
    """

    pid: int
    inode: int | None
    starttime: int | None
    degraded: bool  # no pidfd: kill(2) after a start-time check
    #: the PID is a real process's: /proc/PID and calls by PID (setpriority, ioprio_set,
    #: sched_setaffinity, strace) reach it. False for a scripted (demo, test) handle.
    real: bool
    opened_exited: bool  # already a zombie when opened: its exit time is unknown

    @property
    def identity(self) -> Identity:
        """PID, pidfs inode and start time: what the handle was verified against."""
        return Identity(self.pid, self.inode, self.starttime)

    @property
    def closed(self) -> bool: ...

    def fileno(self) -> int | None:
        """The fd to watch for readiness; None when there is none (degraded, scripted)."""
        ...

    def close(self) -> None: ...

    def watched_by(self, owner: object, forget: Callable[[], None] | None) -> None:
        """``forget`` runs just before the handle's fd is closed (``None``: no longer). An exit
        watcher registers here, so it drops a registration before the fd number can be reused.
        A handle without an fd (scripted) has nothing to close: the default ignores it."""
        return None

    def dup(self) -> Handle:
        """A second, independent reference to the same process (closed separately): what an
        action holds, so unpinning/clearing the original never ends the action."""
        ...

    def state(self) -> State: ...

    def exit_status(self, *, reap: bool = False) -> ExitStatus: ...

    def lifetime(self, at_boottime: float | None = None) -> float | None: ...

    def reclaim(self) -> ReclaimResult: ...

    def _deliver(self, sig: int) -> SignalResult:
        """The send itself (no state check); see :meth:`send_signal`."""
        ...

    def send_signal(self, sig: int) -> SignalResult:
        """Send ``sig`` to exactly this process; never raises for the usual outcomes.

        Reaped -> "gone", exited (zombie) -> "exited_not_reaped", else the send itself.
        ValueError on a closed handle (a bug: actions hold their own reference).
        """
        if self.closed:
            raise ValueError(f"operation on a closed handle {self!r}")
        state = self.state()
        target = format_identity(self.identity)
        if state == "reaped":
            return SignalResult(target, sig, "gone", errno.ESRCH, os.strerror(errno.ESRCH))
        if state == "exited":
            return SignalResult(target, sig, "exited_not_reaped")
        return self._deliver(sig)


#: ``opener(pid, *, starttime=, inode=, allow_exited=)`` -> a verified handle
#: (:meth:`ProcessHandle.open`, or a scripted one for ``--demo`` and rendering tests)
Opener = Callable[..., Handle]


def _open_error(pid: int, e: OSError) -> HandleError:
    if e.errno == errno.ESRCH:
        return ProcessGone(pid)
    if e.errno in (errno.EMFILE, errno.ENFILE):
        return FdLimit(f"PID {pid}: cannot open a pidfd: {fd_limit_text(e)}")
    if e.errno in (errno.ENOENT, errno.EINVAL):  # a thread that is not its group's leader
        tgid = _thread_group(pid)
        of = f" of process {tgid}" if tgid is not None else ""
        return ProcessGone(pid, f"is a thread{of}, not a process")
    if e.errno in (errno.EPERM, errno.EACCES):
        return NotPermitted(f"PID {pid}: {e.strerror}")
    return HandleError(f"PID {pid}: {e.strerror}")


def _thread_group(tid: int) -> int | None:
    """The process (Tgid) a thread ID belongs to, from /proc/TID/status; None if unknown."""
    try:
        with open(f"/proc/{tid}/status", "rb") as f:
            for line in f:
                if line.startswith(b"Tgid:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


class ProcessHandle(Handle):
    """One process, held through a pidfd. Use as a context manager or call :meth:`close`.

    Open with :meth:`open`. ``inode`` is the pidfs inode (None where inodes are not unique or
    without pidfds); ``degraded`` is True when there is no pidfd at all.
    """

    def __init__(self, pid: int, fd: int, inode: int | None, starttime: int | None) -> None:
        self.pid = pid
        self._fd = fd
        self.inode = inode
        self.starttime = starttime
        self.degraded = fd < 0
        self.real = True
        self.opened_exited = False  # already a zombie when opened: its exit time is unknown
        self._closed = False
        self._status: ExitStatus | None = None  # cached once known
        #: who watches the fd, and what they drop before it is closed (see watched_by)
        self._watchers: dict[int, Callable[[], None]] = {}

    @classmethod
    def open(
        cls,
        pid: int,
        *,
        starttime: int | None = None,
        inode: int | None = None,
        allow_exited: bool = False,
    ) -> ProcessHandle:
        """Open ``pid`` and verify it is the process the caller saw.

        The pidfd is opened first; then the inode (if given) is compared, the start time is
        read from /proc and trusted only if the pidfd is still not POLLHUP afterwards (until it
        is reaped the process holds its PID, so /proc/PID described it). A zombie (exited, not
        yet reaped) is refused with ProcessGone unless ``allow_exited``: callers that want its
        exit status (``pidtop wait``, pins) pass True.
        """
        if pid <= 0:
            raise ValueError(f"invalid PID {pid}")
        feats = features()
        if not feats.proc_is_own:
            raise ForeignProc(f"PID {pid}: not verified: {proc_namespace_note() or feats.notes[0]}")
        if inode is not None and not feats.unique_inodes:
            raise Unsupported(f"PID {pid}: this kernel has no unique pidfs inodes (< 6.9)")
        if not feats.pidfd_open:
            return cls._open_degraded(pid, starttime, allow_exited)
        try:
            fd = os.pidfd_open(pid)
        except OverflowError:  # beyond pid_t: no such process can exist
            raise ProcessGone(pid) from None
        except OSError as e:
            if e.errno in _FALLBACK_ERRNOS:  # blocked by a sandbox after all
                return cls._open_degraded(pid, starttime, allow_exited)
            raise _open_error(pid, e) from None
        try:
            ino = os.fstat(fd).st_ino if feats.unique_inodes else None
            if inode is not None and ino != inode:
                raise IdentityMismatch(pid, f"inode {ino}, expected {inode}")
            try:
                seen: int | None = read_starttime(pid)
            except ProcessGone:
                seen = None
            # The pidfd's PID in the /proc mount's namespace: N unless /proc is foreign (it
            # was checked at the probe; a /proc remounted since would show another number).
            ns_pid = _fdinfo_pid(fd)
            events = _poll(fd)
            if events & select.POLLHUP:
                raise ProcessGone(pid)
            if ns_pid is not None and ns_pid not in (pid, -1):
                raise ForeignProc(
                    f"PID {pid}: not verified: /proc shows this process as PID {ns_pid} "
                    "(another PID namespace); nothing sent"
                )
            if seen is None and starttime is not None:
                raise HandleError(f"PID {pid}: cannot read /proc/{pid}/stat to verify it")
            if starttime is not None and seen != starttime:
                raise IdentityMismatch(pid, f"start time {seen}, expected {starttime}")
            if events & select.POLLIN and not allow_exited:
                raise ProcessGone(pid, "has already exited (zombie, not yet reaped)")
        except BaseException:
            os.close(fd)
            raise
        handle = cls(pid, fd, ino, seen)
        handle.opened_exited = bool(events & select.POLLIN)
        return handle

    @classmethod
    def _open_degraded(cls, pid: int, starttime: int | None, allow_exited: bool) -> ProcessHandle:
        state, seen = _read_stat(pid)
        if starttime is not None and seen != starttime:
            raise IdentityMismatch(pid, f"start time {seen}, expected {starttime}")
        if state == "Z" and not allow_exited:
            raise ProcessGone(pid, "has already exited (zombie, not yet reaped)")
        handle = cls(pid, -1, None, seen)
        handle.opened_exited = state == "Z"
        return handle

    # -- basics

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int | None:
        """The pidfd to watch for readiness; None when degraded."""
        self._check_open()
        return None if self.degraded else self._fd

    def dup(self) -> ProcessHandle:
        """A new handle on a ``dup`` of the pidfd (same process, same identity, closed on its
        own). FdLimit when out of fds; a degraded handle is copied (it has no fd)."""
        self._check_open()
        fd = -1
        if not self.degraded:
            try:
                fd = os.dup(self._fd)
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE):
                    raise FdLimit(f"PID {self.pid}: {fd_limit_text(e)}") from None
                raise
        other = ProcessHandle(self.pid, fd, self.inode, self.starttime)
        other.degraded = self.degraded
        other.opened_exited = self.opened_exited
        other._status = self._status
        return other

    def watched_by(self, owner: object, forget: Callable[[], None] | None) -> None:
        if forget is None:
            self._watchers.pop(id(owner), None)
        else:
            self._watchers[id(owner)] = forget

    def close(self) -> None:
        """Close the pidfd (idempotent); whoever watches it forgets it first."""
        if not self._closed:
            for forget in list(self._watchers.values()):
                forget()
            self._watchers.clear()
            self._closed = True
            if self._fd >= 0:
                os.close(self._fd)
            self._fd = -1

    def __enter__(self) -> ProcessHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        flags = " degraded" if self.degraded else ""
        flags += " closed" if self._closed else ""
        return f"<ProcessHandle {format_identity(self.identity)}{flags}>"

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError("operation on a closed ProcessHandle")

    def lifetime(self, at_boottime: float | None = None) -> float | None:
        """Seconds from the process start to ``at_boottime`` (default now); None if unknown."""
        if self.starttime is None:
            return None
        end = boottime_now() if at_boottime is None else at_boottime
        return max(0.0, end - self.starttime / CLK_TCK)

    # -- state

    def state(self) -> State:
        """Non-blocking: "running", "exited" (zombie: POLLIN) or "reaped" (POLLHUP)."""
        self._check_open()
        if self.degraded:
            try:
                letter, seen = _read_stat(self.pid)
            except ProcessGone:
                return "reaped"
            if seen != self.starttime:
                return "reaped"
            return "exited" if letter == "Z" else "running"
        events = _poll(self._fd)
        if events & select.POLLHUP:
            return "reaped"
        return "exited" if events & select.POLLIN else "running"

    def _deliver(self, sig: int) -> SignalResult:
        """The send itself, after :meth:`send_signal`'s state check.

        Through the pidfd, so a process reaped (and its PID reused) since that check gets
        ESRCH ("gone") and the newcomer is never touched. Degraded handles have only kill(2):
        ``state()`` re-verified the start time just before, a small race remains.
        """
        target = format_identity(self.identity)
        try:
            if self.degraded:
                os.kill(self.pid, sig)
            else:
                signal.pidfd_send_signal(self._fd, sig)
        except OSError as e:
            if e.errno == errno.ESRCH:
                return SignalResult(target, sig, "gone", e.errno, e.strerror or "")
            if e.errno == errno.EPERM:
                return SignalResult(target, sig, "not_permitted", e.errno, e.strerror or "")
            return SignalResult(target, sig, "error", e.errno, f"[Errno {e.errno}] {e.strerror}")
        return SignalResult(target, sig, "delivered")

    def exit_status(self, *, reap: bool = False) -> ExitStatus:
        """Exit status if it can be known now (never blocks).

        Own child: waitid(P_PIDFD) with WNOWAIT (reaps only if ``reap``). Anyone else, once
        reaped: PIDFD_GET_INFO with PIDFD_INFO_EXIT. Otherwise unknown, with the reason.
        """
        self._check_open()
        if self._status is not None:
            if reap and not self.degraded:  # known from an earlier call: still reap if ours
                with contextlib.suppress(OSError):
                    os.waitid(os.P_PIDFD, self._fd, os.WEXITED | os.WNOHANG)
            return self._status
        if self.degraded:
            return ExitStatus.unknown("no pidfd on this system")
        flags = os.WEXITED | os.WNOHANG | (0 if reap else os.WNOWAIT)
        try:
            res = os.waitid(os.P_PIDFD, self._fd, flags)
        except OSError:  # ECHILD: not our child (or already reaped); EINVAL: no P_PIDFD
            res = None
        else:
            if res is None:
                return ExitStatus.unknown("still running")
        if res is not None:
            if res.si_code == os.CLD_EXITED:
                status = ExitStatus(True, code=res.si_status)
            else:
                status = ExitStatus(
                    True, signal=res.si_status, core_dumped=res.si_code == os.CLD_DUMPED
                )
        else:
            state = self.state()
            if state == "running":
                return ExitStatus.unknown("still running")
            if state == "exited":
                return ExitStatus.unknown("not yet reaped by its parent")
            status = self._status_from_info()
        if status.known:
            self._status = status
        return status

    def coredump(self) -> str:
        """Whether the kernel wrote a core for this process: ``written``, ``skipped``, or
        ``unknown`` (no pidfd, kernel < 6.19, or it does not say). Never blocks."""
        fd = self._fd
        if self._closed or self.degraded or not features().get_info:
            return "unknown"
        try:
            buf = _get_info_buf(fd, _COREDUMP_ASK)
        except OSError:  # closed meanwhile (EBADF), or ENOTTY/ESRCH on older kernels
            return "unknown"
        if self._closed:  # closed by another thread meanwhile: the fd may be another's now
            return "unknown"
        return decode_coredump(buf)

    def _status_from_info(self) -> ExitStatus:
        if not features().info_exit:
            return ExitStatus.unknown("kernel lacks PIDFD_INFO_EXIT (< 6.15)")
        try:
            info = _get_info(self._fd, PIDFD_INFO_EXIT)
        except OSError as e:
            return ExitStatus.unknown(f"PIDFD_GET_INFO failed: {e.strerror}")
        if not info[0] & PIDFD_INFO_EXIT:
            return ExitStatus.unknown("the kernel gave no exit information")
        return ExitStatus.from_wait_status(info[13])

    def reclaim(self) -> ReclaimResult:
        """process_mrelease(2): free a dying process's memory now. Blocks while it runs."""
        self._check_open()
        target = format_identity(self.identity)
        if self.degraded:
            return ReclaimResult(target, "unsupported", "no pidfd on this system")
        err = _process_mrelease(self._fd)
        if err == 0:
            return ReclaimResult(target, "reclaimed")
        if err == errno.ESRCH:
            return ReclaimResult(target, "already_freed")
        if err == errno.EINVAL:
            return ReclaimResult(target, "not_dying")
        if err == errno.ENOSYS:
            return ReclaimResult(target, "unsupported", "kernel lacks process_mrelease (< 5.15)")
        if err in (errno.EPERM, errno.EACCES):  # a seccomp filter: the kernel never looked
            return ReclaimResult(
                target, "unsupported", f"process_mrelease blocked by a sandbox ({os.strerror(err)})"
            )
        return ReclaimResult(target, "error", f"[Errno {err}] {os.strerror(err)}")
