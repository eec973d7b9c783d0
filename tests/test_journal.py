"""The exit journal's core on the real kernel: real children, real proc-connector events.

Every process here is a real child the test forks; statuses are checked exactly. The fallback
tests *simulate* an unavailable connector (this machine's connector works): they say so.
"""

from __future__ import annotations

import errno
import faulthandler
import os
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pidtop.journal import connector as conn
from pidtop.journal.records import format_lifetime, status_text
from pidtop.journal.service import ExitRecord, Journal, LostRecord, Record, RecordFilter


@pytest.fixture
def journal() -> Iterator[Journal]:
    j = Journal(keep=100_000)
    j.start()
    assert j.complete, j.note
    yield j
    j.close()


def collect(
    j: Journal, want: Callable[[list[Record]], bool], timeout: float = 15.0
) -> list[Record]:
    """Pump at least once, then until ``want(records so far)`` holds (bounded): with
    ``lambda rs: True`` it is a drain of what is already there (a late duplicate shows)."""
    got: list[Record] = []
    deadline = time.monotonic() + timeout
    while True:
        got.extend(j.pump(0.1))
        if want(got):
            return got
        assert time.monotonic() < deadline, f"journal did not report in time ({len(got)} seen)"


def test_collect_drains_even_when_nothing_is_wanted(journal: Journal) -> None:
    """``collect(j, lambda rs: True)`` returned before any pump: the no-late-duplicate checks
    that use it read nothing. A real exit already queued must come out of it."""
    pid = fork_exit(3)
    os.waitpid(pid, 0)
    got: list[Record] = []
    deadline = time.monotonic() + 15
    while pid not in exits_of(got, {pid}):  # at most a few drains: the event is queued
        assert time.monotonic() < deadline
        got += collect(journal, lambda rs: True)
    assert exits_of(got, {pid})[pid].exit_code == 3


def exits_of(records: list[Record], pids: set[int]) -> dict[int, ExitRecord]:
    return {r.pid: r for r in records if isinstance(r, ExitRecord) and r.pid in pids}


def fork_exit(code: int) -> int:
    pid = os.fork()
    if pid == 0:
        os._exit(code)
    return pid


def test_codes_1_to_255_exact(journal: Journal) -> None:
    pids = {}
    for code in range(1, 256):
        pid = fork_exit(code)
        pids[pid] = code
        os.waitpid(pid, 0)
    got = collect(journal, lambda rs: len(exits_of(rs, set(pids))) == len(pids))
    recs = exits_of(got, set(pids))
    for pid, code in pids.items():
        r = recs[pid]
        assert (r.exit_code, r.signal, r.core_dumped) == (code, None, False), r
        assert r.failed and r.ppid == os.getpid() and r.uid == os.getuid()
        assert r.lifetime_s is not None and 0 < r.lifetime_s < 5
        assert r.cmdline is not None  # forked, not exec'd: the parent's command line
        assert r.to_dict()["exit_code"] == code and r.to_dict()["signal"] is None


def _die_by(sig: int, core: bool, cwd: Path) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            faulthandler.disable()
            if sig != signal.SIGKILL:
                signal.signal(sig, signal.SIG_DFL)
            os.chdir(cwd)
            limit = resource.RLIM_INFINITY if core else 0
            resource.setrlimit(resource.RLIMIT_CORE, (limit, limit))
            os.kill(os.getpid(), sig)
            time.sleep(5)
        finally:
            os._exit(99)
    return pid


@pytest.mark.parametrize(
    ("sig", "core"),
    [(signal.SIGKILL, False), (signal.SIGSEGV, False), (signal.SIGSEGV, True)],
    ids=["SIGKILL", "SIGSEGV-no-core", "SIGSEGV-core"],
)
def test_signals_exact(journal: Journal, tmp_path: Path, sig: int, core: bool) -> None:
    pid = _die_by(sig, core, tmp_path)
    _, raw = os.waitpid(pid, 0)
    assert os.WIFSIGNALED(raw) and os.WTERMSIG(raw) == sig
    if core:
        pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
        if pattern.startswith("|") or not os.WCOREDUMP(raw):
            pytest.skip(f"no core file written here (core_pattern {pattern!r})")
    got = collect(journal, lambda rs: pid in exits_of(rs, {pid}))
    r = exits_of(got, {pid})[pid]
    assert (r.exit_code, r.signal, r.core_dumped) == (None, sig, os.WCOREDUMP(raw))
    assert r.failed
    expected = signal.Signals(sig).name + (" core" if core else "")
    assert status_text(r) == expected
    assert r.to_dict()["exit_code"] is None and r.to_dict()["core_dumped"] is core


