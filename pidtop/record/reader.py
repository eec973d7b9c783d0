"""Reading the store: the recorded moments, the snapshot of any of them, the exits of a window.

A snapshot is rebuilt from the processes alive at that sample (``procs.first <= S <
procs.last``) and, for each, its latest change at or before S: one indexed query, a few
milliseconds at 1,000 processes whatever the store's age. Read-only: a replay never writes,
and it works on a store another user records (when its mode lets them read it).
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from pidtop.journal.records import ExitRecord, LostRecord, Record
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.record.store import connect
from pidtop.sampling.snapshot import ProcInfo, ProcKey, Snapshot, SystemInfo

__all__ = ["Moment", "Reader", "record_of"]


@dataclass(frozen=True, slots=True)
class Moment:
    """One recorded sample."""

    index: int  # position in the store (0 = oldest kept)
    id: int  # samples.id
    run: int
    wall: float
    exits_complete: bool  # every exit since the previous sample of its run is recorded


_SNAPSHOT = """
SELECT p.pid, p.tgid, s.ppid, p.starttime, s.state, p.comm, p.cmdline, p.uid, p.user,
       s.priority, s.nice, s.num_threads, s.vsize, s.rss, s.shared, s.utime, s.stime,
       s.processor, p.kthread, p.thread, s.tty_nr, s.exe_deleted, s.extra, p.inode
FROM procs p JOIN states s ON s.proc = p.id AND s.sample = (SELECT sample FROM states
     WHERE proc = p.id AND sample <= :sid ORDER BY sample DESC LIMIT 1)
