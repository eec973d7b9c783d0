"""The exit journal: every process that exits on the machine, with its exact exit status.

One implementation for ``pidtop journal`` and the monitor's Exits screen (no Textual here).

One thing: read the kernel's process events (or the fallback's) into bounded records, in one
thread, at the least CPU that still names short processes (an EXEC wakes it, nothing else does
within a batch).

With the proc connector (:mod:`pidtop.journal.connector`) every exit is seen, even of a process
that lived 1 ms; :mod:`pidtop.journal.tracker` turns the events into records
(:mod:`pidtop.journal.records`).

Lost events (kernel sequence gaps, socket overflow) are counted exactly and become
:class:`LostRecord` entries in the stream. Memory is bounded: the last ``keep`` records.

Where the connector does not deliver (containers' namespaces, kernels < 6.6 without
CAP_NET_ADMIN, sandboxes), :class:`Journal` falls back to pidfds on the processes listed every
``interval`` seconds (:mod:`pidtop.journal.fallback`) and says that exits between two
listings may be missed (``complete`` is False, ``note`` says why).
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import select
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from pidtop.journal.connector import (
    PROC_EVENT_EXEC,
    RCVBUF,
    Comm,
    ConnectorError,
    Event,
    Exec,
    Lost,
    ProcConnector,
    Uid,
)
from pidtop.journal.records import (
    ExitRecord,
    LostRecord,
    Record,
    RecordFilter,
    format_lifetime,
    status_text,
)
from pidtop.journal.tracker import Tracker
from pidtop.sampling.changes import COMMAND, OWNER

if TYPE_CHECKING:
    from pidtop.journal.fallback import PidfdFallback
    from pidtop.kernel.fdbudget import FdBudget
    from pidtop.sampling.changes import ChangeFeed

__all__ = [
    "KEEP",
    "ExitRecord",
    "Journal",
    "JournalReader",
    "LostRecord",
    "Record",
    "RecordFilter",
    "Stats",
    "format_lifetime",
    "status_text",
]

#: records kept in memory by default (the stream has them all)
KEEP = 10_000
#: seconds :meth:`Journal.pump` lets events gather after a wake-up (latency vs CPU). An EXEC
#: still wakes it at once for the name; the monitor shows exits at its refresh anyway. Measured
#: with ~200 exits a second: the reader thread's CPU 3.7 % at 0.01 s, 2.5 % at 0.1 s with the
#: main socket read every READ_EVERY (and the monitor's loop told ~10 times a second, not ~60)
BATCH = 0.1
#: within a batch the main socket is still read this often (an empty read costs one syscall),
#: so that a leader EXIT's zombie is read for its name before its parent reaps it. Only while
#: those reads are of use (see :meth:`Journal._gather`): each wake-up costs ~50-60 µs of CPU
#: on the 2-core dev VM, and 10 a batch were most of the reader's cost under churn
READ_EVERY = 0.01
#: while events gather, the socket is read this often, so that an EXEC's /proc read happens
#: at once (a process living 5 ms is still there) rather than at the end of the batch; only
#: without the EXEC socket (see :meth:`Journal.pump`)
CAPTURE_EVERY = 0.001
#: receive buffer of the socket that gets only EXECs (it is read within a batch)
EXEC_RCVBUF = 1 << 20
#: EXECs seen by the main socket while the EXEC socket delivered none: it is silent (a kernel
#: before 6.6 ignores the filter and sends it nothing), so it is closed
EXEC_SILENT_AFTER = 8
#: how long the start check waits for the exit of pidtop's own probe child
PROBE_TIMEOUT = 2.0
_FAILED_TEXT = "exits between refreshes may be missed"


def _kernel_filters_events(release: str | None = None) -> bool:
    """Whether this kernel (6.6 and later) filters a connector socket's events, so that the
    EXEC socket delivers (an older one sends it nothing; a backport is found by its first EXEC)."""
    m = re.match(r"(\d+)\.(\d+)", release or os.uname().release)
    return m is not None and (int(m[1]), int(m[2])) >= (6, 6)


# --------------------------------------------------------------------------- the journal


@dataclass
class Stats:
    """Counters since the journal started (all of them, not only the ``keep`` in memory)."""

    exits: int = 0
    failed: int = 0
    lost_events: int = 0
    overflows: int = 0
    started: float = field(default_factory=time.monotonic)


Listener = Callable[[list[Record]], None]


class Journal:
    """Every exit on the machine (or, in fallback, of the processes listed), newest last.

    :meth:`start` subscribes and checks delivery; :meth:`pump` waits for and processes events
    (call it from one thread: the CLI's main thread or :class:`JournalReader`). ``records``
    (the last ``keep``) and ``stats`` may be read from another thread under ``lock``.
    """

    def __init__(
        self,
        keep: int = KEEP,
        *,
        interval: float = 1.0,
        rcvbuf: int = RCVBUF,
        feed: ChangeFeed | None = None,
        budget: FdBudget | None = None,
    ) -> None:
        """``feed``: marked with what the connector saw change (the sampler's event spine);
        ``budget``: the monitor's fd budget, from which the fallback takes its pidfds (holder
        ``"journal"``, after the pins; None: ``pidtop journal``'s own)."""
        if keep < 1:
            raise ValueError("keep must be at least 1")
        self.keep = keep
        self.records: deque[Record] = deque(maxlen=keep)
        self.stats = Stats()
        self.lock = threading.Lock()
        self.listeners: list[Listener] = []
        self.complete = False  # every exit on the machine is seen (connector delivers)
        self.note = ""  # why not, when not
        self.interval = interval
        self.rcvbuf = rcvbuf
        self._connector: ProcConnector | None = None
        #: a second subscription that gets only EXECs (kernel-filtered): it wakes the reader
        #: for an EXEC's /proc read at once, while other events wait for the batch's end
        self._exec_sock: ProcConnector | None = None
        self._execs_main = 0  # EXECs read from the main socket, and from the EXEC socket:
        self._execs_own = 0  # both only until the EXEC socket is known to deliver
        #: the EXEC socket that delivered an EXEC (the one open now, or a replaced one)
        self._exec_delivered: ProcConnector | None = None
        #: the last read of the main socket read /proc (an EXEC not read yet, a zombie's name)
        self._main_read_useful = True
        self._tracker = Tracker()
        self._fallback: PidfdFallback | None = None
        #: pidfs inode of a PID pidtop holds a pidfd for (the monitor's pins); called from the
        #: reading thread, so it must only read plain data
        self.inode_of: Callable[[int], int | None] | None = None
        #: ``written``/``skipped``/``unknown`` for a crashed PID pidtop holds a pidfd for
        #: (the pins; :meth:`ProcessHandle.coredump`); same thread rules as ``inode_of``
        self.coredump_of: Callable[[int], str] | None = None
        self._rates: deque[tuple[float, int]] = deque(maxlen=64)
        #: seconds to let events gather after a wake-up (see :meth:`pump`)
        self.batch = BATCH
        self._poller: select.poll | None = None
        self._poll_wake: int | None = None
        #: the last batch had events: the next is gathered at once (see :meth:`pump`)
        self._busy = False
        self.version = 0  # bumped (under ``lock``) whenever records or counters change
        self.total = 0  # records ever appended (``total - len(records)`` were let go)
        self.started = False  # start() has finished (complete/note are meaningful)
        self.error = ""  # why the reading stopped, if it did
        #: marked with every UID (owner), EXEC and COMM (command) event while the connector
        #: runs; ``feed.live`` is True exactly then (the sampler's event spine)
        self.feed = feed
        #: what the kernel answered when the journal subscribed: "" before start, "delivers",
        #: "refused: <reason>", "silent" (no events: a container's namespaces), "not used"
        self.probe = ""
        self.budget = budget
        self._note_base = ""  # the note before the fallback's fd shortage is added
        self._overflows = 0  # the connector's ENOBUFS count when the tracker was last told

    # -- start / stop

    def start(self, *, use_connector: bool = True, probe_timeout: float = PROBE_TIMEOUT) -> None:
        """Subscribe to the connector and check that it delivers; else start the fallback.

        ``use_connector`` False forces the fallback (tests; ``--no-connector``).
        """
        self.stats = Stats()
        try:
            self._start(use_connector, probe_timeout)
        finally:
            self.started = True
            if self.feed is not None:
                self.feed.live = self._connector is not None

    def _start(self, use_connector: bool, probe_timeout: float) -> None:
        if use_connector:
            try:
                self._connector = ProcConnector(self.rcvbuf)
            except ConnectorError as e:
                why = os.strerror(e.errno) if e.errno else str(e.strerror)
                self.probe = f"refused: {why}"
                self.note = f"{e.strerror}: {_FAILED_TEXT}"
                if e.errno in (errno.EPERM, errno.EACCES):
                    self.note = (
                        f"this kernel refused the proc connector to uid {os.geteuid()} "
                        f"({why}): {_FAILED_TEXT}"
                    )
            else:
                self._tracker.scan()
                if self._probe(probe_timeout):
                    self.probe = "delivers"
                    self.complete = True
                    with contextlib.suppress(ConnectorError):
                        self._exec_sock = ProcConnector(EXEC_RCVBUF, events=PROC_EVENT_EXEC)
                        if _kernel_filters_events():  # it delivers: no EXEC to wait for
                            self._exec_delivered = self._exec_sock
                    return
                self.probe = "silent"
                self._connector.close()
                self._connector = None
                self._tracker = Tracker()
                self.note = (
                    "the proc connector delivers no events here (a container's namespaces?): "
                    + _FAILED_TEXT
                )
        else:
            self.probe = "not used"
            self.note = "proc connector not used: " + _FAILED_TEXT
        from pidtop.journal.fallback import PidfdFallback

        self._fallback = PidfdFallback(self.interval, self.budget)
        self._note_base = self.note

    def _probe(self, timeout: float) -> bool:
        """Fork a child that exits at once; wait (bounded) for events: its EXIT, or any other.
        Events read meanwhile are kept; the probe's own exit is not reported."""
        assert self._connector is not None
        try:
            pid = os.fork()
        except OSError:
            return False
        if pid == 0:
            os._exit(0)
        # not reported, if its exit arrives within 10 s (after that the PID is someone else's)
        self._tracker.ignore[pid] = time.monotonic_ns() + 10_000_000_000
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
        deadline = time.monotonic() + timeout
        poller = select.poll()
        poller.register(self._connector.fileno(), select.POLLIN)
        seen = False
        while not seen:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            poller.poll(left * 1000)
            events = self._read()
            # Our child's exit proves delivery; so does any event at all, or an overflow (on a
            # busy machine the probe's own event may be among those lost): outside the initial
            # namespaces the kernel sends nothing whatsoever.
            seen = bool(events) or self._connector.overflows > 0
            self._accept(self._tracker.feed(events))
        return seen

    def close(self) -> None:
        if self.feed is not None:
            self.feed.live = False
        if self._connector is not None:
            self._connector.close()
            self._connector = None
        if self._exec_sock is not None:
            self._exec_sock.close()
            self._exec_sock = None
        if self._fallback is not None:
            self._fallback.close()
            self._fallback = None

    def fileno(self) -> int | None:
        """The connector's socket (None in fallback: poll with a timeout)."""
        return self._connector.fileno() if self._connector is not None else None

    # -- the work

    def pump(self, timeout: float, wake_fd: int | None = None) -> list[Record]:
        """Wait up to ``timeout`` s for events (or ``wake_fd`` readable), process them, store
        and return the new records (listeners are called with them).

        Once events are there, it waits ``batch`` seconds more (unless ``wake_fd`` is ready) so
        that a busy machine costs one wake-up per batch rather than one per event: at 1,000
        exits/s that halves pidtop's CPU. The socket buffer holds far more than that. Meanwhile
        an EXEC wakes it (the EXEC socket), for the new program's name and command line, read
        at once, and the main socket is read every :data:`READ_EVERY` s while that is of use
        (a zombie's name: :meth:`_next_main_read`);
        without the EXEC socket it reads everything every :data:`CAPTURE_EVERY` s. The
        records are made and handed on once per batch. After a batch that had events the next
        one is gathered at once, without waiting on the main socket for its first event: under
        churn that is one wake-up a batch instead of two (10 % of the reader's CPU at 200
        exits/s); a batch with no events goes back to the wait (idle: no timed wake-ups).
        """
        if self._connector is not None:
            poller = self._poller
            if poller is None or self._poll_wake != wake_fd:
                poller = self._poller = select.poll()
                poller.register(self._connector.fileno(), select.POLLIN)
                if wake_fd is not None:
                    poller.register(wake_fd, select.POLLIN)
                self._poll_wake = wake_fd
            tracker = self._tracker
            due = tracker.next_due()
            wait = timeout if due is None else min(timeout, due)
            if self._busy and self.batch > 0 and timeout > 0 and self._exec_sock is not None:
                # the last batch had events: gather the next at once, not woken by its first
                # event (one wake-up a batch under churn, not two; idle: back to the poll)
                events = self._gather(time.monotonic() + min(self.batch, wait), wake_fd)
                events += self._read()
            else:
                events = self._wait(poller, wait, timeout, wake_fd)
            self._busy = bool(events)
            records = tracker.feed(events)
            if tracker.check():  # pending exits proven by /proc: one more read, then decide
                records += tracker.feed(self._read())
        elif self._fallback is not None:
            fallback = self._fallback
            records = fallback.pump(timeout, wake_fd)
            note = self._note_base
            if fallback.skipped or fallback.given_back:
                note += (
                    f"; fd budget full: {fallback.skipped} processes not watched, "
                    f"{fallback.given_back} let go for pins"
                )
            if note != self.note:
                with self.lock:
                    self.note = note
                    self.version += 1
        else:
            raise RuntimeError("Journal.pump before start()")
        self._accept(records)
        return records

    def _wait(
        self, poller: select.poll, wait: float, timeout: float, wake_fd: int | None
    ) -> list[Event]:
        """Up to ``wait`` s for a first event; then the batch's events (see :meth:`pump`)."""
        ready: list[tuple[int, int]] = []
        with contextlib.suppress(InterruptedError):
            ready = poller.poll(max(0.0, wait) * 1000)
        if ready:
            self._read_execs()
        events = self._read()
        woken = any(fd == wake_fd for fd, _ in ready)
        if ready and self.batch > 0 and timeout > 0 and not woken:
            end = time.monotonic() + self.batch
            if self._exec_sock is not None:
                events += self._gather(end, wake_fd)  # woken by EXECs
            else:  # read everything every CAPTURE_EVERY s (EXEC names at once)
                while (left := end - time.monotonic()) > 0:
                    time.sleep(min(CAPTURE_EVERY, left))
                    events += self._read()
            events += self._read()
        return events

    def _gather(self, end: float, wake_fd: int | None) -> list[Event]:
        """Until ``end`` (monotonic s): at each EXEC, read its process's /proc entry at once;
        every :data:`READ_EVERY` s, the main socket (returned: its leader EXITs read)."""
        assert self._exec_sock is not None
        poller = select.poll()
        poller.register(self._exec_sock.fileno(), select.POLLIN)
        if wake_fd is not None:
            poller.register(wake_fd, select.POLLIN)
        events: list[Event] = []
        next_read = self._next_main_read()
        while (now := time.monotonic()) < end:
            ready: list[tuple[int, int]] = []
            with contextlib.suppress(InterruptedError):
                ready = poller.poll(max(0.0, min(end, next_read) - now) * 1000)
            if any(fd == wake_fd for fd, _ in ready):
                break
            if ready:
                self._read_execs()
                if self._exec_sock is None:
                    break
            if time.monotonic() >= next_read:
                events += self._read()
                next_read = self._next_main_read()
        return events

    def _next_main_read(self) -> float:
        """When :meth:`_gather` reads the main socket next: in :data:`READ_EVERY` s while its
        reads are of use (the last one read /proc: an EXEC the EXEC socket had not brought, a
        zombie's name), or while the EXEC socket is not known to deliver (a kernel before 6.6
        ignores its filter and sends it nothing: the main socket is then the only way to an
        EXEC in time);
        otherwise only at the batch's end (the EXEC socket wakes it for every EXEC, and a name
        is known for nearly every exit: the first that is not is read at the end, the next ones
        at once again)."""
        if self._main_read_useful or self._exec_delivered is not self._exec_sock:
            return time.monotonic() + READ_EVERY
        return float("inf")

    def _read_execs(self) -> None:
        """The EXEC socket's events, their /proc entries read now (the tracker keeps them for
        the same EXECs when the main socket brings them)."""
        sock = self._exec_sock
        if sock is None:
            return
        try:
            execs = [e for e in sock.read() if type(e) is Exec]
        except OSError:  # it only speeds up name reads: the main socket has every event
            self._close_exec_sock()
            return
        if execs:
            self._execs_own += len(execs)
            self._exec_delivered = sock
            self._tracker.capture(execs)

    def _close_exec_sock(self) -> None:
        if self._exec_sock is not None:
            self._exec_sock.close()
            self._exec_sock = None

    def _read(self) -> list[Event]:
        """What the socket holds now; EXECs and leader EXITs read from /proc at once; the
        change feed marked."""
        assert self._connector is not None
        try:
            events = self._connector.read()
        except OSError as e:
            if e.errno == errno.EINTR:
                return []
            raise
        if events:
            made = self._tracker.proc_reads
            self._tracker.capture(events)
            self._main_read_useful = self._tracker.proc_reads != made
            if self._exec_sock is not None and not self._execs_own:
                self._execs_main += sum(1 for ev in events if type(ev) is Exec)
                if self._execs_main >= EXEC_SILENT_AFTER:  # the kernel ignored the filter
                    self._close_exec_sock()
            feed = self.feed
            if feed is not None:
                for ev in events:
                    if type(ev) is Uid:
                        feed.mark(ev.tgid, OWNER)
                    elif type(ev) is Exec or type(ev) is Comm:
                        feed.mark(ev.tgid, COMMAND)
                    elif type(ev) is Lost:  # an owner or command change may be in them
                        feed.mark_all()
        if self._connector.overflows != self._overflows:
            self._overflows = self._connector.overflows  # ENOBUFS: events dropped
            self._tracker.distrust()
            if self.feed is not None:
                self.feed.mark_all()
        return events

    def _accept(self, records: list[Record]) -> None:
        if not records:
            self._mark_rate()
            return
        inode_of = self.inode_of
        if inode_of is not None:
            for i, r in enumerate(records):
                if type(r) is ExitRecord and r.inode is None:
                    inode = inode_of(r.pid)
                    if inode is not None:
                        records[i] = replace(r, inode=inode)
        coredump_of = self.coredump_of
        if coredump_of is not None:
            for i, r in enumerate(records):
                if type(r) is ExitRecord and r.crashed and r.coredump_fact == "unknown":
                    fact = coredump_of(r.pid)
                    if fact != "unknown":
                        records[i] = replace(r, coredump_fact=fact)
        with self.lock:
            self.records.extend(records)
            self.total += len(records)
            self.version += 1
            stats = self.stats
            for r in records:
                if type(r) is ExitRecord:
                    stats.exits += 1
                    if r.failed:
                        stats.failed += 1
                else:
                    stats.lost_events += r.events  # type: ignore[union-attr]
                    stats.overflows += r.overflow  # type: ignore[union-attr]
            self._mark_rate()
        for listener in tuple(self.listeners):
            listener(records)

    def _mark_rate(self) -> None:
        now = time.monotonic()
        if not self._rates or now - self._rates[-1][0] >= 0.25:
            self._rates.append((now, self.stats.exits))

    def rate(self, window: float = 5.0) -> float:
        """Exits per second over about the last ``window`` seconds."""
        with self.lock:
            points = list(self._rates)
            total = self.stats.exits
        if not points:
            return 0.0
        now = time.monotonic()
        then, count = points[0]
        for t, c in points:
            if now - t <= window:
                then, count = t, c
                break
        span = now - then
        return (total - count) / span if span > 0.2 else 0.0

    def snapshot(self) -> tuple[list[Record], Stats]:
        """A copy of the records in memory (oldest first) and of the counters."""
        with self.lock:
            s = self.stats
            copy = Stats(s.exits, s.failed, s.lost_events, s.overflows, s.started)
            return list(self.records), copy


def _why(e: BaseException) -> str:
    """Why the reading stopped, in words (out of file descriptors is said plainly)."""
    if isinstance(e, OSError) and e.errno in (errno.EMFILE, errno.ENFILE):
        return "out of file descriptors (raise ulimit -n)"
    return f"{type(e).__name__}: {e}"


class JournalReader:
    """Runs :meth:`Journal.pump` in a daemon thread; ``on_records`` is called from it.

    With ``start`` the thread first runs :meth:`Journal.start` (its start check forks a child
    and waits up to 2 s: never on a UI loop), with ``start`` as keyword arguments.
    """

    def __init__(
        self,
        journal: Journal,
        on_records: Listener | None = None,
        *,
        start: dict[str, object] | None = None,
    ) -> None:
        self.journal = journal
        self._on_records = on_records
        self._start_args = start
        self._stop = threading.Event()
        self._wake_r: int | None = None
        self._wake_w: int | None = None
        # out of fds (ulimit -n): no wake-up pipe; stop() then waits for the pump's timeout
        with contextlib.suppress(OSError):
            self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="pidtop-journal", daemon=True)
        self.error: BaseException | None = None

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        try:
            if self._start_args is not None:
                self.journal.start(**self._start_args)  # type: ignore[arg-type]
            while not self._stop.is_set():
                records = self.journal.pump(0.5, self._wake_r)
                if records and self._on_records is not None:
                    self._on_records(records)
        except Exception as e:  # reported by the owner (the screen shows it)
            self.error = e
            self.journal.error = _why(e)
            if self.journal.feed is not None:
                self.journal.feed.live = False
            with self.journal.lock:
                self.journal.version += 1

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._wake_w is not None:
            with contextlib.suppress(OSError):
                os.write(self._wake_w, b"x")
        if self._thread.is_alive():
            self._thread.join(timeout)
        for fd in (self._wake_r, self._wake_w):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._wake_r = self._wake_w = None
