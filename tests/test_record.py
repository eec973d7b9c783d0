"""``pidtop record`` and what reads its store: real recordings of real processes.

The recorder runs in a thread (``Recorder.run``) or, where its death or its lock is the point,
as ``pidtop record`` in a subprocess. Processes with known exit codes are started during the
recording; the store must hold each exit with its status and each live process with its
identity. What the proc connector allows depends on the user and the kernel: the tests read
what the recorder found (``runs.exits_complete``) and check the store says the same.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from procs import pid_namespace_unavailable, pidtop_cmd, pidtop_env, run_in_pid_namespace

from pidtop.demo.source import ScriptedSource
from pidtop.journal.records import ExitRecord
from pidtop.record import store
from pidtop.record.reader import Reader
from pidtop.record.recorder import Recorder, RecordOptions
from pidtop.record.replay import ReplaySource
from pidtop.record.times import parse_age, parse_size, parse_time
from pidtop.record.writer import Writer
from pidtop.sampling.table import ProcessTable

BOUND = 20.0  # seconds any wait here may take on a loaded machine


def wait_for(cond: Callable[[], bool], what: str, bound: float = BOUND) -> None:
    deadline = time.monotonic() + bound
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened within {bound} s: {what}")
        time.sleep(0.02)


class Running:
    """A recorder in a thread."""

    def __init__(self, path: Path, interval: float = 0.3, **kw: object) -> None:
        self.lines: list[str] = []
        self.rec = Recorder(RecordOptions(path, interval=interval, **kw), self.lines.append)  # type: ignore[arg-type]
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            self.rec.run()
        except BaseException as e:
            self.error = e

    def samples(self, n: int) -> None:
        """Wait until ``n`` more samples are written."""
        target = self.rec.samples_written + n
        wait_for(lambda: self.rec.samples_written >= target or self.error is not None, "samples")
        assert self.error is None, self.error

    def stop(self) -> None:
        self.rec.stop.set()
        self.thread.join(BOUND)
        assert not self.thread.is_alive()
        assert self.error is None, self.error


def samples_in(path: Path) -> int:
    """The samples in the store at ``path`` (0 while it is not there or still empty)."""
    try:
        reader = Reader(path)
    except store.StoreError:
        return 0
    try:
        return len(reader)
    finally:
        reader.close()


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "state" / "history.db"


# --------------------------------------------------------------------------- times


def test_times_as_users_type_them() -> None:
    import datetime as dt

    now = dt.datetime(2026, 12, 6, 10, 0, 0).astimezone().timestamp()
    at = lambda text: dt.datetime.fromtimestamp(parse_time(text, now))  # noqa: E731
    assert at("03:12") == dt.datetime(2026, 12, 6, 3, 12)
    assert at("23:50") == dt.datetime(2026, 12, 5, 23, 50)  # still to come today: last night
    assert at("-30m") == dt.datetime(2026, 12, 6, 9, 30)
    assert at("2h ago") == dt.datetime(2026, 12, 6, 8, 0)
    assert at("yesterday 14:00") == dt.datetime(2026, 12, 5, 14, 0)
    assert at("2026-12-06 03:12:10") == dt.datetime(2026, 12, 6, 3, 12, 10)
    assert at("2026-12-06T03:12") == dt.datetime(2026, 12, 6, 3, 12)
    assert parse_time("now", now) == now
    for bad in ("25:00", "tomorrow", "-x", "yesterday 3pm", ""):
        with pytest.raises(ValueError, match=r"TIME is ISO|no such time"):
            parse_time(bad, now)
    assert parse_age("7d") == 7 * 86400 and parse_age("90s") == 90
    assert parse_size("1G") == 1 << 30 and parse_size("500M") == 500 << 20
    for bad in ("0", "-1d", "7 days", "1X"):
        with pytest.raises(ValueError):
            parse_age(bad) if "d" in bad or bad == "0" else parse_size(bad)


# --------------------------------------------------------------------------- real recordings


def test_a_recording_holds_real_exits_and_live_identities(db: Path) -> None:
    running = Running(db, interval=0.3)
    sleeper = subprocess.Popen(["sleep", "60"])
    try:
        running.samples(2)
        codes = {}
        for code in (0, 3, 42):
            p = subprocess.Popen(["sh", "-c", f"exit {code}"])
            p.wait()
            codes[p.pid] = code
        killed = subprocess.Popen(["sleep", "60"])
        killed.send_signal(signal.SIGTERM)
        killed.wait()
        running.samples(3)  # the exits are written at the latest with the next samples
        sleeper_inode = os.fstat(fd := os.pidfd_open(sleeper.pid)).st_ino
        os.close(fd)
    finally:
        running.stop()
        sleeper.kill()
        sleeper.wait()
    assert oct(db.stat().st_mode & 0o777) == oct(store.file_mode())
    reader = Reader(db)
    complete, note = reader.run_note(len(reader) - 1)
    exits = {r.pid: r for r in reader.exits() if isinstance(r, ExitRecord)}
    if complete:  # the connector delivered: every exit, even of a process that lived 1 ms
        for pid, code in codes.items():
            assert exits[pid].exit_code == code, exits.get(pid)
        assert exits[killed.pid].signal == signal.SIGTERM
        assert all(m.exits_complete for m in reader.moments[1:])
    else:  # refused (unprivileged on this kernel): said, and remembered by every sample
        assert "exits between samples are missing" in note
        assert any("exits between samples are missing" in line for line in running.lines)
        assert not any(m.exits_complete for m in reader.moments)
    snap, inodes = reader.snapshot(len(reader) - 1)
    [row] = [p for p in snap.processes if p.pid == sleeper.pid]
    assert row.cmdline == "sleep 60"
    assert inodes[row.key] == sleeper_inode  # PID:INODE, as `pidtop id` prints it


def test_only_changes_are_stored(db: Path) -> None:
    """A process that did not run between two samples adds no row."""
    running = Running(db, interval=0.3)
    try:
        running.samples(6)
    finally:
        running.stop()
    reader = Reader(db)
    n_procs = len(reader.snapshot(len(reader) - 1)[0].processes)
    states = reader.db.execute("SELECT COUNT(*) FROM states").fetchone()[0]
    # the first sample stores every process; the five after it far fewer than every process each
    assert n_procs <= states < n_procs + 5 * n_procs * 0.6, (states, n_procs)


def test_snapshot_at_and_journal_since_print_the_recording(db: Path) -> None:
    running = Running(db, interval=0.3)
    try:
        running.samples(2)
        p = subprocess.Popen(["sh", "-c", "exit 7"])
        p.wait()
        running.samples(2)
    finally:
        running.stop()
    reader = Reader(db)
    env = pidtop_env()
    snap = subprocess.run(
        pidtop_cmd("snapshot", "--at", "now", "--db", str(db), "--json", "-n", "1"),
        capture_output=True, text=True, env=env, timeout=BOUND,
    )  # fmt: skip
    assert snap.returncode == 0, snap.stderr
    doc = json.loads(snap.stdout)
    assert doc["time"] == round(reader.moments[-1].wall, 3)
    ours = [r for r in doc["processes"] if r["id_status"] == "exact"]
    assert ours and all(r["id"] == f"{r['pid']}:{r['inode']}" for r in ours)
    out = subprocess.run(
        pidtop_cmd("journal", "--since", "-1h", "--db", str(db), "--json"),
        capture_output=True, text=True, env=env, timeout=BOUND,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    if reader.run_note(0)[0]:
        [mine] = [
            json.loads(line) for line in out.stdout.splitlines() if f'"pid": {p.pid},' in line
        ]
        assert mine["exit_code"] == 7  # (its name too, when the journal caught it alive)
    else:
        assert "may be missing" in out.stderr
    bad = subprocess.run(
        pidtop_cmd("snapshot", "--at", "25:99", "--db", str(db)),
        capture_output=True, text=True, env=env, timeout=BOUND,
    )  # fmt: skip
    assert bad.returncode == 2 and "no such time" in bad.stderr


_why_ns = pid_namespace_unavailable()


@pytest.mark.skipif(bool(_why_ns), reason=str(_why_ns))
def test_a_reused_pid_stays_two_processes_in_replay_and_snapshot_at() -> None:
    """In a private PID namespace, A and then B get PID 500 during one recording."""
    r = run_in_pid_namespace("""
