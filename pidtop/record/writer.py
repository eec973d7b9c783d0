"""Writing the store: a sample as the changes since the previous one, exits, retention.

A sample is one transaction (SQLite WAL): a recorder killed at any moment leaves the store as
it was after its last committed sample or exit batch. Per process identity the writer keeps
the last :class:`ProcInfo` it stored; the sampler hands back the *same object* for a process
whose ``/proc/PID/stat`` did not change, so an idle process costs one ``is`` test and no row.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass

from pidtop.journal.records import ExitRecord, LostRecord, Record
from pidtop.record.store import ALIVE
from pidtop.sampling.snapshot import ProcInfo, ProcKey, Snapshot

__all__ = ["STATE_FIELDS", "Writer", "exit_row"]

#: the ProcInfo fields kept per change (``states``), in the table's column order
STATE_FIELDS = (
    "ppid", "state", "priority", "nice", "num_threads", "vsize", "rss", "shared", "utime",
    "stime", "processor", "tty_nr", "exe_deleted",
)  # fmt: skip
#: optional fields (None unless sampled), kept as JSON in ``states.extra``
EXTRA_FIELDS = (
    "io_read", "io_write", "cgroup", "oom_score", "ctxsw_voluntary", "ctxsw_involuntary",
)  # fmt: skip
#: the fields that name a process (``procs``): a change (``execve``, ``setuid``) starts a row
TEXT_FIELDS = ("comm", "cmdline", "uid", "user")


@dataclass(slots=True)
class _Live:
    proc: int  # procs.id
    info: ProcInfo  # as last stored
    inode: int | None  # pidfs inode


def _state_row(proc: int, sample: int, p: ProcInfo) -> tuple[object, ...]:
    extra = {f: v for f in EXTRA_FIELDS if (v := getattr(p, f)) is not None}
    return (
        proc, sample, p.ppid, p.state, p.priority, p.nice, p.num_threads, p.vsize, p.rss,
        p.shared, p.utime, p.stime, p.processor, p.tty_nr, int(p.exe_deleted),
        json.dumps(extra, separators=(",", ":")) if extra else None,
    )  # fmt: skip


def exit_row(run: int, r: Record) -> tuple[object, ...]:
    """The ``exits`` row of a journal record (an exit or a loss)."""
    if isinstance(r, LostRecord):
        return (run, r.time, r.monotonic, "lost", None, None, None, None, None, None, None,
                None, None, None, None, None, None, None, r.events, int(r.overflow))  # fmt: skip
    s = r.status
    return (
        run, r.time, r.monotonic, "exit", r.pid, r.ppid, r.uid, r.comm, r.cmdline,
        int(s.known), s.code, s.signal, int(s.core_dumped), s.reason, r.lifetime_s, r.inode,
        r.coredump_fact, r.lifetime_resolution_s, None, None,
    )  # fmt: skip


_INSERT_EXIT = "INSERT INTO exits VALUES (NULL" + ", ?" * 20 + ")"
_INSERT_STATE = "INSERT OR REPLACE INTO states VALUES (" + ", ".join("?" * 16) + ")"


class Writer:
    """Appends to one store (held under :class:`~pidtop.record.store.WriterLock`)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db
        self.run = 0
        self._live: dict[ProcKey, _Live] = {}
        self.rows_written = 0  # state rows (tests, benchmarks)

    def begin_run(
        self,
        snap: Snapshot,
        *,
        pid: int,
        host: str,
        boot_id: str,
        interval: float,
        exits_complete: bool,
        note: str,
    ) -> int:
        """Start a run: processes a previous (perhaps killed) run left open end where it
        stopped; returns the run id."""
        db = self.db
        with self._transaction():
            last = db.execute("SELECT MAX(id) FROM samples").fetchone()[0]
            if last is not None:  # the previous run's processes end after its last sample
                db.execute("UPDATE procs SET last=? WHERE last=?", (last + 1, ALIVE))
            cur = db.execute(
                "INSERT INTO runs VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (snap.wall, pid, host, boot_id, snap.boot_time, snap.clk_tck, snap.page_size,
                 interval, int(exits_complete), note),
            )  # fmt: skip
        self.run = int(cur.lastrowid or 0)
        self._live = {}
        return self.run

    def note_run(self, *, exits_complete: bool, note: str) -> None:
        """What the journal turned out to be (its start check runs after the run began)."""
        with self._transaction():
            self.db.execute(
                "UPDATE runs SET exits_complete=?, note=? WHERE id=?",
                (int(exits_complete), note, self.run),
            )

    def _transaction(self) -> _Tx:
        return _Tx(self.db)

    def write_sample(
        self,
        snap: Snapshot,
        *,
        exits_complete: bool,
        inode_of: Callable[[ProcInfo], int | None] = lambda p: None,
    ) -> int:
        """Store one sample (what changed since the previous one); returns its id.
        ``exits_complete``: every exit since the previous sample of this run was written;
        ``inode_of`` gives the pidfs inode of a process first seen."""
        db = self.db
        system = asdict(snap.system)
        with self._transaction():
            cur = db.execute(
                "INSERT INTO samples VALUES (NULL, ?, ?, ?, ?, ?)",
                (self.run, snap.wall, snap.time, int(exits_complete),
                 json.dumps(system, separators=(",", ":"))),
            )  # fmt: skip
            sid = int(cur.lastrowid or 0)
            old = self._live
            live: dict[ProcKey, _Live] = {}
            states: list[tuple[object, ...]] = []
            ended: list[tuple[int, int]] = []
            for p in snap.processes:
                key = (p.pid, p.starttime)
                entry = old.get(key)
                inode: int | None = None
                if entry is not None:
                    before = entry.info
                    if before is not p:
                        if any(getattr(p, f) != getattr(before, f) for f in TEXT_FIELDS):
                            ended.append((sid, entry.proc))
                            inode = entry.inode
                            entry = None
                        elif _changed(before, p):
                            states.append(_state_row(entry.proc, sid, p))
                            entry.info = p
                        else:
                            entry.info = p
                if entry is None:
                    if inode is None:
                        inode = inode_of(p)
                    proc = self._new_proc(sid, p, inode)
                    states.append(_state_row(proc, sid, p))
                    entry = _Live(proc, p, inode)
                live[key] = entry
            for key, entry in old.items():
                if key not in live:
                    ended.append((sid, entry.proc))
            if ended:
                db.executemany("UPDATE procs SET last=? WHERE id=?", ended)
            if states:
                db.executemany(_INSERT_STATE, states)
            self._live = live
        self.rows_written += len(states)
        return sid

    def inodes(self) -> dict[int, int]:
        """PID -> pidfs inode of the processes of the latest sample (a new dict)."""
        return {key[0]: e.inode for key, e in self._live.items() if e.inode is not None}

    def _new_proc(self, sid: int, p: ProcInfo, inode: int | None) -> int:
        cur = self.db.execute(
            "INSERT INTO procs VALUES (NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (sid, ALIVE, p.pid, p.tgid, p.starttime, inode, p.uid, p.user, p.comm,
             p.cmdline, int(p.is_kernel_thread), int(p.is_thread)),
        )  # fmt: skip
        return int(cur.lastrowid or 0)

    def write_exits(self, records: Iterable[Record]) -> int:
        """Store journal records (one transaction); returns how many."""
        rows = [exit_row(self.run, r) for r in records if isinstance(r, ExitRecord | LostRecord)]
        if rows:
            with self._transaction():
                self.db.executemany(_INSERT_EXIT, rows)
        return len(rows)

    # -- retention

    def used_bytes(self) -> int:
        """Bytes of the pages in use (the file minus its free pages; the WAL not counted)."""
        db = self.db
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        free = db.execute("PRAGMA freelist_count").fetchone()[0]
        return int((pages - free) * db.execute("PRAGMA page_size").fetchone()[0])

    def retain(self, *, keep: float | None, max_bytes: int | None, now: float) -> int:
        """Drop what is older than ``keep`` seconds, then the oldest samples (a tenth at a
        time) while the store is over ``max_bytes``; returns the samples dropped."""
        db = self.db
        dropped = 0
        if keep is not None:
            dropped += self._drop_before_time(now - keep)
        while max_bytes is not None and self.used_bytes() > max_bytes:
            first, n = db.execute("SELECT MIN(id), COUNT(*) FROM samples").fetchone()
            if not n or n <= 1:
                break
            cut = db.execute(
                "SELECT id, wall FROM samples WHERE id>=? ORDER BY id LIMIT 1 OFFSET ?",
                (first, max(1, n // 10)),
            ).fetchone()
            dropped += self._drop_before(int(cut[0]), float(cut[1]))
        if dropped:
            db.execute("PRAGMA incremental_vacuum")
        return dropped

    def _drop_before_time(self, wall: float) -> int:
        row = self.db.execute("SELECT MIN(id) FROM samples WHERE wall>=?", (wall,)).fetchone()
        if row[0] is None:
            top = self.db.execute("SELECT MAX(id) FROM samples").fetchone()[0]
            if top is None:
                return 0
            sid = int(top) + 1
        else:
            sid = int(row[0])
        return self._drop_before(sid, wall)

    def _drop_before(self, sid: int, wall: float) -> int:
        """Forget samples before ``sid`` and exits before ``wall``; keep, per process alive at
        ``sid``, the state it had then (the changes after it build on it)."""
        db = self.db
        with self._transaction():
            n = db.execute("DELETE FROM samples WHERE id<?", (sid,)).rowcount
            db.execute(
                "DELETE FROM states WHERE proc IN (SELECT id FROM procs WHERE last<=?)", (sid,)
            )
            db.execute("DELETE FROM procs WHERE last<=?", (sid,))
            db.execute(
                "DELETE FROM states WHERE sample<? AND EXISTS (SELECT 1 FROM states b WHERE "
                "b.proc=states.proc AND b.sample>states.sample AND b.sample<=?)",
                (sid, sid),
            )
            db.execute("DELETE FROM exits WHERE time<?", (wall,))
        return int(n)


def _changed(a: ProcInfo, b: ProcInfo) -> bool:
    for f in STATE_FIELDS:
        if getattr(a, f) != getattr(b, f):
            return True
    return any(getattr(a, f) != getattr(b, f) for f in EXTRA_FIELDS)


class _Tx:
    """``with``: BEGIN IMMEDIATE ... COMMIT, ROLLBACK on any error (the store stays as it was)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, value: object, tb: object) -> None:
        if kind is None:
            self.db.execute("COMMIT")
        elif self.db.in_transaction:
            self.db.execute("ROLLBACK")
