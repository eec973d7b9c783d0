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
import ctypes
import errno
import fcntl
import functools
import os
import re
import resource
import select
import signal
import struct
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from pidtop.kernel.signals import signal_name

PIDFD_GET_INFO = 0xC050FF0B  # _IOWR(0xFF, 11, 80-byte struct pidfd_info)
PIDFD_INFO_PID = 0x1
PIDFD_INFO_EXIT = 0x8
PIDFD_INFO_COREDUMP = 0x10  # 6.16+; trusted only with SUPPORTED_MASK (6.19 fixed it)
PIDFD_INFO_SUPPORTED_MASK = 0x20  # 6.19+
PIDFD_COREDUMPED = 0x1  # coredump_mask: a core was written
PIDFD_COREDUMP_SKIP = 0x2  # coredump_mask: the dump was skipped
#: EXIT too: without it a reaped process's pidfd answers ESRCH
_COREDUMP_ASK = PIDFD_INFO_EXIT | PIDFD_INFO_COREDUMP | PIDFD_INFO_SUPPORTED_MASK
_PIDFD_INFO = struct.Struct("=QQ11IiIIQ")  # mask, cgroupid, 11 ids, exit_code, coredump x2, supp.
SYS_PROCESS_MRELEASE = 448  # x86_64 and the generic syscall table
CLK_TCK = os.sysconf("SC_CLK_TCK")
_FALLBACK_ERRNOS = (errno.ENOSYS, errno.EPERM, errno.EACCES)  # pidfd_open blocked / missing
PID_MAX = 2**31 - 1  # pid_t; the kernel's own limit (pid_max) is at most 2**22
INODE_MAX = 2**64 - 1  # pidfs inode numbers are 64-bit
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: int() also takes "1_0", "+5", " 5", "١٢٣"

State = Literal["running", "exited", "reaped"]
SignalOutcome = Literal["delivered", "exited_not_reaped", "gone", "not_permitted", "error"]
ReclaimOutcome = Literal["reclaimed", "already_freed", "not_dying", "unsupported", "error"]


# --------------------------------------------------------------------------- identity


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
    # comm (field 2) may hold spaces and ')': everything after the LAST ')' is fields 3...
    fields = data.rpartition(b")")[2].split()
    return fields[0].decode(), int(fields[19])


def read_starttime(pid: int) -> int:
    """Start time of ``pid`` in clock ticks since boot (``/proc/PID/stat`` field 22)."""
    return _read_stat(pid)[1]


def boottime_now() -> float:
    """Seconds since boot on the clock start times use (CLOCK_BOOTTIME)."""
    return time.clock_gettime(time.CLOCK_BOOTTIME)


def starttime_to_wall(starttime: int) -> float:
    """Convert a start time in ticks since boot to wall-clock epoch seconds."""
    return time.time() - boottime_now() + starttime / CLK_TCK


# --------------------------------------------------------------------------- errors


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


# --------------------------------------------------------------------------- features


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


_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long


def _process_mrelease(fd: int) -> int:
    """Raw process_mrelease(fd, 0): 0 or the errno."""
    if _libc.syscall(SYS_PROCESS_MRELEASE, ctypes.c_int(fd), ctypes.c_uint(0)) == 0:
        return 0
    return ctypes.get_errno()


def _get_info_buf(fd: int, mask: int) -> bytearray:
    """PIDFD_GET_INFO; returns the kernel's raw struct pidfd_info (80 bytes)."""
    buf = bytearray(_PIDFD_INFO.size)
    struct.pack_into("=Q", buf, 0, mask)
    fcntl.ioctl(fd, PIDFD_GET_INFO, buf, True)
    return buf


def _get_info(fd: int, mask: int) -> tuple[int, ...]:
    """PIDFD_GET_INFO; returns the unpacked struct (check ``[0]``, the mask, before use)."""
    return _PIDFD_INFO.unpack(_get_info_buf(fd, mask))


def decode_coredump(buf: bytes | bytearray) -> str:
    """``written``, ``skipped`` or ``unknown`` from a PIDFD_GET_INFO answer to
    PIDFD_INFO_COREDUMP | PIDFD_INFO_SUPPORTED_MASK.

    The coredump bits count only when the kernel proves it supports them (supported_mask
    has PIDFD_INFO_COREDUMP: 6.19+). On 6.16-6.18 the COREDUMP bit is echoed whatever
    happened (a live process reads as "dumpable", a real dump to a file as 0), so their
    answer is "unknown" (see PIDFD-FACTS section 4).
    """
    info = _PIDFD_INFO.unpack(buf)
    mask, coredump_mask, supported = info[0], info[14], info[16]
    if not (mask & PIDFD_INFO_SUPPORTED_MASK and supported & PIDFD_INFO_COREDUMP):
        return "unknown"
    if not mask & PIDFD_INFO_COREDUMP:
        return "unknown"
    if coredump_mask & PIDFD_COREDUMPED:
        return "written"
    if coredump_mask & PIDFD_COREDUMP_SKIP:
        return "skipped"
    return "unknown"


