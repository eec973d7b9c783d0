"""A recording played back through the monitor's own interfaces.

:class:`ReplaySource` is a ``ProcessSource`` whose ``sample()`` returns the recorded snapshot
at its cursor (and remembers the one before it, so the table measures CPU% over the recorded
interval); :meth:`ReplaySource.step` and :meth:`ReplaySource.jump` move the cursor.
:class:`ReplayJournal` is a :class:`~pidtop.journal.service.Journal` holding the exits
recorded up to the cursor (the Exits screen reads it as it reads the live one).
:class:`PlaybackSource` hands out a fixed list of snapshots (``pidtop snapshot --at``).
"""

from __future__ import annotations

import select
import threading
from collections.abc import Sequence

from pidtop.journal.records import ExitRecord, LostRecord
from pidtop.journal.service import KEEP, Journal, Record, Stats
from pidtop.record.reader import Moment, Reader
from pidtop.sampling.snapshot import HoldsNoFiles, ProcKey, Snapshot

__all__ = ["PlaybackSource", "ReplayJournal", "ReplaySource"]

#: rebuilt moments kept by a replay (stepping back and forth rebuilds one each time)
CACHED = 4


class ReplaySource(HoldsNoFiles):
    """The recorded moments of ``reader``, one at a time (a ``ProcessSource``)."""

    def __init__(self, reader: Reader, at: float | None = None) -> None:
        self.reader = reader
        self.index = len(reader) - 1 if at is None else reader.index_at(at)
        if self.index < 0:
            raise LookupError(f"{reader.path}: the recording holds no sample yet")
        #: the sample before the cursor's (same run), merged first for CPU%; None: none
        self.before: Snapshot | None = None
        #: PID:INODE identities of the cursor's processes
        self.inodes: dict[ProcKey, int] = {}
        self._lock = threading.Lock()
        self._cache: dict[int, tuple[Snapshot, dict[ProcKey, int]]] = {}

    @property
    def moment(self) -> Moment:
        return self.reader.moments[self.index]

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        """The snapshot recorded at the cursor (``threads``/``fields``: what was recorded)."""
        with self._lock:
            index = self.index
            snap, inodes = self._snapshot(index)
            prev = self.reader.previous(index)
            self.before = None if prev is None else self._snapshot(prev)[0]
            self.inodes = inodes
        return snap

    def _snapshot(self, index: int) -> tuple[Snapshot, dict[ProcKey, int]]:
        """A rebuilt moment, from the last few (a step rebuilds one sample, not two)."""
        hit = self._cache.pop(index, None)
        if hit is None:
            hit = self.reader.snapshot(index)
        self._cache[index] = hit
        while len(self._cache) > CACHED:
            del self._cache[next(iter(self._cache))]
        return hit

    def now(self) -> float:
        """The recorded moment's wall clock (what "now" means in a replay)."""
        return self.moment.wall

    def step(self, n: int) -> bool:
        """Move the cursor ``n`` samples (bounded); False when already at that end."""
        with self._lock:
            index = min(max(self.index + n, 0), len(self.reader) - 1)
            moved, self.index = index != self.index, index
        return moved

    def jump(self, wall: float) -> None:
        """Move the cursor to the sample at or just before ``wall``."""
        with self._lock:
            self.index = self.reader.index_at(wall)


class ReplayJournal(Journal):
    """The exits recorded up to the replay's moment (the last ``keep``), as a Journal."""

    def __init__(self, source: ReplaySource, keep: int = KEEP) -> None:
        super().__init__(keep)
        self.source = source
        self._shown_index = -1
        self._rate = 0.0
        self._load_lock = threading.Lock()

    def start(self, **_: object) -> None:  # type: ignore[override]
        self.load()
        self.started = True

    def close(self) -> None:
        pass

    def load(self) -> None:
        """Take the exits recorded up to the source's moment (call after moving it)."""
        with self._load_lock:
            self._load()

    def _load(self) -> None:
        source = self.source
        index = source.index
        if index == self._shown_index:
            return
        moment = source.reader.moments[index]
        records = source.reader.exits(until=moment.wall, last=self.keep)
        complete, note = source.reader.run_note(index)
        stats = Stats(started=0.0)
        recent = 0
        for r in records:
            if isinstance(r, ExitRecord):
                stats.exits += 1
                stats.failed += r.failed
                recent += r.time > moment.wall - 5.0
            elif isinstance(r, LostRecord):
                stats.lost_events += r.events
                stats.overflows += r.overflow
        with self.lock:
            self.records.clear()
            self.records.extend(records)
            self.total += len(records)  # all new to the Exits screen: the old ones go
            self.stats = stats
            self.complete = complete and moment.exits_complete
            self.note = note or "this stretch of the recording may lack exits"
            if complete and not moment.exits_complete:
                self.note = "exits before this sample are not all recorded (recorder start)"
            self._rate = recent / 5.0
            self.version += 1
            self._shown_index = index

    def pump(self, timeout: float, wake_fd: int | None = None) -> list[Record]:
        if self.source.index != self._shown_index:
            self.load()
        elif wake_fd is not None:
            poller = select.poll()
            poller.register(wake_fd, select.POLLIN)
            poller.poll(min(timeout, 0.25) * 1000)
        return []

    def rate(self, window: float = 5.0) -> float:
        return self._rate


class PlaybackSource(HoldsNoFiles):
    """A ``ProcessSource`` that returns the given snapshots in order (then the last again)."""

    def __init__(self, snapshots: Sequence[Snapshot]) -> None:
        self._snaps = list(snapshots)
        self._next = 0

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        snap = self._snaps[min(self._next, len(self._snaps) - 1)]
        self._next += 1
        return snap

    def now(self) -> float:
        return self._snaps[min(self._next, len(self._snaps) - 1)].wall

    def close(self) -> None:
        pass
