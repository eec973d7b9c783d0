"""The loop of ``pidtop record``: a sample every interval, every exit as it comes, retention.

The journal runs in its own thread (:class:`JournalReader`); its records are queued and
written once a second. Every ``interval`` the sampler takes the process table and the writer
stores what changed; the journal's connector marks the processes whose owner or command changed
meanwhile (the monitor's event spine, :class:`~pidtop.sampling.changes.ChangeFeed`), so each
sample reads them again. Each sample says whether the exits since the previous one are complete
(the proc connector delivered and lost nothing); where the kernel refuses the connector the
journal falls back to pidfds on the listed processes and the samples say so.

Stops on SIGINT/SIGTERM (exit 0), a full disk or a failing store (exit 1, one line, what was
stored is kept), or after ``samples`` samples (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from pidtop.journal.records import LostRecord, Record
from pidtop.journal.service import Journal, JournalReader
from pidtop.kernel.errors import FdLimit, HandleError, IdentityMismatch, ProcessGone
from pidtop.kernel.handle import ProcessHandle
from pidtop.record.store import StoreError, WriterLock, connect
from pidtop.record.writer import Writer
from pidtop.sampling.changes import ChangeFeed
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcInfo

__all__ = ["RecordFailed", "RecordOptions", "Recorder"]

#: seconds between writes of the queued exits
FLUSH_EVERY = 1.0
#: seconds between retention passes
RETAIN_EVERY = 3600.0


@dataclass(slots=True)
class RecordOptions:
    path: Path
    interval: float = 10.0
    keep: float | None = 7 * 86400.0
    max_bytes: int | None = 1 << 30
    use_connector: bool = True
    samples: int | None = None  # stop after this many samples (None: until signalled)


class RecordFailed(Exception):
    """Recording cannot go on (a full disk, an unwritable store); the message says why."""


def _boot_id() -> str:
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return ""


def _inode(p: ProcInfo) -> int | None:
    """The pidfs inode of a process first seen (a pidfd opened, verified, closed)."""
    if p.is_thread or p.is_kernel_thread:
        return None
    try:
        with ProcessHandle.open(p.pid, starttime=p.starttime, allow_exited=True) as handle:
            return handle.inode
    except (ProcessGone, IdentityMismatch, HandleError, FdLimit, OSError):
        return None


def _store_failure(path: Path, e: sqlite3.Error) -> RecordFailed:
    text = str(e)
    if "full" in text or getattr(e, "sqlite_errorcode", 0) == 13:  # SQLITE_FULL
        why = "the disk is full"
    else:
        why = f"the store cannot be written ({text})"
    return RecordFailed(f"{why}: recording stopped; what was recorded before is kept in {path}")


class Recorder:
    """One ``pidtop record`` run. ``say`` prints a line for the user (stderr)."""

    def __init__(self, opts: RecordOptions, say: Callable[[str], None]) -> None:
        self.opts = opts
        self.say = say
        self.stop = threading.Event()
        self._pending: list[Record] = []
        self._pending_lock = threading.Lock()
        self._lost_since_sample = False
        self._inodes: dict[int, int] = {}
        self.samples_written = 0
        self.exits_written = 0
        #: the event spine, as in the monitor: the journal's connector marks the processes
        #: whose owner or command changed (UID, EXEC, COMM events), the sampler reads them again
        #: at its next sample, and while it is live skips the stat() of every process a pass
        self.feed = ChangeFeed()

    def _on_records(self, records: list[Record]) -> None:
        with self._pending_lock:
            self._pending.extend(records)
            if any(isinstance(r, LostRecord) for r in records):
                self._lost_since_sample = True

    def _take_pending(self) -> tuple[list[Record], bool]:
        with self._pending_lock:
            records, self._pending = self._pending, []
            lost, self._lost_since_sample = self._lost_since_sample, False
        return records, lost

    def run(self) -> None:
        """Record until stopped. Raises :class:`StoreError` (cannot open or lock the store)
        and :class:`RecordFailed` (a write failed: full disk...)."""
        opts = self.opts
        lock = WriterLock(opts.path)
        try:
            opts.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create {opts.path.parent}: {e.strerror or e}") from None
        lock.acquire()
        try:
            db = connect(opts.path, write=True)
            try:
                self._record(Writer(db))
            finally:
                with contextlib.suppress(sqlite3.Error):
                    db.close()
        finally:
            lock.release()

    def _record(self, writer: Writer) -> None:
        opts = self.opts
        sampler = ProcSampler(feed=self.feed)
        journal = Journal(keep=1000, interval=min(1.0, opts.interval), feed=self.feed)
        journal.inode_of = self._inodes.get  # replaced dicts are read whole (GIL)
        reader = JournalReader(
            journal, self._on_records, start={"use_connector": opts.use_connector}
        )
        reader.start()
        noted = False
        try:
            snap = sampler.sample()
            try:
                writer.begin_run(
                    snap, pid=os.getpid(), host=socket.gethostname(),
                    boot_id=_boot_id(), interval=opts.interval, exits_complete=False,
                    note="starting",
                )  # fmt: skip
                writer.retain(keep=opts.keep, max_bytes=opts.max_bytes, now=snap.wall)
            except sqlite3.Error as e:
                raise _store_failure(opts.path, e) from None
            next_sample = time.monotonic()
            next_retain = next_sample + RETAIN_EVERY
            first = True
            while not self.stop.is_set():
                now = time.monotonic()
                if now >= next_sample:
                    if not first:
                        snap = sampler.sample()
                    records, lost = self._take_pending()
                    complete = (
                        not first and journal.started and journal.complete and not lost
                        and not journal.error
                    )  # fmt: skip
                    try:
                        self.exits_written += writer.write_exits(records)
                        writer.write_sample(snap, exits_complete=complete, inode_of=_inode)
                    except sqlite3.Error as e:
                        raise _store_failure(opts.path, e) from None
                    self._inodes = writer.inodes()  # the journal's PID -> inode
                    journal.inode_of = self._inodes.get
                    first = False
                    self.samples_written += 1
                    if opts.samples is not None and self.samples_written >= opts.samples:
                        break
                    next_sample += opts.interval
                    if next_sample < now:  # suspended, or a sample took longer: no catch-up
                        next_sample = now + opts.interval
                if not noted and journal.started:
                    noted = True
                    self._note_journal(writer, journal)
                if journal.error:
                    self.say(f"pidtop record: the exit journal stopped: {journal.error}")
                    journal.error = ""
                if time.monotonic() >= next_retain:
                    next_retain += RETAIN_EVERY
                    try:
                        writer.retain(keep=opts.keep, max_bytes=opts.max_bytes, now=time.time())
                    except sqlite3.Error as e:
                        raise _store_failure(opts.path, e) from None
                wait = min(FLUSH_EVERY, max(0.0, next_sample - time.monotonic()))
                if self.stop.wait(wait):
                    break
                records, lost = self._take_pending()
                if lost:
                    self._lost_since_sample = True
                try:
                    self.exits_written += writer.write_exits(records)
                except sqlite3.Error as e:
                    raise _store_failure(opts.path, e) from None
            records, _ = self._take_pending()
            with contextlib.suppress(sqlite3.Error):
                self.exits_written += writer.write_exits(records)
        finally:
            reader.stop()
            journal.close()
            sampler.close()

    def _note_journal(self, writer: Writer, journal: Journal) -> None:
        if journal.complete:
            note = "every exit recorded (proc connector)"
        else:
            note = f"exits between samples are missing: {journal.note}"
            self.say(f"pidtop record: warning: {note}")
        try:
            writer.note_run(exits_complete=journal.complete, note=note)
        except sqlite3.Error as e:
            raise _store_failure(self.opts.path, e) from None


def install_signals(recorder: Recorder) -> dict[int, object]:
    """SIGINT and SIGTERM stop the recorder (after the current write); returns the old
    handlers."""

    def stop(signum: int, frame: object) -> None:
        recorder.stop.set()

    return {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