def test_short_lived_exec_captured_with_lifetime(journal: Journal) -> None:
    """exec'd processes living a few ms, and one living ~300 ms whose exec is certainly read.

    Each short one is spawned and reaped back to back, so the parent's monotonic span around it
    bounds its true fork-to-exit time from above; the kernel's lifetime must fall inside that span
    (not a fixed "< 10 ms", which a loaded machine breaks without the journal being wrong).
    """
    spans: dict[int, float] = {}
    for _ in range(20):
        t0 = time.monotonic()
        p = subprocess.Popen(["/bin/true"])
        p.wait()
        spans[p.pid] = time.monotonic() - t0
    long = subprocess.Popen(["sleep", "0.3"])
    got = collect(journal, lambda rs: long.poll() is not None)  # read events as they come
    pids = {*spans, long.pid}
    got += collect(journal, lambda rs: len(exits_of(got + rs, pids)) == len(pids))
    recs = exits_of(got, pids)
    for pid, span in spans.items():
        r = recs[pid]
        assert r.exit_code == 0 and not r.failed
        assert r.lifetime_s is not None and 0 < r.lifetime_s <= span, (r.lifetime_s, span)
        # best effort: either captured correctly or marked as not captured, never a guess
        assert r.cmdline in ("/bin/true", None)
        assert r.comm in ("true", None)
    r = recs[long.pid]
    assert (r.comm, r.cmdline) == ("sleep", "sleep 0.3")
    assert r.lifetime_s is not None and 0.29 < r.lifetime_s < 2


def test_threads_exiting_are_not_process_exits(journal: Journal) -> None:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            tids = []

            def run() -> None:
                tids.append(threading.get_native_id())

            for _ in range(5):
                t = threading.Thread(target=run)
                t.start()
                t.join()
            os.write(w, struct.pack("=5i", *tids))
        finally:
            os._exit(7)
    os.close(w)
    tids = set(struct.unpack("=5i", os.read(r, 20)))
    os.close(r)
    os.waitpid(pid, 0)
    got = collect(journal, lambda rs: pid in exits_of(rs, {pid}))
    assert exits_of(got, {pid})[pid].exit_code == 7
    got += collect(journal, lambda rs: True)
    assert not exits_of(got, tids), "a thread's exit was reported as a process exit"
    assert len([x for x in got if isinstance(x, ExitRecord) and x.pid == pid]) == 1


def test_memory_bounded_and_records_dropped_at_exit() -> None:
    j = Journal(keep=5)
    j.start()
    try:
        pids = set()
        for code in range(1, 21):
            pid = fork_exit(code)
            pids.add(pid)
            os.waitpid(pid, 0)
        collect(j, lambda rs: len(exits_of(rs, pids)) == len(pids))
        assert len(j.records) == 5
        assert j.stats.exits >= 20 and j.stats.failed >= 20
        assert not pids & set(j._tracker.procs), "per-process state kept after the exit"
        records, stats = j.snapshot()
        assert len(records) == 5 and stats.exits == j.stats.exits
    finally:
        j.close()


def test_lost_events_counted_exactly_on_overflow() -> None:
    """A tiny receive buffer and nobody reading: the kernel drops events (ENOBUFS). Every one
    of our children is either recorded or inside a counted loss."""
    j = Journal(keep=100_000, rcvbuf=65536)
    j.start()
    try:
        pids = set()
        for _ in range(1000):  # about 2,000 events (fork + exit), nobody reading
            pid = fork_exit(0)
            pids.add(pid)
            os.waitpid(pid, 0)
        got = collect(j, lambda rs: True)

        # A gap shows when the next event of that CPU arrives: make one exit on every CPU and
        # read, until the losses cover our missing exits (bounded; the machine's own exits
        # may overflow the small buffer too, which only adds counted losses).
        def covered() -> bool:
            lost_sum = sum(r.events for r in got if isinstance(r, LostRecord))
            return lost_sum >= len(pids) - len(exits_of(got, pids))

        for _ in range(50):
            for cpu in os.sched_getaffinity(0):
                _exit_on_cpu(cpu)
            deadline = time.monotonic() + 0.3
            while time.monotonic() < deadline:
                got += j.pump(0.05)
            if covered():
                break
        lost = [r for r in got if isinstance(r, LostRecord)]
        assert lost, "no loss reported although the buffer was far too small"
        assert any(r.overflow for r in lost)
        seen = len(exits_of(got, pids))
        assert seen < len(pids)
        assert sum(r.events for r in lost) >= len(pids) - seen  # every missing exit counted
        assert j.stats.lost_events == sum(r.events for r in lost)
        assert lost[0].to_dict()["event"] == "lost"
    finally:
        j.close()


def test_a_loss_tells_the_change_feed_to_read_everything_again() -> None:
    """A real overflow (tiny buffer, nobody reading): the UID/EXEC/COMM events in the loss
    are unknown, so the feed is told every process may have changed (``mark_all``); without a
    loss it is not."""
    from pidtop.sampling.changes import COMMAND, OWNER, ChangeFeed

    feed = ChangeFeed()
    j = Journal(keep=100_000, rcvbuf=65536, feed=feed)
    j.start()
    try:
        assert j.complete, j.note
        collect(j, lambda rs: True)
        if j.stats.lost_events + j.stats.overflows == 0:  # the machine lost nothing yet
            assert feed.drain_all() == 0
        feed.drain_all()
        before = j.stats.lost_events + j.stats.overflows  # a busy machine may have lost some
        for _ in range(1000):  # about 2,000 events, nobody reading
            os.waitpid(fork_exit(0), 0)
        deadline = time.monotonic() + 15
        while j.stats.lost_events + j.stats.overflows == before:
            assert time.monotonic() < deadline, "no loss although the buffer was far too small"
            for cpu in os.sched_getaffinity(0):  # a gap shows at the CPU's next event
                _exit_on_cpu(cpu)
            j.pump(0.1)
        assert feed.drain_all() == OWNER | COMMAND
    finally:
        j.close()


