"""A process's I/O scheduling class and level, by the ``ioprio_get(2)`` and
``ioprio_set(2)`` syscalls (no libc wrapper exists; psutil's costs a 30-60 ms import)."""

from __future__ import annotations

import errno
import os

from pidtop.kernel.pidfdinfo import libc

#: the kernel's I/O classes (``IOPRIO_CLASS_*``) by number, with the names ``ionice`` uses
IOPRIO_CLASSES = {0: "none", 1: "realtime", 2: "best-effort", 3: "idle"}
#: (ioprio_set, ioprio_get) by machine
_SYSCALLS = {
    "x86_64": (251, 252),
    "aarch64": (30, 31),
    "riscv64": (30, 31),
    "i686": (289, 290),
}
_IOPRIO_WHO_PROCESS = 1
_CLASS_SHIFT = 13
_LEVEL_MASK = (1 << _CLASS_SHIFT) - 1


def _call(which: int, *args: int) -> int:
    """Syscall ``which`` (0 set, 1 get) with int ``args``; OSError on failure (ENOSYS where
    the syscall's number is not known here)."""
    numbers = _SYSCALLS.get(os.uname().machine)
    if numbers is None:
        raise OSError(errno.ENOSYS, "ioprio: unknown on this machine")
    import ctypes  # (loaded by libc())

    value = libc().syscall(numbers[which], *(ctypes.c_int(a) for a in args))
    if value < 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))
    return int(value)


def ioprio_get(pid: int) -> tuple[int, int]:
    """(class, level) of process ``pid``; OSError (EPERM, ESRCH...) if it cannot be had."""
    value = _call(1, _IOPRIO_WHO_PROCESS, pid)
    return value >> _CLASS_SHIFT, value & _LEVEL_MASK


def ioprio_set(pid: int, ioclass: int, level: int = 0) -> None:
    """Set process ``pid``'s class and level (the level counts for realtime and best-effort
    only; 0 is sent for the others, as the kernel wants for "none"). OSError as the kernel
    says (EPERM: realtime without CAP_SYS_ADMIN; ESRCH: gone)."""
    if ioclass not in IOPRIO_CLASSES:
        raise ValueError(f"unknown I/O class {ioclass}")
    data = level if ioclass in (1, 2) else 0
    _call(0, _IOPRIO_WHO_PROCESS, pid, (ioclass << _CLASS_SHIFT) | data)