import json, os, signal, subprocess, sys, time
from pathlib import Path
import procs
from pidtop.record.recorder import Recorder, RecordOptions
import threading
db = Path("h.db").resolve()
rec = Recorder(RecordOptions(db, interval=0.3, use_connector=False), lambda s: None)
t = threading.Thread(target=rec.run, daemon=True); t.start()
def samples(n):
    target = rec.samples_written + n
    deadline = time.monotonic() + 20
    while rec.samples_written < target and time.monotonic() < deadline:
        time.sleep(0.02)
samples(2)
a = procs.fork_at_pid(500, procs.sleep_forever)
samples(2)
os.kill(a, signal.SIGKILL); os.waitpid(a, 0)
b = procs.fork_at_pid(500, procs.sleep_forever)
samples(2)
rec.stop.set(); t.join(20)
from pidtop.record.reader import Reader
reader = Reader(db)
seen = []
for i in range(len(reader)):
    snap, inodes = reader.snapshot(i)
    for p in snap.processes:
        if p.pid == 500:
            seen.append([i, p.starttime, inodes.get(p.key)])
def at(i):
    import datetime
    when = datetime.datetime.fromtimestamp(reader.moments[i].wall).isoformat()
    out = subprocess.run([sys.executable, "-m", "pidtop", "snapshot", "--at", when, "--db",
                          str(db), "--json", "-p", "500"], capture_output=True, text=True)
    return [(r["id"], r["start_ticks"]) for r in json.loads(out.stdout)["processes"]]