def _exit_on_cpu(cpu: int) -> int:
    pid = os.fork()
    if pid == 0:
        try:
            os.sched_setaffinity(0, {cpu})
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
    return pid


def test_parse_reports_sequence_gaps() -> None:
    def msg(seq: int, cpu: int, pid: int) -> bytes:
        body = struct.pack("=IIQ", conn.PROC_EVENT_EXIT, cpu, 123) + struct.pack(
            "=IIIIII", pid, pid, 0x300, 17, 1, 1
        )
        cn = struct.pack("=IIIIHH", 1, 1, seq, 0, len(body), 0)
        return struct.pack("=IHHII", 16 + len(cn) + len(body), 3, 0, seq, 0) + cn + body

    seqs: dict[int, int] = {}
    assert conn.parse(msg(10, 0, 5), seqs) == [conn.Exit(123, 5, 5, 0x300, 1)]
    assert conn.parse(msg(0, 1, 6), seqs)[0].pid == 6  # another CPU: its own sequence
    out = conn.parse(msg(14, 0, 7), seqs)
    assert out[0] == conn.Lost(3, False) and out[1].pid == 7


def test_parse_reads_every_kind_from_a_real_child() -> None:
    """Each field of each kind as the kernel sends it (not as a test packs it): a child forked
    by a thread (its parent's PID is not its TGID) renames itself (COMM), takes real uid 65533
    and effective 65534 when we are root (UID), execs and exits 7."""
    with conn.ProcConnector() as c:
        forked: list[tuple[int, int]] = []

        def fork() -> None:
            pid = os.fork()
            if pid == 0:
                try:
                    with open("/proc/self/comm", "w") as f:
                        f.write("jcomm")
                    if os.geteuid() == 0:
                        os.setresuid(65533, 65534, 65534)
                    os.execv("/bin/sh", ["sh", "-c", "exit 7"])
                finally:
                    os._exit(9)
            forked.append((threading.get_native_id(), pid))

        thread = threading.Thread(target=fork)
        since = time.monotonic_ns()
        thread.start()
        thread.join()
        parent_tid, pid = forked[0]
        assert parent_tid != os.getpid()
        os.waitpid(pid, 0)
        mine: list[conn.Event] = []
        deadline = time.monotonic() + 10
        while not any(type(e) is conn.Exit and e.tgid == pid for e in mine):
            assert time.monotonic() < deadline, mine
            time.sleep(0.01)
            mine += [e for e in c.read() if getattr(e, "tgid", None) == pid]
    kinds = [type(e) for e in mine]
    want = [conn.Fork, conn.Comm, conn.Uid, conn.Exec, conn.Exit]
    if os.geteuid() != 0:
        want.remove(conn.Uid)
    assert [k for k in dict.fromkeys(kinds) if k in want] == want, kinds  # first of each kind
    fork = next(e for e in mine if isinstance(e, conn.Fork))
    comm = next(e for e in mine if isinstance(e, conn.Comm))
    exe = next(e for e in mine if isinstance(e, conn.Exec))
    end = next(e for e in mine if isinstance(e, conn.Exit))
    assert fork == conn.Fork(fork.ts, os.getpid(), pid, pid)
    assert comm == conn.Comm(comm.ts, pid, pid, b"jcomm")
    assert exe == conn.Exec(exe.ts, pid, pid)
    assert end == conn.Exit(end.ts, pid, pid, 7 << 8, os.getpid())
    if os.geteuid() == 0:
        uid = next(e for e in mine if isinstance(e, conn.Uid))
        assert uid == conn.Uid(uid.ts, pid, pid, 65533, 65534)
    assert since <= fork.ts <= comm.ts <= exe.ts <= end.ts <= time.monotonic_ns()  # CLOCK_MONOTONIC


def test_parse_reads_several_messages_of_one_buffer() -> None:
    """Messages one after another in one buffer, each kind's fields in place; a message too
    short to be an event and a NOOP are skipped, the next one still read."""

    def msg(what: int, seq: int, union: bytes, mtype: int = 3) -> bytes:
        body = struct.pack("=IIQ", what, 0, 99 + seq) + union
        cn = struct.pack("=IIIIHH", 1, 1, seq, 0, len(body), 0)
        return struct.pack("=IHHII", 16 + len(cn) + len(body), mtype, 0, seq, 0) + cn + body

    buf = b"".join(
        (
            msg(conn.PROC_EVENT_COMM, 1, struct.pack("=II16s", 5, 6, b"abc")),
            msg(conn.PROC_EVENT_UID, 2, struct.pack("=IIII", 5, 6, 7, 8) + bytes(8)),
            msg(conn.PROC_EVENT_EXEC, 0, b""),  # too short for an event (no union)
            msg(conn.PROC_EVENT_EXEC, 0, bytes(24), mtype=conn.NLMSG_NOOP),
            msg(conn.PROC_EVENT_FORK, 3, struct.pack("=IIII", 1, 2, 3, 4) + bytes(8)),
            msg(conn.PROC_EVENT_EXEC, 4, struct.pack("=II", 5, 6) + bytes(16)),
            msg(conn.PROC_EVENT_EXIT, 7, struct.pack("=6I", 5, 6, 256, 17, 1, 2)),
        )
    )
    assert conn.parse(buf, {}) == [
        conn.Comm(100, 5, 6, b"abc"),
        conn.Uid(101, 5, 6, 7, 8),
        conn.Fork(102, 2, 3, 4),
        conn.Exec(103, 5, 6),
        conn.Lost(2, False),  # seq 5 and 6 never came
        conn.Exit(106, 5, 6, 256, 2),
    ]


