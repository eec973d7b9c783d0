"""Scripted process handles for *rendering tests only* (snapshots, screenshots, ``--demo``).

The same idea as :mod:`pidtop.demo.source`: the pinned strip, the exit marks and the
dialogs must be drawn from deterministic data, so snapshots cannot depend on real PIDs, pidfs
inodes or exit timing. :class:`ScriptedOpener` stands in for :meth:`ProcessHandle.open` in a
:class:`~pidtop.actions.pins.PinSet`; it hands out :class:`ScriptedHandle` objects with a fixed
PID, inode and start time whose state and exit status the test sets. A scripted handle has no
file descriptor (``fileno()`` is None), so the :class:`~pidtop.kernel.watch.Watcher` polls its
``state()`` on its timer, exactly as for a degraded handle. Nothing here touches the system,
and nothing here is used to act on a real process. No Textual.
"""

from __future__ import annotations

import copy
import signal
from dataclasses import dataclass, field
from typing import Protocol

from pidtop.demo.script import CLK_TCK, UPTIME0, WALL0
from pidtop.kernel.errors import IdentityMismatch, ProcessGone
from pidtop.kernel.handle import Handle, State
from pidtop.kernel.identity import format_identity
from pidtop.kernel.pidfdinfo import ExitStatus, ReclaimResult, SignalResult

#: inodes handed out are ``INODE_BASE + pid`` unless the test gives one
INODE_BASE = 1_000_000


class ScriptedProcesses(Protocol):
    """What the demo's handles need from :class:`~pidtop.demo.source.ScriptedSource` (typed
    here, not imported: the source brings these doubles along)."""

    def key_of(self, pid: int) -> tuple[int, int]:
        """(pid, start time) of a scripted process; KeyError when it is not in the script."""
        ...

    def now(self) -> float:
        """Wall time of the latest sample."""
        ...

    def exit(self, pid: int) -> None:
        """Take the process out of the script (from the next sample)."""
        ...


@dataclass(slots=True)
class _Script:
    """The pretend process behind a handle and its :meth:`ScriptedHandle.dup` copies."""

    state: State = "running"
    status: ExitStatus = field(default_factory=lambda: ExitStatus.unknown("still running"))
    final: ExitStatus | None = None
    signals: list[int] = field(default_factory=list)


class ScriptedHandle(Handle):
    """A pretend process handle: identity fixed, state and exit status set by the test.

    It implements :class:`~pidtop.kernel.handle.Handle` like the real handle, so the state ->
    outcome logic of ``send_signal`` is the real one; only the send itself (``_deliver``) is
    scripted.
    """

    degraded = False
    real = False  # its PID is the script's: /proc/PID and calls by PID are another process's
    opened_exited = False  # ProcessHandle: opened as a zombie (lifetime then unknown)

    def __init__(self, pid: int, inode: int, starttime: int, *, lived: float = 0.0) -> None:
        self.pid = pid
        self.inode: int | None = inode
        self.starttime: int | None = starttime
        self.lived = lived
        self._script = _Script()
        self._closed = False

    # -- what a test does

    @property
    def signals(self) -> list[int]:
        """Signals "sent" to the process (through any of its handles), in order."""
        return self._script.signals

    def finish(self, status: ExitStatus, *, reaped: bool = True) -> None:
        """Make it exit (``reaped`` False: a zombie whose status is not known yet)."""
        p = self._script
        p.state = "reaped" if reaped else "exited"
        p.status = status if reaped else ExitStatus.unknown("not yet reaped by its parent")
        p.final = status

    def reap(self) -> None:
        """A zombie made by ``finish(..., reaped=False)`` is reaped: its status becomes known."""
        p = self._script
        p.state = "reaped"
        p.status = p.final or ExitStatus.unknown("no status scripted")

    # -- the Handle interface

    @property
    def closed(self) -> bool:
        return self._closed

    def fileno(self) -> int | None:
        return None

    def close(self) -> None:
        self._closed = True

    def dup(self) -> ScriptedHandle:
        """Another handle on the same pretend process (closed on its own)."""
        other = copy.copy(self)  # shares the _Script
        other._closed = False
        return other

    def state(self) -> State:
        return self._script.state

    def exit_status(self, *, reap: bool = False) -> ExitStatus:
        return self._script.status

    def lifetime(self, at_boottime: float | None = None) -> float | None:
        return self.lived

    def _deliver(self, sig: int) -> SignalResult:
        self._script.signals.append(sig)
        if sig in (signal.SIGTERM, signal.SIGKILL, signal.SIGINT):
            self.finish(ExitStatus(True, signal=sig))
        return SignalResult(format_identity(self.identity), sig, "delivered")

    def reclaim(self) -> ReclaimResult:
        return ReclaimResult(format_identity(self.identity), "already_freed")

    def __repr__(self) -> str:
        return f"<ScriptedHandle {format_identity(self.identity)}>"