first = seen[0][0]; last = seen[-1][0]
print(json.dumps(dict(seen=seen, first=at(first), last=at(last))))
""")
    seen = r["seen"]
    idents = {(s[1], s[2]) for s in seen}  # type: ignore[union-attr]
    assert len(idents) == 2, seen  # two processes, each with its own start time and inode
    assert r["first"] != r["last"]
    assert len(r["first"]) == 1 and len(r["last"]) == 1  # type: ignore[arg-type]


def test_the_replay_table_keeps_a_reused_pid_two_rows(tmp_path: Path) -> None:
    """Where the recording moves from A to B (same PID), replay's table shows A gone, B new."""
    src = ScriptedSource()
    path = tmp_path / "h.db"
    w = Writer(store.connect(path, write=True))
    snap = src.sample()
    w.begin_run(snap, pid=1, host="h", boot_id="b", interval=1.5, exits_complete=True, note="")
    w.write_sample(snap, exits_complete=True)
    src.spawn(4242, 1, "a", "a --first")
    w.write_sample(src.sample(), exits_complete=True)
    src.exit(4242)
    src.sample()
    src.spawn(4242, 1, "b", "b --second")
    w.write_sample(src.sample(), exits_complete=True)
    replay = ReplaySource(Reader(path))
    cur = replay.sample()
    assert replay.before is not None
    table = ProcessTable()
    table.update(replay.before)
    table.update(cur)
    rows = [r for r in table.all_rows() if r.info.pid == 4242]
    assert {(r.info.comm, r.status) for r in rows} == {("a", "dying"), ("b", "new")}


# --------------------------------------------------------------------------- robustness


def test_sigkill_at_any_moment_leaves_a_store_that_opens(db: Path) -> None:
    env = pidtop_env()
    for round_ in range(3):
        before = len(Reader(db)) if db.exists() else 0
        proc = subprocess.Popen(
            pidtop_cmd("record", "--interval", "0.5", "--db", str(db)),
            stderr=subprocess.PIPE, env=env,
        )  # fmt: skip
        want = before + 2 + round_
        wait_for(lambda: samples_in(db) >= want, "samples")  # noqa: B023 (called here)
        proc.kill()  # mid-sample or between: the moment is whatever it is
        proc.wait(BOUND)
        reader = Reader(db)
        assert reader.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert len(reader) >= want
        reader.snapshot(len(reader) - 1)  # the last sample is whole
    runs = Reader(db).db.execute("SELECT COUNT(*) FROM runs").fetchone()[0]
    assert runs == 3  # each restart took the lock the killed one held