def test_filters_and_text_forms() -> None:
    from pidtop.kernel.pidfdinfo import ExitStatus

    def rec(pid: int, raw: int, cmd: str | None) -> ExitRecord:
        st = ExitStatus.from_wait_status(raw)
        return ExitRecord(0.0, 0.0, pid, 1, 0, "x", cmd, st, 0.0042)

    ok, bad, killed = rec(1, 0, "make all"), rec(2, 0x100, "cc -c a.c"), rec(3, 0x8B, None)
    lost = LostRecord(0.0, 0.0, 4, True)
    failed = RecordFilter(failed=True)
    assert [failed(r) for r in (ok, bad, killed, lost)] == [False, True, True, True]
    import re

    assert RecordFilter(command=re.compile(r"^cc "))(bad)
    assert not RecordFilter(command=re.compile(r"^cc "))(ok)
    assert RecordFilter(text="sigsegv")(killed) and RecordFilter(ppids=frozenset({1}))(ok)
    assert status_text(killed) == "SIGSEGV core" and status_text(bad) == "exit 1"
    assert format_lifetime(0.0042) == "4.2ms" and format_lifetime(None) == "-"
    assert lost.describe() == "4 events lost (receive buffer overflow)"


# --------------------------------------------------------------------------- fallback


def test_fallback_when_connector_not_used() -> None:
    """SIMULATED unavailability (the connector works here): forced off. A process that lives
    across two listings is recorded, with its pidfd's inode; the journal says it may miss."""
    j = Journal(interval=0.1)
    j.start(use_connector=False)
    try:
        assert not j.complete and "exits between refreshes may be missed" in j.note
        p = subprocess.Popen(["sleep", "30"])
        got = collect(j, lambda rs: _listed(j, p.pid), timeout=60)
        time.sleep(0.3)
        p.terminate()
        p.wait()
        got += collect(j, lambda rs: p.pid in exits_of(got + rs, {p.pid}), timeout=30)
        r = exits_of(got, {p.pid})[p.pid]
        assert (r.exit_code, r.signal) == (None, signal.SIGTERM)
        assert r.comm == "sleep" and r.cmdline == "sleep 30" and r.ppid == os.getpid()
        assert r.inode is not None and r.lifetime_s is not None and r.lifetime_s > 0.2
    finally:
        j.close()


def _listed(j: Journal, pid: int) -> bool:
    return j._fallback is not None and pid in j._fallback._held


def test_fallback_when_connector_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIMULATED: the socket cannot be created (as under a seccomp filter or without netlink)."""

    def refuse(*a: object, **k: object) -> None:
        raise conn.ConnectorError(93, "no proc connector socket: Protocol not supported")

    monkeypatch.setattr("pidtop.journal.service.ProcConnector", refuse)
    j = Journal(interval=0.1)
    j.start()
    try:
        assert not j.complete and j.note.startswith("no proc connector socket")
        assert j.fileno() is None
    finally:
        j.close()


def test_fallback_when_connector_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIMULATED: subscribed but nothing arrives (the kernel ignores listeners outside the
    initial namespaces): the start check's own child is never reported, within the bound."""
    monkeypatch.setattr(conn.ProcConnector, "read", lambda self, limit=4096: [])
    j = Journal(interval=0.1)
    t0 = time.monotonic()
    j.start(probe_timeout=0.3)
    try:
        assert time.monotonic() - t0 < 3
        assert not j.complete and "delivers no events" in j.note
    finally:
        j.close()


# --------------------------------------------------------------------------- unprivileged


def _nobody_python() -> list[str]:
    if os.geteuid() != 0:
        pytest.skip("needs root to switch to nobody")
    for tool in ("/usr/bin/setpriv", "/bin/setpriv"):
        if os.path.exists(tool):
            break
    else:
        pytest.skip("setpriv not installed")
    python = "/usr/bin/python3"
    if not os.path.exists(python):
        pytest.skip("no system python3 for nobody")
    return [tool, "--reuid=65534", "--regid=65534", "--clear-groups", python]