class ScriptedOpener:
    """Callable like :meth:`ProcessHandle.open`, over a script of pretend processes.

    ``add(pid, starttime)`` declares a process (pins of undeclared PIDs fail with ProcessGone);
    a start time that differs from the declared one fails with IdentityMismatch, as a reused
    PID would. Every handle it opened is kept in ``handles`` (latest per PID).
    """

    def __init__(self) -> None:
        self._procs: dict[int, tuple[int, int, float]] = {}
        self.handles: dict[int, ScriptedHandle] = {}

    def add(
        self, pid: int, starttime: int, *, inode: int | None = None, lived: float = 0.0
    ) -> None:
        self._procs[pid] = (starttime, INODE_BASE + pid if inode is None else inode, lived)

    def __call__(
        self,
        pid: int,
        *,
        starttime: int | None = None,
        inode: int | None = None,
        allow_exited: bool = False,
    ) -> ScriptedHandle:
        start, ino, lived = self._lookup(pid)
        if starttime is not None and starttime != start:
            raise IdentityMismatch(pid, f"start time {start}, expected {starttime}")
        if inode is not None and inode != ino:
            raise IdentityMismatch(pid, f"inode {ino}, expected {inode}")
        handle = self._make(pid, ino, start, lived)
        self.handles[pid] = handle
        return handle

    def _lookup(self, pid: int) -> tuple[int, int, float]:
        """(start time, inode, lifetime) of a declared process; ProcessGone otherwise."""
        if pid not in self._procs:
            raise ProcessGone(pid)
        return self._procs[pid]

    def _make(self, pid: int, inode: int, starttime: int, lived: float) -> ScriptedHandle:
        return ScriptedHandle(pid, inode, starttime, lived=lived)


class SourceOpener(ScriptedOpener):
    """``--demo``: pretend handles for the processes of a
    :class:`~pidtop.demo.source.ScriptedSource`.

    Pins and kills in the demo act on the scripted processes only (never on a real PID that
    happens to have the same number): a scripted process that is "killed" leaves the source,
    so its row goes away at the next sample while its pin shows the exit.
    """

    def __init__(self, source: ScriptedProcesses) -> None:
        super().__init__()
        self._source = source

    def _lookup(self, pid: int) -> tuple[int, int, float]:
        try:
            start = self._source.key_of(pid)[1]
        except KeyError:
            raise ProcessGone(pid) from None
        lived = max(0.0, self._source.now() - (WALL0 - UPTIME0) - start / CLK_TCK)
        return start, INODE_BASE + pid, lived

    def _make(self, pid: int, inode: int, starttime: int, lived: float) -> ScriptedHandle:
        return _DemoHandle(pid, inode, starttime, lived=lived, source=self._source)


class _DemoHandle(ScriptedHandle):
    """A demo process: when it "exits" it also leaves the scripted source."""

    def __init__(
        self, pid: int, inode: int, starttime: int, *, lived: float, source: ScriptedProcesses
    ) -> None:
        super().__init__(pid, inode, starttime, lived=lived)
        self._demo_source = source

    def finish(self, status: ExitStatus, *, reaped: bool = True) -> None:
        super().finish(status, reaped=reaped)
        self._demo_source.exit(self.pid)
