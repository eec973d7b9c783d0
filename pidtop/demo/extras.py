"""Deterministic values of the optional columns for ``ScriptedSource`` (issue 8's columns).

Derived from the script alone (pid, parent chain, user, CPU ticks), never from the system:
TTY (the two SSH sessions' shells and what they started), cgroup (systemd services, user
sessions, kernel threads at ``/``), storage I/O growing with CPU use (the ``postgres`` user's
processes read "no perm", as for a non-root pidtop), OOM score from RSS, context switches.
Like the real sampler, the optional fields are filled only when ``sample(fields=...)`` asks.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from pidtop.sampling.extras import FIELD_CGROUP, FIELD_CTXSW, FIELD_IO, FIELD_OOM, IO_DENIED

__all__ = ["extra_fields"]

_PTS = 136 << 8  # tty_nr of /dev/pts/0
#: shells on a terminal (their descendants inherit it)
_TTYS = {1106: _PTS + 0, 1306: _PTS + 1}
#: cgroups of processes whose descendants inherit them
_CGROUPS = {
    1: "/init.scope",
    1000: "/user.slice/user-1000.slice/user@1000.service/init.scope",
    1100: "/user.slice/user-1000.slice/session-3.scope",
    1300: "/user.slice/user-1001.slice/session-5.scope",
    700: "/system.slice/postgresql@16-main.service",
    800: "/system.slice/nginx.service",
    850: "/system.slice/php8.2-fpm.service",
    601: "/system.slice/ssh.service",
}
_MEM_TOTAL = 16 << 30


class _Proc(Protocol):
    pid: int
    ppid: int
    comm: str
    user: str
    kernel: bool
    rss: int
    utime: int
    stime: int


def _inherited(p: _Proc | None, procs: Mapping[int, Any], table: Mapping[int, Any]) -> Any:
    seen = 0
    while p is not None and seen < 64:
        if p.pid in table:
            return table[p.pid]
        p = procs.get(p.ppid)
        seen += 1
    return None


def _cgroup(p: _Proc | None, procs: Mapping[int, Any]) -> str:
    """Its own entry, else a service of its own if PID 1 started it, else its parent's."""
    seen = 0
    while p is not None and seen < 64:
        if p.kernel:
            return "/"
        if p.pid in _CGROUPS:
            return _CGROUPS[p.pid]
        if p.ppid == 1:
            return f"/system.slice/{p.comm}.service"
        p = procs.get(p.ppid)
        seen += 1
    return "/init.scope"


def extra_fields(p: _Proc, procs: Mapping[int, Any], fields: frozenset[str]) -> dict[str, Any]:
    """``ProcInfo`` keyword arguments for the TTY and the requested optional fields."""
    out: dict[str, Any] = {"tty_nr": 0 if p.kernel else _inherited(p, procs, _TTYS) or 0}
    if not fields:
        return out
    ticks = p.utime + p.stime
    if FIELD_IO in fields:
        denied = p.user == "postgres"
        out["io_read"] = IO_DENIED if denied else ticks * 4096 * (p.pid % 7)
        out["io_write"] = IO_DENIED if denied else ticks * 2048 * (p.pid % 5)
    if FIELD_CGROUP in fields:
        out["cgroup"] = _cgroup(p, procs)
    if FIELD_OOM in fields:
        out["oom_score"] = 0 if p.kernel else min(2000, p.rss * 1000 // _MEM_TOTAL)
    if FIELD_CTXSW in fields:
        out["ctxsw_voluntary"] = ticks * 3 + p.pid
        out["ctxsw_involuntary"] = ticks // 2
    return out