_NOBODY_SCRIPT = """
import errno, json, os, signal, socket, subprocess, time
from pidtop.journal.service import Journal, ExitRecord
# what this kernel answers uid 65534, asked directly (not through pidtop)
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)
try:
    s.bind((0, 1)); bind = 0
except OSError as e:
    bind = e.errno
s.close()
j = Journal(interval=0.1); j.start(probe_timeout=1.0)
want, got = {}, {}
if j.complete:
    for code in (1, 2, 42, 255):
        pid = os.fork()
        if pid == 0: os._exit(code)
        os.waitpid(pid, 0); want[pid] = code
    pid = os.fork()
    if pid == 0: os.kill(os.getpid(), 9)
    os.waitpid(pid, 0); want[pid] = 'SIGKILL'
else:  # the fallback: a child that lives across listings, killed, is recorded exactly
    p = subprocess.Popen(['sleep', '30'])
    deadline = time.monotonic() + 20
    while p.pid not in j._fallback._held and time.monotonic() < deadline:
        j.pump(0.1)
    p.send_signal(signal.SIGTERM); p.wait(); want[p.pid] = 'SIGTERM'
for _ in range(200):
    for r in j.pump(0.1):
        if isinstance(r, ExitRecord) and r.pid in want:
            got[r.pid] = r.to_dict()
    if len(got) == len(want): break
print(json.dumps({'uid': os.getuid(), 'bind': bind, 'complete': j.complete, 'probe': j.probe,
                  'note': j.note, 'want': want, 'got': got}))
"""


def test_unprivileged_listener_does_what_this_kernel_allows() -> None:
    """As uid 65534 (setpriv; the system Python and a readable copy of pidtop, so it works from
    a 0700 clone). The kernel is asked directly whether uid 65534 may bind the connector: if it
    may, every status is exact; if it refuses (EPERM on this machine's 6.18.44), the journal must
    fall back, say so in its note (the uid and the kernel's answer), and still record a process
    it listed, exactly."""
    from procs import readable_copy

    with tempfile.TemporaryDirectory(prefix="pidtop-journal-nobody-") as tmp:
        where = readable_copy(Path(tmp))  # under /tmp, not pytest's 0700 tmp_path
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(where)}
        out = subprocess.run(
            [*_nobody_python(), "-c", _NOBODY_SCRIPT],
            capture_output=True,
            text=True,
            env=env,
            timeout=90,
            cwd=where,
        )
    assert out.returncode == 0, out.stderr
    import json

    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["uid"] == 65534
    if result["bind"] == 0:  # the kernel lets anyone listen
        assert result["complete"] and result["probe"] == "delivers", result["note"]
    else:
        assert result["bind"] in (errno.EPERM, errno.EACCES), result
        assert not result["complete"] and result["probe"].startswith("refused: ")
        assert os.strerror(result["bind"]) in result["probe"]
        assert "refused the proc connector to uid 65534" in result["note"]
        assert "exits between refreshes may be missed" in result["note"]
    got = {int(k): v for k, v in result["got"].items()}
    assert len(got) == len(result["want"]) > 0
    for pid, want in result["want"].items():
        r = got[int(pid)]
        assert r["uid"] == 65534
        if want == "SIGKILL":
            assert (r["exit_code"], r["signal"]) == (None, 9)
        elif want == "SIGTERM":
            assert (r["exit_code"], r["signal"]) == (None, signal.SIGTERM)
            assert r["lifetime_resolution_s"] == pytest.approx(0.01)
        else:
            assert (r["exit_code"], r["signal"]) == (want, None)
            assert r["lifetime_resolution_s"] is None


def test_journal_reader_thread_delivers_and_stops() -> None:
    from pidtop.journal.service import JournalReader

    j = Journal()
    j.start()
    seen: list[Record] = []
    done = threading.Event()
    pid = fork_exit(5)

    def on_records(records: list[Record]) -> None:
        seen.extend(records)
        if pid in exits_of(seen, {pid}):
            done.set()

    reader = JournalReader(j, on_records)
    reader.start()
    try:
        os.waitpid(pid, 0)
        assert done.wait(10)
    finally:
        t0 = time.monotonic()
        reader.stop()
        assert time.monotonic() - t0 < 2
        j.close()
    assert exits_of(seen, {pid})[pid].exit_code == 5


def test_exec_from_a_thread_is_not_an_exit(journal: Journal) -> None:
    """execve from a non-leader thread: the kernel kills the old leader (an exit event with
    pid == tgid), then the thread takes the PID. That is not the process's exit: only the
    real one (exit 4 of the exec'd shell) is recorded."""
    code = (
        "import os, threading, time\n"
        "def run():\n"
        "    os.execv('/bin/sh', ['sh', '-c', 'sleep 0.3; exit 4'])\n"
        "threading.Thread(target=run).start()\n"
        "time.sleep(5)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", code])
    got = collect(journal, lambda rs: p.poll() is not None)
    assert p.wait() == 4
    got += collect(journal, lambda rs: p.pid in exits_of(got + rs, {p.pid}))
    got += journal.pump(0.2)
    mine = [r for r in got if isinstance(r, ExitRecord) and r.pid == p.pid]
    assert len(mine) == 1, mine
    assert (mine[0].exit_code, mine[0].signal, mine[0].comm) == (4, None, "sh")


