"""What the kernel tells of a pidfd: ``PIDFD_GET_INFO`` (exit code, coredump), poll readiness,
``/proc/self/fdinfo``'s ``Pid:``, ``process_mrelease``; and the result types of actions on a
handle (exit status, signal, reclaim).

Readiness of a pidfd: POLLIN = exited (zombie), POLLIN|POLLHUP = reaped.
"""

from __future__ import annotations

import fcntl
import os
import select
import struct
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from pidtop.kernel.signals import signal_name

State = Literal["running", "exited", "reaped"]

SignalOutcome = Literal["delivered", "exited_not_reaped", "gone", "not_permitted", "error"]

ReclaimOutcome = Literal["reclaimed", "already_freed", "not_dying", "unsupported", "error"]


@cache
def libc() -> Any:
    """The C library through ``ctypes`` (its ``syscall`` returns a long), loaded at the first
    call: ``ctypes`` is ~0.3 MiB of memory that the monitor's sampling never needs."""
    import ctypes

    lib = ctypes.CDLL(None, use_errno=True)
    lib.syscall.restype = ctypes.c_long
    return lib


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


def _process_mrelease(fd: int) -> int:
    """Raw process_mrelease(fd, 0): 0 or the errno."""
    import ctypes

    if libc().syscall(SYS_PROCESS_MRELEASE, ctypes.c_int(fd), ctypes.c_uint(0)) == 0:
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
        """Decode a raw wait(2) status (as in PIDFD_INFO_EXIT's exit_code). Equal statuses
        are one (frozen) object: the exit journal decodes one per exit, and a few statuses
        (0, 1, SIGTERM...) are nearly all of them."""
        status = _DECODED.get(raw)
        if status is None:
            if os.WIFEXITED(raw):
                status = cls(True, code=os.WEXITSTATUS(raw))
            elif os.WIFSIGNALED(raw):
                status = cls(True, signal=os.WTERMSIG(raw), core_dumped=os.WCOREDUMP(raw))
            else:
                status = cls.unknown(f"unrecognised wait status {raw:#x}")
            if len(_DECODED) < _DECODED_MAX:
                _DECODED[raw] = status
        return status

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


#: raw wait status -> its decoded :class:`ExitStatus` (an exit code is 0-255, a signal 1-64:
#: a few hundred at most are ever seen; the bound only guards against nonsense statuses)
_DECODED: dict[int, ExitStatus] = {}
_DECODED_MAX = 1024


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