def _poll(fd: int) -> int:
    """Current poll events of ``fd`` without blocking."""
    p = select.poll()
    p.register(fd, select.POLLIN)
    ready = p.poll(0)
    return ready[0][1] if ready else 0


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


def _fdinfo_pid(fd: int) -> int | None:
    """``Pid:`` of pidfd ``fd`` from /proc/self/fdinfo: its PID as the /proc mount's namespace
    sees it (-1 once reaped, 0 if it is outside that namespace); None if not shown."""
    try:
        info = os.open(f"/proc/self/fdinfo/{fd}", os.O_RDONLY | os.O_CLOEXEC)
    except OSError:
        return None
    try:
        data = os.read(info, 4096)  # a few short lines; os.read: no buffered file object
    except OSError:
        return None
    finally:
        os.close(info)
    start = data.find(b"\nPid:")
    if start < 0:
        return None
    try:
        return int(data[start + 5 :].split(None, 1)[0])
    except (ValueError, IndexError):
        return None


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
            p = select.poll()
            p.register(fd, select.POLLIN)
            if not any(ev & select.POLLHUP for _, ev in p.poll(2000)):
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


# --------------------------------------------------------------------------- results


@dataclass(frozen=True, slots=True)
class ExitStatus:
    """How a process ended, or why that is not known (never invented)."""

    known: bool
    code: int | None = None
    signal: int | None = None
    core_dumped: bool = False
    reason: str = ""

    @classmethod
    def from_wait_status(cls, raw: int) -> ExitStatus:
        """Decode a raw wait(2) status (as in PIDFD_INFO_EXIT's exit_code)."""
        if os.WIFEXITED(raw):
            return cls(True, code=os.WEXITSTATUS(raw))
        if os.WIFSIGNALED(raw):
            return cls(True, signal=os.WTERMSIG(raw), core_dumped=os.WCOREDUMP(raw))
        return cls.unknown(f"unrecognised wait status {raw:#x}")

    @classmethod
    def unknown(cls, reason: str) -> ExitStatus:
        return cls(False, reason=reason)

    def describe(self) -> str:
        if not self.known:
            return f"exit status unknown: {self.reason}"
        if self.signal is not None:
            core = " (core dumped)" if self.core_dumped else ""
            return f"killed by {signal_name(self.signal)}{core}"
        return f"exited with code {self.code}"


@dataclass(frozen=True, slots=True)
class SignalResult:
    """Outcome of one signal. ``ok`` means the kernel accepted it (a zombie accepts signals)."""

    target: str  # PID:INODE or PID
    signal: int
    outcome: SignalOutcome
    errno: int | None = None
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("delivered", "exited_not_reaped")

    def describe(self) -> str:
        name = signal_name(self.signal) if self.signal else "signal 0"
        match self.outcome:
            case "delivered":
                return f"{self.target}: {name} delivered"
            case "exited_not_reaped":
                return f"{self.target}: already exited (not yet reaped); {name} had no effect"
            case "gone":
                return f"{self.target}: no such process (already exited); {name} not sent"
            case "not_permitted":
                return f"{self.target}: not permitted to send {name}"
        return f"{self.target}: {name} failed: {self.message}"


@dataclass(frozen=True, slots=True)
class ReclaimResult:
    """Outcome of process_mrelease(2). ESRCH right after a SIGKILL counts as success."""

    target: str
    outcome: ReclaimOutcome
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.outcome in ("reclaimed", "already_freed")

    def describe(self) -> str:
        text = {
            "reclaimed": "memory reclaimed",
            "already_freed": "memory already released",
            "not_dying": "memory not reclaimed: the process is not dying (send SIGKILL first)",
            "unsupported": "memory not reclaimed: " + self.message,
            "error": "memory reclaim failed: " + self.message,
        }[self.outcome]
        return f"{self.target}: {text}"


# --------------------------------------------------------------------------- the handle


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
    opened_exited: bool  # already a zombie when opened: its exit time is unknown

    @property
    def identity(self) -> Identity: ...

    @property
    def closed(self) -> bool: ...

    def fileno(self) -> int | None:
        """The fd to watch for readiness; None when there is none (degraded, scripted)."""
        ...

    def close(self) -> None: ...

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
        self.opened_exited = False  # already a zombie when opened: its exit time is unknown
        self._closed = False
        self._status: ExitStatus | None = None  # cached once known

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
    def identity(self) -> Identity:
        return Identity(self.pid, self.inode, self.starttime)

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

    def close(self) -> None:
        """Close the pidfd (idempotent)."""
        if not self._closed:
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
