"""A process's open files and sockets, like ``lsof -p``, from /proc/PID/fd and fdinfo.

No lsof needed and no Textual. Everything is read through the process's own checked
``/proc/PID`` directory fd (:class:`pidtop.kernel.procdir.ProcDir`): its fd links, fdinfo, and
the socket endpoints from its own network namespace's ``net/tcp``, ``tcp6``, ``udp``, ``udp6``
and ``unix`` tables, matched by socket inode. Once the process is reaped every read fails with
ESRCH: the table is never another process's.
"""

from __future__ import annotations

import contextlib
import os
import socket
import stat
import sys
from dataclasses import dataclass

from pidtop.kernel.procdir import ProcDir
from pidtop.sampling.fmt import sanitize

_ACCMODE = {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}


@dataclass(frozen=True, slots=True)
class FdEntry:
    """One open file descriptor. ``name`` is sanitised process text."""

    fd: int
    kind: str  # REG DIR CHR BLK FIFO pipe sock IPv4 IPv6 unix anon ... like lsof's TYPE
    mode: str  # r / w / rw (from fdinfo flags), "" if unknown
    name: str  # path, socket endpoints, or the kernel's link text (pipe:[123])
    pos: int | None = None
    deleted: bool = False


_TCP_STATES = {
    1: "ESTABLISHED",
    2: "SYN_SENT",
    3: "SYN_RECV",
    4: "FIN_WAIT1",
    5: "FIN_WAIT2",
    6: "TIME_WAIT",
    7: "CLOSE",
    8: "CLOSE_WAIT",
    9: "LAST_ACK",
    10: "LISTEN",
    11: "CLOSING",
}


def _inet(hex_addr: str) -> str:
    """``0100007F:1F90`` (``/proc/net/tcp``: 32-bit words in host order) as ``127.0.0.1:8080``;
    IPv6 as ``[::1]:8080``."""
    host, _, port = hex_addr.partition(":")
    raw = b"".join(
        int(host[i : i + 8], 16).to_bytes(4, sys.byteorder) for i in range(0, len(host), 8)
    )
    family = socket.AF_INET if len(raw) == 4 else socket.AF_INET6
    text = socket.inet_ntop(family, raw)
    return f"[{text}]:{int(port, 16)}" if family == socket.AF_INET6 else f"{text}:{int(port, 16)}"


def parse_net(kind: str, proto: str, text: str) -> dict[int, str]:
    """socket inode -> ``IPv4 TCP 127.0.0.1:5432->127.0.0.1:40000 (ESTABLISHED)`` for one
    ``net/tcp``-style table (``kind`` IPv4/IPv6, ``proto`` TCP/UDP); a listening or unbound
    socket has no ``->`` part."""
    out: dict[int, str] = {}
    for line in text.splitlines()[1:]:
        f = line.split()
        if len(f) < 10:
            continue
        local, remote, state, inode = _inet(f[1]), _inet(f[2]), int(f[3], 16), int(f[9])
        name = f"{kind} {proto} {local}"
        if not remote.endswith(":0"):
            name += f"->{remote}"
        if proto == "TCP":
            name += f" ({_TCP_STATES.get(state, state)})"
        out[inode] = name
    return out


def parse_unix(text: str) -> dict[int, str]:
    """socket inode -> ``unix /path`` (``unix (unnamed)``) from a ``net/unix`` table."""
    out: dict[int, str] = {}
    for line in text.splitlines()[1:]:
        f = line.split(None, 7)
        if len(f) >= 7 and f[6].isdigit():
            out[int(f[6])] = f"unix {f[7] if len(f) > 7 else '(unnamed)'}"
    return out


def _sockets(d: ProcDir) -> dict[int, str]:
    """socket inode -> endpoints, from the process's own network namespace (its ``net/``
    tables, read through its directory fd); the tables it may not read are left out."""
    out: dict[int, str] = {}
    for name, kind, proto in (
        ("tcp", "IPv4", "TCP"),
        ("tcp6", "IPv6", "TCP"),
        ("udp", "IPv4", "UDP"),
        ("udp6", "IPv6", "UDP"),
    ):
        with contextlib.suppress(OSError, ValueError):
            out.update(parse_net(kind, proto, d.text(f"net/{name}")))
    with contextlib.suppress(OSError, ValueError):
        out.update(parse_unix(d.text("net/unix")))
    return out


def _fdinfo(d: ProcDir, fd: int) -> tuple[str, int | None]:
    mode, pos = "", None
    with contextlib.suppress(OSError, ValueError):
        for line in d.read(f"fdinfo/{fd}").decode("ascii", "replace").splitlines():
            key, _, value = line.partition(":")
            if key == "flags":
                mode = _ACCMODE.get(int(value.strip(), 8) & os.O_ACCMODE, "")
            elif key == "pos":
                pos = int(value.strip())
    return mode, pos


def read_fds(d: ProcDir) -> list[FdEntry]:
    """Every fd of the process, in fd order, read through its directory fd (ESRCH once it is
    reaped). PermissionError when its ``fd/`` is not readable."""
    names = sorted(int(n) for n in d.listdir("fd") if n.isdigit())
    socks: dict[int, str] | None = None
    rows = []
    for fd in names:
        try:
            link = d.readlink(f"fd/{fd}")
        except FileNotFoundError:
            continue  # closed meanwhile
        mode, pos = _fdinfo(d, fd)
        deleted = False
        if link.startswith("socket:["):
            if socks is None:
                socks = _sockets(d)
            found = socks.get(int(link[8:-1])) if link[8:-1].isdigit() else None
            kind, name = "sock", link
            if found is not None:
                kind, _, name = found.partition(" ")
        elif link.startswith("pipe:["):
            kind, name = "FIFO", link
        elif link.startswith("anon_inode:"):
            kind, name = "anon", link.removeprefix("anon_inode:")
        elif link.startswith("/"):
            deleted = link.endswith(" (deleted)")
            name = link[: -len(" (deleted)")] if deleted else link
            kind = "REG"
            with contextlib.suppress(OSError):
                st = d.stat(f"fd/{fd}")
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
