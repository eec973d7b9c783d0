"""Deterministic process details for the scripted source (snapshots, screenshots, ``--demo``).

Everything is derived from the :class:`~pidtop.demo.source.ScriptedSource` script and its
fixed clock, so two runs draw the same details screen on any machine. Handles are the demo's
pretend handles (:class:`~pidtop.demo.handles.SourceOpener`): nothing here touches the
real process that happens to have the same PID. No Textual.
"""

from __future__ import annotations

from typing import Any, Protocol

from pidtop.demo.handles import ScriptedProcesses, SourceOpener
from pidtop.demo.script import CLK_TCK, UPTIME0, USERS, WALL0
from pidtop.details.model import (
    NAMESPACES,
    Ancestor,
    Cgroup,
    Credentials,
    Details,
    IoCounters,
    Limit,
    Memory,
    Namespace,
    Person,
    ThreadRow,
    Unavailable,
)
from pidtop.details.openfiles import FdEntry
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import format_identity
from pidtop.sampling.snapshot import ProcInfo

#: every user of the script has a group of the same name and number
_GROUPS = {uid: name for name, uid in USERS.items()}
_UNLIMITED = -1


class _Script(ScriptedProcesses, Protocol):
    """What the details read from :class:`~pidtop.demo.source.ScriptedSource`."""

    ncpu: int

    def info_of(self, pid: int, *, threads: bool = False) -> list[ProcInfo]:
        """The process as the next sample would show it (with its threads); [] if unknown."""
        ...

    def cpu_of(self, pid: int) -> float:
        """CPU% of one process over the last scripted interval."""
        ...


def _person(uid: int | None) -> Person:
    uid = 65534 if uid is None else uid
    return Person(uid, _GROUPS.get(uid, str(uid)))


