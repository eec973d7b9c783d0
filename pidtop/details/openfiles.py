"""A process's open files and sockets, like ``lsof -p``, from /proc/PID/fd.

No lsof needed and no Textual. Everything is read through the process's own checked
``/proc/PID`` directory fd (:class:`pidtop.kernel.procdir.ProcDir`): its fd links, and
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


@dataclass(frozen=True, slots=True)
class FdEntry:
    """One open file descriptor. ``name`` is sanitised process text."""

    fd: int
    #: REG DIR CHR BLK FIFO pipe sock IPv4 IPv6 unix anon ... like lsof's TYPE; None: pending
    kind: str | None
    #: r / w / rw as the fd was opened; "" for neither (O_PATH); None: pending (not read yet:
    #: :func:`complete_fds`)
    mode: str | None
    name: str  # path, socket endpoints, or the kernel's link text (pipe:[123])
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


#: the ``net/`` table of each socket protocol (``system.sockprotoname``) that has one
_TABLES = {
    "TCP": ("tcp", "IPv4", "TCP"),
    "TCPv6": ("tcp6", "IPv6", "TCP"),
    "UDP": ("udp", "IPv4", "UDP"),
    "UDPv6": ("udp6", "IPv6", "UDP"),
    "UNIX": ("unix", "unix", ""),
}


def _protocol(d: ProcDir, fd: int) -> str | None:
    """The socket's protocol (``TCP``, ``UDPv6``, ``UNIX``, ``NETLINK``...) from its
    ``system.sockprotoname`` attribute, read through the process's directory fd; None if the
    kernel does not say."""
    try:
        raw = os.getxattr(f"/proc/self/fd/{d.fileno()}/fd/{fd}", "system.sockprotoname")
    except OSError:
        return None
    name = raw.rstrip(b"\0").decode("ascii", "replace")
    return "UNIX" if name.startswith("UNIX") else name


def _sockets(d: ProcDir, protocols: set[str | None]) -> dict[int, str]:
    """socket inode -> endpoints, from the process's own network namespace (its ``net/``
    tables, read through its directory fd): only the tables of ``protocols`` (all of them if
    one is unknown: None), as the kernel walks its whole TCP hash for ``net/tcp`` (~5 ms
    here). The tables it may not read are left out."""
    every = None in protocols
    out: dict[int, str] = {}
    for proto, (table, kind, name) in _TABLES.items():
        if not every and proto not in protocols:
            continue
        with contextlib.suppress(OSError, ValueError):
            text = d.text(f"net/{table}")
            out.update(parse_unix(text) if table == "unix" else parse_net(kind, name, text))
    return out


def _mode(link_mode: int) -> str:
    """r / w / rw from the mode of the fd's link in ``/proc/PID/fd``: the kernel gives it the
    owner's read and write bits of the open file's mode (FMODE_READ / FMODE_WRITE), which is
    what ``fdinfo``'s access flags say, in one ``lstat`` instead of an open, read and close."""
    return ("r" if link_mode & stat.S_IRUSR else "") + ("w" if link_mode & stat.S_IWUSR else "")


def _kind(st_mode: int) -> str:
    """lsof's TYPE of a path's file from its ``stat`` mode."""
    if stat.S_ISDIR(st_mode):
        return "DIR"
    if stat.S_ISCHR(st_mode):
        return "CHR"
    if stat.S_ISBLK(st_mode):
        return "BLK"
    if stat.S_ISFIFO(st_mode):
        return "FIFO"
    if stat.S_ISSOCK(st_mode):
        return "sock"
    return "REG"


def read_fds(d: ProcDir, first: int | None = None) -> list[FdEntry]:
    """Every fd of the process, in fd order, read through its directory fd (ESRCH once it is
    reaped). PermissionError when its ``fd/`` is not readable.

    Per fd: ``readlink`` and ``lstat`` (its mode), ``stat`` for a path (its type) and the
    protocol for a socket; then only the ``net/`` tables of the protocols found. A process
    with a thousand fds is read in a few tens of ms. With ``first``, only the first ``first``
    fds are read: the others are listed *pending* (only their fd; ``mode`` None) until
    :func:`complete_fds` reads them, so a screen can show its first page (and how many there
    are: one ``listdir``) before it has read them all."""
    names = sorted(int(n) for n in d.listdir("fd") if n.isdigit())
    head = names if first is None else names[:first]
    return _read(d, head, closed=False) + [FdEntry(fd, None, None, "") for fd in names[len(head) :]]


def complete_fds(d: ProcDir, rows: list[FdEntry]) -> list[FdEntry]:
    """``rows`` with their pending fds (:func:`read_fds`) read, in place; one closed meanwhile
    is said so."""
    done = iter(_read(d, [row.fd for row in rows if row.mode is None], closed=True))
    return [row if row.mode is not None else next(done) for row in rows]


def _read(d: ProcDir, fds: list[int], *, closed: bool) -> list[FdEntry]:
    """The entries of ``fds``; one closed meanwhile is left out, or with ``closed`` said so."""
    dirfd = d.fileno()
    rows: list[FdEntry] = []
    socks: list[tuple[int, int]] = []  # (index in rows, socket inode)
    protocols: set[str | None] = set()
    for fd in fds:
        try:
            link = os.readlink(f"fd/{fd}", dir_fd=dirfd)
            mode = _mode(os.lstat(f"fd/{fd}", dir_fd=dirfd).st_mode)
        except FileNotFoundError:
            if closed:
                rows.append(FdEntry(fd, "", "", "(closed meanwhile)"))
            continue
        deleted = False
        if link.startswith("socket:["):
            kind, name = "sock", link
            if link[8:-1].isdigit():
                socks.append((len(rows), int(link[8:-1])))
                protocols.add(_protocol(d, fd))
        elif link.startswith("pipe:["):
            kind, name = "FIFO", link
        elif link.startswith("anon_inode:"):
            kind, name = "anon", link.removeprefix("anon_inode:")
        elif link.startswith("/"):
            deleted = link.endswith(" (deleted)")
            name = link[: -len(" (deleted)")] if deleted else link
            kind = "REG"
            with contextlib.suppress(OSError):
                kind = _kind(os.stat(f"fd/{fd}", dir_fd=dirfd).st_mode)
        else:
            kind, name = "?", link
        rows.append(FdEntry(fd, kind, mode, sanitize(name), deleted))
    if socks:
        ends = _sockets(d, protocols)
        for i, inode in socks:
            found = ends.get(inode)
            if found is not None:
                kind, _, name = found.partition(" ")
                rows[i] = FdEntry(rows[i].fd, kind, rows[i].mode, sanitize(name))
    return rows