def test_inode_from_a_held_pidfd(journal: Journal) -> None:
    """The monitor tells the journal the pidfs inode of the processes it holds (its pins):
    a real pidfd's inode ends up in the record; other records keep null."""
    pid = os.fork()
    if pid == 0:
        time.sleep(0.2)
        os._exit(0)
    fd = os.pidfd_open(pid)
    inode = os.fstat(fd).st_ino
    journal.inode_of = {pid: inode}.get
    other = fork_exit(0)
    os.waitpid(other, 0)
    os.waitpid(pid, 0)
    os.close(fd)
    got = collect(journal, lambda rs: len(exits_of(rs, {pid, other})) == 2)
    recs = exits_of(got, {pid, other})
    assert recs[pid].inode == inode and recs[pid].to_dict()["inode"] == inode
    assert recs[other].inode is None


def test_coredump_field_unknown_for_a_real_sigsegv_child(journal: Journal, tmp_path: Path) -> None:
    """A real child killed by SIGSEGV while pidtop holds a pidfd for it (as a pin, through
    the same hook the monitor sets): ``coredump`` is in the JSON and is "unknown" here,
    because this kernel is < 6.19 (no PIDFD_INFO_SUPPORTED_MASK, so PIDFD_INFO_COREDUMP,
    which 6.18 echoes for any dumpable process, is not trusted). Other ends give null."""
    from procs import KERNEL

    from pidtop.kernel.handle import ProcessHandle

    if KERNEL >= (6, 19):
        pytest.skip("kernel >= 6.19 answers PIDFD_INFO_COREDUMP: not 'unknown' there")
    go_r, go_w = os.pipe()
    crashed = os.fork()
    if crashed == 0:  # crashes once pidtop holds its pidfd
        os.close(go_w)
        os.read(go_r, 1)
        faulthandler.disable()
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        signal.signal(signal.SIGSEGV, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGSEGV)
        os._exit(99)
    os.close(go_r)
    held = ProcessHandle.open(crashed)
    os.close(go_w)
    asked: list[int] = []

    def coredump_of(pid: int) -> str:
        asked.append(pid)
        return held.coredump() if pid == crashed else "unknown"

    journal.coredump_of = coredump_of
    killed, clean = _die_by(signal.SIGKILL, False, tmp_path), fork_exit(0)
    try:
        for pid in (crashed, killed, clean):
            os.waitpid(pid, 0)
        got = collect(journal, lambda rs: len(exits_of(rs, {crashed, killed, clean})) == 3)
    finally:
        held.close()
    recs = exits_of(got, {crashed, killed, clean})
    assert recs[crashed].signal == signal.SIGSEGV and asked == [crashed]
    assert recs[crashed].to_dict()["coredump"] == "unknown"
    assert '"coredump": "unknown"' in recs[crashed].to_json()
    assert recs[killed].to_dict()["coredump"] is None  # SIGKILL does not dump core
    assert recs[clean].to_dict()["coredump"] is None and "coredump" in recs[clean].to_dict()


def test_coredump_words_in_the_detail_line() -> None:
    """The Exits screen's detail line says what is known about the core, for crashes only."""
    from pidtop.journal.records import describe
    from pidtop.kernel.pidfdinfo import ExitStatus

    def rec(status: ExitStatus, fact: str = "unknown") -> ExitRecord:
        return ExitRecord(0.0, 0.0, 42, 1, 0, "x", "x", status, 0.5, coredump_fact=fact)

    segv = ExitStatus(True, signal=signal.SIGSEGV)
    assert "; core: unknown" in describe(rec(segv))
    assert "; core dumped (written)" in describe(rec(segv, "written"))
    assert "; core dump skipped" in describe(rec(segv, "skipped"))
    assert "core" not in describe(rec(ExitStatus(True, signal=signal.SIGKILL)))
    assert "core" not in describe(rec(ExitStatus(True, code=0)))
    assert rec(ExitStatus.unknown("gone"), "written").to_dict()["coredump"] is None


def test_change_feed_marks_owner_and_command_while_the_connector_runs() -> None:
    """The event spine: a real child that drops to uid 65534 (needs root) and execs is marked
    OWNER and COMMAND; ``live`` is True only while the connector runs."""
    from pidtop.sampling.changes import COMMAND, OWNER, ChangeFeed

    if os.geteuid() != 0:
        pytest.skip("needs root to change a child's uid")
    feed = ChangeFeed()
    j = Journal(feed=feed)
    assert j.feed is feed and not feed.live
    j.start()
    try:
        assert j.complete and feed.live
        pid = os.fork()
        if pid == 0:
            try:
                os.setresuid(65534, 65534, 65534)
                os.execv("/bin/true", ["true"])
            finally:
                os._exit(9)
        os.waitpid(pid, 0)
        marks: dict[int, int] = {}
        deadline = time.monotonic() + 10
        while marks.get(pid, 0) != OWNER | COMMAND:
            assert time.monotonic() < deadline, marks.get(pid)
            j.pump(0.1)
            for k, v in feed.drain().items():
                marks[k] = marks.get(k, 0) | v
    finally:
        j.close()
    assert not feed.live


def test_change_feed_not_live_in_fallback() -> None:
    from pidtop.sampling.changes import ChangeFeed

    feed = ChangeFeed()
    j = Journal(feed=feed, interval=0.1)
    j.start(use_connector=False)
    try:
        assert not feed.live and j.probe == "not used"
    finally:
        j.close()