def test_two_recorders_on_one_store_refuse(db: Path) -> None:
    running = Running(db)
    try:
        running.samples(1)
        second = subprocess.run(
            pidtop_cmd("record", "--db", str(db)),
            capture_output=True, text=True, env=pidtop_env(), timeout=BOUND,
        )  # fmt: skip
    finally:
        running.stop()
    assert second.returncode == 1
    assert "one recorder per store" in second.stderr and str(os.getpid()) in second.stderr


def test_a_full_disk_stops_recording_and_keeps_the_store(db: Path) -> None:
    """The file size limit (RLIMIT_FSIZE) makes the store's writes fail as a full disk does
    (SQLite sees EFBIG where a full disk gives ENOSPC: both refuse the write)."""
    import resource

    env = pidtop_env()
    first = Running(db)  # some samples first, at a size the limit will allow
    first.samples(2)
    first.stop()
    size = db.stat().st_size
    wal = Path(str(db) + "-wal")
    if wal.exists():
        size = max(size, wal.stat().st_size)
    limit = size + 64 * 1024

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    proc = subprocess.run(
        pidtop_cmd("record", "--interval", "0.5", "--db", str(db), "--keep", "0",
                   "--max-size", "0"),
        capture_output=True, text=True, env=env, timeout=60, preexec_fn=cap,
    )  # fmt: skip
    assert proc.returncode == 1, proc.stderr
    assert "recording stopped; what was recorded before is kept" in proc.stderr
    reader = Reader(db)
    assert reader.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert len(reader) >= 2


