"""A process's open files and sockets, like ``lsof -p``, from /proc/PID/fd and fdinfo.

No lsof needed and no Textual. psutil has no full fd table (it lists regular files and
sockets only, not pipes, eventfds, pidfds or other anon inodes), so the table is read by hand;
socket endpoints come from psutil's ``net_connections`` (matched by fd). Callers bracket the
read with the process handle (:meth:`pidtop.details.reader.ProcDetails.files`).
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
from dataclasses import dataclass

import psutil

from pidtop.sampling.fmt import sanitize

_ACCMODE = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}
_KINDS = {
    socket.AF_INET: "IPv4",
    socket.AF_INET6: "IPv6",
    socket.AF_UNIX: "unix",
}
_TYPES = {socket.SOCK_STREAM: "TCP", socket.SOCK_DGRAM: "UDP", socket.SOCK_SEQPACKET: "SEQ"}


@dataclass(frozen=True, slots=True)
class FdEntry:
    """One open file descriptor. ``name`` is sanitised process text."""

    fd: int
    kind: str  # REG DIR CHR BLK FIFO pipe sock IPv4 IPv6 unix anon ... like lsof's TYPE
    mode: str  # r / w / rw (from fdinfo flags), "" if unknown
    name: str  # path, socket endpoints, or the kernel's link text (pipe:[123])
    pos: int | None = None
    deleted: bool = False


def _addr(a: object) -> str:
    if not a:
        return ""
    if isinstance(a, tuple) and len(a) == 2:
        host, port = a
        return f"[{host}]:{port}" if ":" in str(host) else f"{host}:{port}"
    return str(a)


def _sockets(pid: int) -> dict[int, str]:
    """fd -> ``TCP 127.0.0.1:5432->127.0.0.1:40000 (ESTABLISHED)`` (empty if unreadable)."""
    out: dict[int, str] = {}
    try:
        conns = psutil.Process(pid).net_connections(kind="all")
    except (psutil.Error, OSError):
        return out
    for c in conns:
        if c.fd is None or c.fd < 0:
            continue
        kind = _KINDS.get(c.family, str(c.family))
        typ = _TYPES.get(c.type, "")
        text = f"{typ} {_addr(c.laddr)}".strip() if kind != "unix" else _addr(c.laddr)
        if c.raddr:
            text += f"->{_addr(c.raddr)}"
        if c.status and c.status != psutil.CONN_NONE:
            text += f" ({c.status})"
        out[c.fd] = f"{kind} {text}".strip() if kind != "unix" else f"unix {text or '(unnamed)'}"
    return out


def _fdinfo(pid: int, fd: int) -> tuple[str, int | None]:
    mode, pos = "", None
    with contextlib.suppress(OSError, ValueError), open(f"/proc/{pid}/fdinfo/{fd}", "rb") as f:
        for line in f.read().decode("ascii", "replace").splitlines():
            key, _, value = line.partition(":")
            if key == "flags":
                mode = _ACCMODE.get(int(value.strip(), 8) & os.O_ACCMODE, "")
            elif key == "pos":
                pos = int(value.strip())
    return mode, pos


def read_fds(pid: int) -> list[FdEntry]:
    """Every fd of ``pid``, in fd order. PermissionError when /proc/PID/fd is not readable."""
    base = f"/proc/{pid}/fd"
    names = sorted(int(n) for n in os.listdir(base) if n.isdigit())
    socks: dict[int, str] | None = None
    rows = []
    for fd in names:
        try:
            link = os.readlink(f"{base}/{fd}")
        except OSError:
            continue  # closed meanwhile
        mode, pos = _fdinfo(pid, fd)
        deleted = False
        if link.startswith("socket:["):
            if socks is None:
                socks = _sockets(pid)
            kind, name = "sock", socks.get(fd, link)
            if fd in socks:
                kind, _, name = name.partition(" ")
        elif link.startswith("pipe:["):
            kind, name = "FIFO", link
        elif link.startswith("anon_inode:"):
            kind, name = "anon", link.removeprefix("anon_inode:")
        elif link.startswith("/"):
            deleted = link.endswith(" (deleted)")
            name = link[: -len(" (deleted)")] if deleted else link
            kind = "REG"
            with contextlib.suppress(OSError):
                st = os.stat(f"{base}/{fd}")
                kind = (
                    "DIR"
                    if stat.S_ISDIR(st.st_mode)
                    else "CHR"
                    if stat.S_ISCHR(st.st_mode)
                    else "BLK"
                    if stat.S_ISBLK(st.st_mode)
                    else "FIFO"
                    if stat.S_ISFIFO(st.st_mode)
                    else "sock"
                    if stat.S_ISSOCK(st.st_mode)
                    else "REG"
                )
        else:
            kind, name = "?", link
        rows.append(FdEntry(fd, kind, mode, sanitize(name), pos, deleted))
    return rows