def test_reader_out_of_fds_degrades_with_a_message() -> None:
    """Every fd taken (as under ``ulimit -n 8``): creating and starting the reader does not
    raise; the journal stops with a message saying why, and stop() still returns."""
    script = (
        "import os, resource, time\n"
        "from pidtop.journal.service import Journal, JournalReader\n"
        "resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))\n"
        "held = []\n"
        "try:\n"
        "    while True: held.append(os.open('/dev/null', os.O_RDONLY))\n"
        "except OSError: pass\n"
        "j = Journal(); r = JournalReader(j, start={}); r.start()\n"
        "deadline = time.monotonic() + 10\n"
        "while not (j.error or (j.started and j.complete)) and time.monotonic() < deadline:\n"
        "    time.sleep(0.05)\n"
        "t0 = time.monotonic(); r.stop(); took = time.monotonic() - t0\n"
        "print(repr(j.error), took < 3)\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "'out of file descriptors (raise ulimit -n)' True", out


def _exec_later(delay: float, argv: list[str]) -> int:
    """A child that waits ``delay`` s after its fork, then execs ``argv``."""
    pid = os.fork()
    if pid == 0:
        try:
            time.sleep(delay)
            os.execv(argv[0], argv)
        finally:
            os._exit(127)
    return pid


def test_an_exec_within_a_batch_is_read_at_once(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch gathers events for 0.5 s and the timed reads are off (CAPTURE_EVERY longer than
    the batch): only the EXEC socket can wake the reader for the child's exec, 50 ms into the
    batch that its FORK started. The child lives 100 ms after it: its command line is read
    only if that happens at once (at the batch's end it is a zombie with none)."""
    _named_within_a_half_second_batch(journal, monkeypatch)


def test_a_silent_exec_socket_is_given_up(journal: Journal) -> None:
    """A kernel before 6.6 ignores the filter and sends such a socket nothing: SIMULATED with
    a socket filtered to COMM events only. After a few EXECs seen on the main socket alone it
    is closed, and the timed reads name processes again."""
    from pidtop.journal import service

    journal._close_exec_sock()
    journal._exec_sock = conn.ProcConnector(65536, events=conn.PROC_EVENT_COMM)
    for _ in range(service.EXEC_SILENT_AFTER + 2):
        subprocess.run(["/bin/true"], check=True)
    collect(journal, lambda rs: journal._exec_sock is None, timeout=15)
    pid = _exec_later(0.05, ["/bin/sleep", "0.2"])
    got = collect(journal, lambda rs: pid in exits_of(rs, {pid}))
    os.waitpid(pid, 0)
    assert exits_of(got, {pid})[pid].cmdline == "/bin/sleep 0.2"


def test_the_main_socket_is_read_within_a_batch(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A batch gathers for 0.5 s and the EXEC socket delivers nothing (SIMULATED: filtered to
    COMM events, never given up here; the timed reads are off): the child's EXEC, 50 ms into
    the batch, is read from the main socket within ``READ_EVERY``, while the child lives
    (100 ms), so its command line is known. Read only at the batch's end, it would be a
    zombie with none (and a zombie's name is read at its EXIT the same way)."""
    from pidtop.journal import service

    monkeypatch.setattr(service, "EXEC_SILENT_AFTER", 10**9)
    journal._close_exec_sock()
    journal._exec_sock = conn.ProcConnector(65536, events=conn.PROC_EVENT_COMM)
    _named_within_a_half_second_batch(journal, monkeypatch)


def _named_within_a_half_second_batch(journal: Journal, monkeypatch: pytest.MonkeyPatch) -> None:
    """Batches of 0.5 s, the timed reads off: a child exec'd 50 ms into a batch and living
    100 ms is recorded with its name and command line (read while it lived)."""
    from pidtop.journal import service

    monkeypatch.setattr(service, "CAPTURE_EVERY", 10.0)
    journal.batch = 0.5
    collect(journal, lambda rs: True)
    pid = _exec_later(0.05, ["/bin/sleep", "0.1"])
    got = collect(journal, lambda rs: pid in exits_of(rs, {pid}))
    os.waitpid(pid, 0)
    r = exits_of(got, {pid})[pid]
    assert (r.comm, r.cmdline, r.exit_code) == ("sleep", "/bin/sleep 0.1", 0)


@pytest.mark.parametrize("names_known", [True, False], ids=["names-known", "reads-of-use"])
def test_the_main_socket_is_read_at_once_only_while_that_is_of_use(
    journal: Journal, monkeypatch: pytest.MonkeyPatch, names_known: bool
) -> None:
    """Within a 0.5 s batch, with an EXEC socket that delivers: when the main socket's read
    needs no /proc read (a forked child's name is its parent's), it is read again only at the
    batch's end (each timed read is a wake-up: ~50 of them at READ_EVERY), and the exit is
    recorded with its status and name. When the reads ARE of use (SIMULATED: every read of
    the main socket counts as one that read /proc, as for a zombie whose name is not known),
    the timed reads go on all batch."""
    assert journal._exec_sock is not None
    subprocess.run(["/bin/true"], check=True)
    collect(journal, lambda rs: journal._exec_delivered is journal._exec_sock)
    if not names_known:
        tracker, capture = journal._tracker, journal._tracker.capture

        def reads_proc(events: list[conn.Event]) -> None:
            capture(events)
            tracker.proc_reads += 1

        monkeypatch.setattr(tracker, "capture", reads_proc)
    journal.batch = 0.5
    reads = 0
    read = journal._read

    def counted() -> list[conn.Event]:
        nonlocal reads
        reads += 1
        return read()

    monkeypatch.setattr(journal, "_read", counted)
    journal._busy = False  # idle before it: the batch starts at the child's first event
    pid = fork_exit(7)
    os.waitpid(pid, 0)
    got = collect(journal, lambda rs: pid in exits_of(rs, {pid}))
    r = exits_of(got, {pid})[pid]
    assert r.exit_code == 7 and r.comm is not None
    if names_known:
        assert reads <= 4, reads  # the wake-up's read, the batch's end (a pump or two)
    else:
        assert reads >= 10, reads  # every READ_EVERY (0.01 s) of the 0.5 s batch


def test_the_exec_socket_is_known_to_deliver_from_linux_6_6() -> None:
    """Kernel releases that filter a connector socket's events (6.6 on); anything else waits
    for the EXEC socket's first EXEC before the main socket's timed reads may stop."""
    from pidtop.journal.service import _kernel_filters_events

    assert [_kernel_filters_events(r) for r in ("6.6.0", "6.18.44-fc", "7.0-rc1")] == [True] * 3
    assert not any(_kernel_filters_events(r) for r in ("6.5.13", "5.15.0-91-generic", "6", "x"))


def test_under_churn_a_batch_is_gathered_without_waiting_for_its_first_event(
    journal: Journal, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Children exit every ~10 ms for ~1 s: after the first batch, each next one is gathered
    at once (the last had events), so the wait on the main socket (a wake-up for the batch's
    first event) is made once, not once a batch; every exit is still recorded, with its
    status. Counted on the real poller (wrapped, not replaced)."""
    collect(journal, lambda rs: True)
    journal._busy = False
    polls = 0

    class Counted:
        def __init__(self, poller: object) -> None:
            self.poller = poller

        def poll(self, ms: float) -> list[tuple[int, int]]:
            nonlocal polls
            polls += 1
            return self.poller.poll(ms)  # type: ignore[attr-defined, no-any-return]

    journal.pump(0)  # the main poller exists
    monkeypatch.setattr(journal, "_poller", Counted(journal._poller))
    stop = threading.Event()
    pids: list[int] = []

    def churn() -> None:
        while not stop.is_set():
            pid = fork_exit(len(pids) % 200)
            pids.append(pid)
            os.waitpid(pid, 0)
            time.sleep(0.01)

    thread = threading.Thread(target=churn)
    thread.start()
    got: list[Record] = []
    try:
        deadline = time.monotonic() + 1.0
        batches = 0
        while time.monotonic() < deadline:
            got += journal.pump(0.5)
            batches += 1
    finally:
        stop.set()
        thread.join()
    got += collect(journal, lambda rs: set(pids) <= set(exits_of(got + rs, set(pids))))
    assert batches >= 5, batches
    assert polls <= 2, (polls, batches)  # the first batch's wait (and one after a stall)
    mine = exits_of(got, set(pids))
    assert [mine[p].exit_code for p in pids] == [i % 200 for i in range(len(pids))]


def test_read_decodes_fork_exec_and_exit_itself(monkeypatch: pytest.MonkeyPatch) -> None:
    """A datagram of one FORK, EXEC or EXIT (nearly every event under churn) is decoded by
    ``read`` in one unpack, not handed to ``parse`` (a call and a second unpack per event: half
    the reader's cost per event). Real children fork, exec /bin/true and exit; each of their
    events comes out right, and ``parse`` (wrapped, still doing the work) sees none of them."""
    handed: list[int] = []
    parse = conn.parse

    def counted(data: bytes, *args: object) -> list[conn.Event]:
        handed.append(struct.unpack_from("=I", data, 36)[0])
        return parse(data, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(conn, "parse", counted)
    with conn.ProcConnector() as c:
        pids = []
        for _ in range(5):
            pid = os.fork()
            if pid == 0:
                try:
                    os.execv("/bin/true", ["true"])
                finally:
                    os._exit(9)
            pids.append(pid)
            os.waitpid(pid, 0)
        mine: list[conn.Event] = []
        deadline = time.monotonic() + 10
        while {e.tgid for e in mine if type(e) is conn.Exit} != set(pids):
            assert time.monotonic() < deadline, mine
            time.sleep(0.01)
            mine += [e for e in c.read() if getattr(e, "tgid", None) in pids]
    for pid in pids:
        kinds = [type(e) for e in mine if e.tgid == pid]  # type: ignore[union-attr]
        assert kinds == [conn.Fork, conn.Exec, conn.Exit], kinds
    ends = [e for e in mine if type(e) is conn.Exit]
    assert all(e.status == 0 and e.parent_tgid == os.getpid() for e in ends), ends
    common = {conn.PROC_EVENT_FORK, conn.PROC_EVENT_EXEC, conn.PROC_EVENT_EXIT}
    assert not common & set(handed), handed