def test_retention_drops_the_oldest_and_keeps_what_is_left_whole(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    src = ScriptedSource()
    w = Writer(store.connect(path, write=True))
    snap = src.sample()
    w.begin_run(snap, pid=1, host="h", boot_id="b", interval=3600, exits_complete=True, note="")
    base = snap.wall
    for hour in range(72):  # three days, one sample an hour (wall times set by hand)
        s = src.sample()
        if hour == 10:
            src.spawn(4000, 1, "short", "short --lived")
        if hour == 20:
            src.exit(4000)
        w.write_sample(_at(s, base + hour * 3600), exits_complete=True)
    reader = Reader(path)
    keep_from = reader.index_at(base + 48 * 3600)
    expected = reader.snapshot(keep_from)[0].processes
    dropped = w.retain(keep=24 * 3600, max_bytes=None, now=base + 72 * 3600)
    assert dropped == 48
    reader = Reader(path)
    assert reader.moments[0].wall == base + 48 * 3600
    assert reader.snapshot(0)[0].processes == expected  # still rebuilt exactly
    gone = reader.db.execute("SELECT COUNT(*) FROM procs WHERE pid=4000").fetchone()[0]
    assert gone == 0  # lived and ended before the cut
    # by size: shrink until under the limit, oldest first
    used = w.used_bytes()
    limit = used - 4 * 4096  # (the schema's own pages stay: a store is never empty)
    w.retain(keep=None, max_bytes=limit, now=base + 72 * 3600)
    assert w.used_bytes() <= limit
    reader = Reader(path)
    assert reader.moments[-1].wall == base + 71 * 3600 and len(reader) < 24


def _at(snap, wall: float):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(snap, wall=wall)


def test_an_older_or_newer_or_foreign_store_says_why(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    store.connect(path, write=True).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value='0' WHERE key='schema_version'")
    db.commit()
    with pytest.raises(store.StoreError, match="schema version 0 is too old"):
        Reader(path)
    db.execute("UPDATE meta SET value='99' WHERE key='schema_version'")
    db.commit()
    with pytest.raises(store.StoreError, match="recorded by a newer pidtop"):
        Reader(path)
    db.close()
    other = tmp_path / "other.db"
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.commit()
    with pytest.raises(store.StoreError, match="not a pidtop recording"):
        Reader(other)
    (tmp_path / "text.db").write_text("hello")
    with pytest.raises(store.StoreError, match="not a pidtop recording"):
        Reader(tmp_path / "text.db")
    with pytest.raises(store.StoreError, match="no recording at"):
        Reader(tmp_path / "none.db")


def test_the_store_mode_follows_hidepid(tmp_path: Path) -> None:
    info = tmp_path / "mountinfo"
    line = "22 1 0:21 / /proc rw,nosuid - proc proc rw,{}\n"
    info.write_text(line.format("relatime"))
    assert not store.hidepid(str(info))
    info.write_text(line.format("hidepid=invisible"))
    assert store.hidepid(str(info))
    info.write_text(line.format("hidepid=0"))
    assert not store.hidepid(str(info))


def test_the_store_never_holds_environments_or_open_files(db: Path) -> None:
    marker = f"PIDTOP_SECRET_{os.getpid()}"
    env = dict(os.environ, SECRET_FOR_TEST=marker)
    sleeper = subprocess.Popen(["sleep", "60"], env=env)
    running = Running(db)
    try:
        running.samples(2)
    finally:
        running.stop()
        sleeper.kill()
        sleeper.wait()
    for name in (db, Path(str(db) + "-wal")):
        if name.exists():
            assert marker.encode() not in name.read_bytes()
    columns = {
        row[1]
        for table in ("procs", "states", "exits")
        for row in sqlite3.connect(db).execute(f"PRAGMA table_info({table})")
    }
    assert not {c for c in columns if "env" in c or "fd" in c or "file" in c}


if sys.platform != "linux":  # pragma: no cover
    pytestmark = pytest.mark.skip(reason="Linux only")


_PROBE_CONNECTOR = """
import socket
s = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 11)  # NETLINK_CONNECTOR
try:
    s.bind((0, 1)); print(0)  # CN_IDX_PROC
except OSError as e:
    print(e.errno)
"""


def test_record_as_an_unprivileged_user_does_what_this_kernel_allows() -> None:
    """``pidtop record`` as uid 65534 (setpriv; the system Python and a readable copy of
    pidtop, so it works from a 0700 clone), 1 s interval, while a short process exits. The
    kernel is asked first whether uid 65534 may bind the proc connector. Refused (EPERM on
    this machine): the store opens, holds samples, its run says exits between samples are
    missing, every period is incomplete and ``journal --since/--until`` warns. Allowed: every
    period after the first is complete, the exit is there and nothing is warned."""
    import datetime as dt
    import tempfile

    from procs import NOBODY, as_another_user

    if os.geteuid() != 0:
        pytest.skip("needs root to switch to uid 65534")
    with (
        as_another_user() as (python, env),
        tempfile.TemporaryDirectory(prefix="pidtop-record-nobody-") as tmp,
    ):
        where = Path(tmp)
        where.chmod(0o777)  # uid 65534 creates the store here
        db = where / "history.db"
        bind = int(
            subprocess.run(
                [*NOBODY, python, "-c", _PROBE_CONNECTOR],
                capture_output=True, text=True, env=env, cwd=where, timeout=BOUND, check=True,
            ).stdout
        )  # fmt: skip
        nobody = [*NOBODY, python, "-m", "pidtop"]
        rec = subprocess.Popen(
            [*nobody, "record", "--db", str(db), "--interval", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=where,
        )  # fmt: skip
        try:
            wait_for(lambda: samples_in(db) >= 2 or rec.poll() is not None, "two samples")
            short = subprocess.Popen(["sh", "-c", "exit 5"])
            short.wait()
            wait_for(lambda: samples_in(db) >= 4 or rec.poll() is not None, "four samples")
        finally:
            rec.send_signal(signal.SIGTERM)
            _, err = rec.communicate(timeout=BOUND)
        assert rec.returncode == 0, err
        reader = Reader(db)
        assert len(reader) >= 4
        snap, _ = reader.snapshot(len(reader) - 1)
        assert any(p.pid == os.getpid() for p in snap.processes)  # the table was sampled
        complete, note = reader.run_note(len(reader) - 1)
        iso = lambda w: dt.datetime.fromtimestamp(w).isoformat()  # noqa: E731
        window = ("--since", iso(reader.moments[1].wall), "--until", iso(reader.moments[-1].wall))
        journal = subprocess.run(
            [*nobody, "journal", "--db", str(db), "--json", *window],
            capture_output=True, text=True, env=env, cwd=where, timeout=BOUND,
        )  # fmt: skip
    assert journal.returncode == 0, journal.stderr
    exits = {r.pid: r for r in reader.exits() if isinstance(r, ExitRecord)}
    if bind == 0:  # the kernel lets anyone listen: the complete path
        assert complete, note
        assert note == "every exit recorded (proc connector)"
        assert all(m.exits_complete for m in reader.moments[1:])
        assert exits[short.pid].exit_code == 5
        assert "may be missing" not in journal.stderr
    else:
        assert bind in (errno.EPERM, errno.EACCES), bind
        assert not complete
        assert "exits between samples are missing" in note, note
        assert "refused the proc connector to uid 65534" in note, note
        assert "exits between samples are missing" in err  # said to the user, too
        assert not any(m.exits_complete for m in reader.moments)
        [warning] = [line for line in journal.stderr.splitlines() if "may be missing" in line]
        assert "warning: exits from" in warning, journal.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="setresuid to another user needs root")
def test_the_recorder_samples_with_the_monitors_event_spine(db: Path) -> None:
    """The recorder's sampler and journal share a ChangeFeed, as the monitor's do: a process
    that drops root between samples is stored with its new owner at the next sample. Where the
    connector delivers, the journal's UID event marked it and the sampler drained the mark (so
    it does not stat() every process every pass); where it is refused, the owner is read every
    pass. Either way the stored owner is the kernel's."""
    from test_sample_current import Chatty, _tell

    from pidtop.sampling.changes import ChangeFeed

    class Watched(ChangeFeed):
        """The feed, remembering which PIDs the sampler drained."""

        def __init__(self) -> None:
            super().__init__()
            self.drained: set[int] = set()

        def drain(self) -> dict[int, int]:
            changed = super().drain()
            self.drained.update(changed)
            return changed

    from pidtop.journal.connector import ConnectorError, ProcConnector

    try:  # what this kernel allows this user, asked first
        ProcConnector().close()
        live = True
    except ConnectorError:
        live = False
    rec = Recorder(RecordOptions(db, interval=0.3), lambda line: None)
    feed = rec.feed = Watched()
    thread = threading.Thread(target=rec.run, daemon=True)
    child = Chatty("import os", "os.setresuid(65534, 65534, 65534); return 'DONE'")
    thread.start()

    def stored_uid() -> int | None:
        reader = Reader(db)
        try:
            snap, _ = reader.snapshot(len(reader) - 1)
        finally:
            reader.close()
        return next(p.uid for p in snap.processes if p.pid == child.pid)

    try:
        wait_for(lambda: rec.samples_written >= 2, "two samples")
        if live:  # the kernel gives this user the connector: the feed must come live
            wait_for(lambda: feed.live, "the journal's connector marking the feed")
        assert stored_uid() == 0
        assert _tell(child, "go") == "DONE"
        if live:  # the UID event reached the sampler through the feed
            wait_for(lambda: child.pid in feed.drained, "the UID mark drained")
        n = rec.samples_written
        wait_for(lambda: rec.samples_written >= n + 1, "the next sample")
        assert stored_uid() == 65534
    finally:
        rec.stop.set()
        thread.join(BOUND)
        child.finish()
    assert not thread.is_alive()
    if live:
        assert child.pid in feed.drained


def test_a_gap_that_runs_to_the_end_is_one_stretch() -> None:
    """Unrecorded exits up to the last sample and past it (``--until`` a hair after it: the
    time printed and parsed back) are one stretch, said once (it was two, one of them 0.1 µs:
    ``pidtop journal`` warned twice, seen under load)."""
    from types import SimpleNamespace

    moments = [SimpleNamespace(wall=w, exits_complete=False) for w in (100.0, 101.0, 102.0)]
    fake = SimpleNamespace(moments=moments)
    assert Reader.gaps(fake, 101.0, 102.0000001) == [(101.0, 102.0000001)]  # type: ignore[arg-type]
    assert Reader.gaps(fake, 101.0, 102.0) == [(101.0, 102.0)]  # type: ignore[arg-type]
    moments[2].exits_complete = True  # complete up to the last sample: only after it
    assert Reader.gaps(fake, 101.5, 103.0) == [(102.0, 103.0)]  # type: ignore[arg-type]