class ScriptedDetails:
    """The scripted :class:`~pidtop.details.model.DetailsSource`."""

    def __init__(self, source: _Script) -> None:
        self.source = source
        self._opener = SourceOpener(source)

    def open(self, pid: int, starttime: int | None) -> ProcessHandle:
        return self._opener(pid, starttime=starttime, allow_exited=True)  # type: ignore[return-value]

    def read(
        self, handle: ProcessHandle, previous: Details | None, *, full_memory: bool = False
    ) -> Details | None:
        infos = self.source.info_of(handle.pid, threads=True)
        if not infos or handle.state() == "reaped" or infos[0].starttime != handle.starttime:
            return None
        p, threads = infos[0], infos[1:]
        pid = p.pid
        now = self.source.now()
        boot = WALL0 - UPTIME0
        argv = tuple(p.cmdline.split(" ")) if p.cmdline else ()
        exe: str | Unavailable = Unavailable("none (kernel thread)")
        if not p.is_kernel_thread:
            exe = argv[0] if argv and argv[0].startswith("/") else f"/usr/bin/{p.comm}"
        homes = {"root": "/", "alice": "/home/alice", "bob": "/home/bob"}
        cwd: str | Unavailable = homes.get(p.user, f"/var/lib/{p.user}")
        if p.state == "Z":
            exe = cwd = Unavailable("exited (zombie)")
        cpu = self.source.cpu_of(pid)
        n = len(threads) + 1
        rows = [ThreadRow(pid, p.comm, p.state, cpu / n, p.utime + p.stime, p.processor)]
        rows += [
            ThreadRow(t.pid, t.comm, t.state, cpu / n, t.utime + t.stime, t.processor)
            for t in threads
        ]
        person = _person(p.uid)
        unit = f"{p.comm}.service" if p.user != "alice" and p.user != "bob" else "session-2.scope"
        cg_path = (
            f"/user.slice/user-{p.uid}.slice/{unit}"
            if unit.startswith("session")
            else f"/system.slice/{unit}"
        )
        ncpu = self.source.ncpu
        io_base = pid * 4096 * 17
        return Details(
            pid=pid,
            inode=handle.inode,
            starttime=p.starttime,
            target=format_identity(handle.identity),
            read_at=now,
            read_mono=now,
            comm=p.comm,
            argv=argv,
            exe=exe,
            exe_deleted=False,
            cwd=cwd,
            cwd_deleted=False,
            ppid=p.ppid,
            parents=self._parents(p.ppid),
            creds=Credentials((person,) * 4, (person,) * 4, (person,)),  # type: ignore[arg-type]
            state=p.state,
            start_wall=boot + p.starttime / CLK_TCK,
            age=max(0.0, now - boot - p.starttime / CLK_TCK),
            nice=p.nice,
            priority=p.priority,
            policy="SCHED_OTHER",
            rt_priority=0,
            cpu=cpu,
            cpu_ticks=p.utime + p.stime,
            affinity=tuple(range(ncpu)),
            ionice=("best-effort", 4),
            num_threads=p.num_threads,
            threads=tuple(rows),
            memory=Memory(p.rss, p.vsize, p.shared or 0),
            full_memory=Memory(p.rss, p.vsize, p.shared or 0, p.rss * 3 // 4, p.rss * 5 // 6, 0)
            if full_memory
            else None,
            io=IoCounters(io_base, io_base // 3, io_base * 2, io_base, pid * 31, pid * 7, 0.0, 0.0),
            cgroup=Cgroup(cg_path, unit, None),
            namespaces=tuple(
                Namespace(name, 4026531830 + i, True) for i, name in enumerate(NAMESPACES)
            ),
            limits=(
                Limit("open files", 1024, 524288, ""),
                Limit("processes", 63448, 63448, ""),
                Limit("stack", 8 * 1024 * 1024, _UNLIMITED, "bytes"),
                Limit("core file", 0, _UNLIMITED, "bytes"),
            ),
            num_fds=6,
            kernel_thread=p.is_kernel_thread,
        )

    def _parents(self, ppid: int) -> tuple[Ancestor, ...]:
        chain: list[Ancestor] = []
        pid = ppid
        while pid > 0 and len(chain) < 32:
            infos = self.source.info_of(pid)
            if not infos:
                break
            chain.append(Ancestor(pid, infos[0].starttime, infos[0].comm))
            pid = infos[0].ppid
        return tuple(chain)

    def environ(self, handle: ProcessHandle) -> dict[str, str] | Unavailable:
        infos = self.source.info_of(handle.pid)
        if not infos:
            return Unavailable("exited")
        p = infos[0]
        home = "/root" if p.user == "root" else f"/home/{p.user}"
        return {
            "HOME": home,
            "LANG": "en_US.UTF-8",
            "LOGNAME": p.user,
            "PATH": "/usr/local/bin:/usr/bin:/bin",
            "PS1": "[\\u@\\h \\W]\\$ ",
            "SHELL": "/bin/bash",
            "TERM": "xterm-256color",
            "USER": p.user,
            "MARKUP": "[bold red]not markup[/]",
        }

    def complete_files(self, handle: ProcessHandle, rows: list[Any]) -> list[Any] | Unavailable:
        return rows  # (none is pending)

    def files(self, handle: ProcessHandle, first: int | None = None) -> list[Any] | Unavailable:
        if not self.source.info_of(handle.pid):
            return Unavailable("exited")
        return [
            FdEntry(0, "CHR", "rw", "/dev/pts/1"),
            FdEntry(1, "CHR", "rw", "/dev/pts/1"),
            FdEntry(2, "CHR", "rw", "/dev/pts/1"),
            FdEntry(3, "REG", "r", "/var/log/app.log"),
            FdEntry(4, "IPv4", "rw", "TCP 127.0.0.1:5432->127.0.0.1:41234 (ESTABLISHED)"),
            FdEntry(5, "FIFO", "w", "pipe:[31337]"),
            FdEntry(6, "anon", "rw", "[eventfd]"),
            FdEntry(7, "REG", "rw", "/tmp/old [x].db", deleted=True),
        ]


__all__ = ["ScriptedDetails"]