WHERE p.last > :sid AND p.first <= :sid
"""


def record_of(row: sqlite3.Row | tuple[object, ...]) -> Record:
    """A journal record from an ``exits`` row (``SELECT *``)."""
    (_, _, time, mono, kind, pid, ppid, uid, comm, cmdline, known, code, sig, core, reason,
     lifetime, inode, coredump, resolution, lost, overflow) = tuple(row)  # fmt: skip
    if kind == "lost":
        return LostRecord(float(time), float(mono), int(lost), bool(overflow))  # type: ignore[arg-type]
    status = (
        ExitStatus(True, code=code, signal=sig, core_dumped=bool(core))  # type: ignore[arg-type]
        if known
        else ExitStatus.unknown(str(reason or ""))
    )
    return ExitRecord(
        time=float(time),  # type: ignore[arg-type]
        monotonic=float(mono),  # type: ignore[arg-type]
        pid=int(pid),  # type: ignore[call-overload]
        ppid=int(ppid or 0),  # type: ignore[call-overload]
        uid=uid,  # type: ignore[arg-type]
        comm=comm,  # type: ignore[arg-type]
        cmdline=cmdline,  # type: ignore[arg-type]
        status=status,
        lifetime_s=lifetime,  # type: ignore[arg-type]
        inode=inode,  # type: ignore[arg-type]
        coredump_fact=str(coredump or "unknown"),
        lifetime_resolution_s=resolution,  # type: ignore[arg-type]
    )


class Reader:
    """A store opened read-only; :attr:`moments` are its samples, oldest first."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)
        self.moments: list[Moment] = []
        self._walls: list[float] = []
        self._runs: dict[int, tuple[float, int, int, bool, str]] = {}
        self.reload()

    def close(self) -> None:
        self.db.close()

    def reload(self) -> None:
        """Read the list of samples again (a recorder may have added some)."""
        rows = self.db.execute(
            "SELECT id, run, wall, exits_complete FROM samples ORDER BY id"
        ).fetchall()
        self.moments = [
            Moment(i, sid, run, wall, bool(c)) for i, (sid, run, wall, c) in enumerate(rows)
        ]
        self._walls = [m.wall for m in self.moments]
        self._runs = {
            int(r[0]): (float(r[1] or 0.0), int(r[2] or 100), int(r[3] or 4096), bool(r[4]),
                        str(r[5] or ""))
            for r in self.db.execute(
                "SELECT id, boot_time, clk_tck, page_size, exits_complete, note FROM runs"
            )
        }  # fmt: skip

    def __len__(self) -> int:
        return len(self.moments)

    def index_at(self, wall: float) -> int:
        """The sample at or just before ``wall`` (the first one for an earlier time)."""
        if not self.moments:
            raise LookupError(f"{self.path}: the recording holds no sample yet")
        # a millisecond of slack: a time printed to the microsecond names its own sample
        return max(0, bisect.bisect_right(self._walls, wall + 1e-3) - 1)

    def run_note(self, index: int) -> tuple[bool, str]:
        """(the journal saw every exit in this sample's run, why not)."""
        run = self._runs.get(self.moments[index].run)
        return (run[3], run[4]) if run is not None else (False, "")

    def snapshot(self, index: int) -> tuple[Snapshot, dict[ProcKey, int]]:
        """The snapshot recorded at ``moments[index]`` and the pidfs inodes of its processes
        (the identities ``PID:INODE``; a process without one is not in the dict)."""
        m = self.moments[index]
        boot_time, clk_tck, page_size, _, _ = self._runs.get(m.run, (0.0, 100, 4096, False, ""))
        sys_row = self.db.execute("SELECT mono, system FROM samples WHERE id=?", (m.id,)).fetchone()
        system = json.loads(sys_row[1])
        procs: list[ProcInfo] = []
        inodes: dict[ProcKey, int] = {}
        for r in self.db.execute(_SNAPSHOT, {"sid": m.id}):
            # the columns are in ProcInfo's order (positional: a third of the cost of keywords)
            head: tuple[Any, ...] = (*r[:18], bool(r[18]), bool(r[19]), r[20], bool(r[21]))
            info = ProcInfo(*head)
            if r[22]:
                info = replace(info, **json.loads(r[22]))
            procs.append(info)
            if r[23] is not None:
                inodes[(info.pid, info.starttime)] = int(r[23])
        procs.sort(key=lambda p: (p.pid, p.starttime))
        snap = Snapshot(
            time=float(sys_row[0]),
            wall=m.wall,
            processes=tuple(procs),
            system=SystemInfo(
                cpu_percent=tuple(system["cpu_percent"]),
                mem_total=system["mem_total"],
                mem_used=system["mem_used"],
                swap_total=system["swap_total"],
                swap_used=system["swap_used"],
                load=tuple(system["load"]),
                uptime=system["uptime"],
                ncpu=system["ncpu"],
                cpu_ids=tuple(system.get("cpu_ids", ())),
            ),
            clk_tck=clk_tck,
            page_size=page_size,
            boot_time=boot_time,
        )
        return snap, inodes

    def previous(self, index: int) -> int | None:
        """The sample before ``index`` in the same run (CPU% is measured over that interval)."""
        if index > 0 and self.moments[index - 1].run == self.moments[index].run:
            return index - 1
        return None

    def exits(
        self, since: float | None = None, until: float | None = None, *, last: int | None = None
    ) -> list[Record]:
        """The exits and losses recorded in ``[since, until]``, oldest first (``last``: only
        the newest that many)."""
        lo = -1e18 if since is None else since
        hi = 1e18 if until is None else until
        if last is None:
            rows = self.db.execute(
                "SELECT * FROM exits WHERE time>=? AND time<=? ORDER BY time, id", (lo, hi)
            ).fetchall()
        else:
            rows = self.db.execute(
                "SELECT * FROM exits WHERE time>=? AND time<=? ORDER BY time DESC, id DESC LIMIT ?",
                (lo, hi, last),
            ).fetchall()
            rows.reverse()
        return [record_of(r) for r in rows]

    def gaps(self, since: float, until: float) -> list[tuple[float, float]]:
        """The stretches of ``[since, until]`` whose exits are not all recorded: before the
        first sample, between runs, while the journal was incomplete (merged, oldest first)."""
        out: list[tuple[float, float]] = []
        prev_wall = None
        for m in self.moments:
            if m.wall < since:
                prev_wall = m.wall
                continue
            start = prev_wall if prev_wall is not None else since
            if not m.exits_complete:
                if out and out[-1][1] >= start:
                    out[-1] = (out[-1][0], m.wall)
                else:
                    out.append((max(start, since), min(m.wall, until)))
            prev_wall = m.wall
            if m.wall >= until:
                break
        else:
            last = self.moments[-1].wall if self.moments else since
            if until > last:  # after the last sample: nothing yet
                if out and out[-1][1] >= last:  # one stretch with the gap that ends there
                    out[-1] = (out[-1][0], until)
                else:
                    out.append((max(last, since), until))
        return [(a, b) for a, b in out if b > a]
