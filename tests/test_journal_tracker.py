"""The journal's decisions, fed with recorded event orders (deterministic, no kernel needed).

Each order below is one the kernel produces (``shared/PIDFD-FACTS.md`` §13): events arrive per
CPU in order, across CPUs in any order, and a read boundary can fall anywhere. The tracker runs
with ``read_proc=False`` (decisions from events alone) and a fake clock, except the suspend test,
which reads a real child's /proc entry.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from typing import Any

import pytest

from pidtop.journal import tracker as tracker_mod
from pidtop.journal.connector import Comm, Event, Exec, Exit, Fork, Lost
from pidtop.journal.records import ExitRecord, Record
from pidtop.journal.tracker import Tracker
from pidtop.kernel.identity import CLK_TCK

T, U, PARENT = 4242, 4243, 1000
MS = 1_000_000


class Clock:
    def __init__(self) -> None:
        self.ns = 10_000 * MS

    def __call__(self) -> int:
        return self.ns


def run(batches: list[list[Event]], step_ns: int = MS) -> list[ExitRecord]:
    """Feed each batch as one read, ``step_ns`` apart, then let any pending exit's bound pass."""
    t = Tracker(read_proc=False)
    clock = Clock()
    t.clock = clock
    out: list[Record] = []
    for batch in batches:
        out += t.feed(batch)
        clock.ns += step_ns
    clock.ns += 10**9  # well past any bound: what is pending now is recorded
    out += t.feed([])
    return [r for r in out if isinstance(r, ExitRecord)]


def code(r: ExitRecord) -> int | None:
    return r.exit_code


def test_exit_before_exec_in_separate_reads_is_not_an_exit() -> None:
    """A thread's execve: the old leader's EXIT (status 0) is read, the EXEC only in the next
    read. Only the real end (exit 4) is recorded."""
    recs = run(
        [
            [Fork(100, PARENT, T, T), Fork(120, T, U, T)],  # the thread that will exec
            [Exit(200, T, T, 0, PARENT)],
            [Exec(250, T, T), Comm(260, T, T, b"sh")],
            [Exit(900, T, T, 4 << 8, PARENT)],
        ]
    )
    assert [(r.pid, code(r), r.comm) for r in recs] == [(T, 4, "sh")]
    assert recs[0].lifetime_s == pytest.approx(800e-9)


@pytest.mark.parametrize("split", [False, True], ids=["one-read", "separate-reads"])
def test_exec_arriving_before_the_old_leaders_exit(split: bool) -> None:
    """Swapped arrival (the EXEC from one CPU is read before the EXIT from the other): the
    EXIT's earlier timestamp says it is the old leader's."""
    first: list[Event] = [Fork(100, PARENT, T, T), Exec(250, T, T)]
    then: list[Event] = [Exit(200, T, T, 0, PARENT)]
    batches = [first, then] if split else [first + then]
    recs = run([*batches, [Exit(900, T, T, 4 << 8, PARENT)]])
    assert [(r.pid, code(r)) for r in recs] == [(T, 4)]


def test_leader_exits_first_and_the_group_ends_later() -> None:
    """pthread_exit from the leader (EXIT pid == tgid, status 0), then another thread's
    exit_group(3): one record, code 3, at the group's last exit."""
    recs = run(
        [
            [Fork(100, PARENT, T, T)],
            [Fork(150, T, U, T)],  # a thread
            [Exit(300, T, T, 0, PARENT)],
            [Exit(500, U, T, 3 << 8, PARENT)],
        ]
    )
    assert [(r.pid, code(r)) for r in recs] == [(T, 3)]
    assert recs[0].monotonic == pytest.approx(500e-9)
    assert recs[0].lifetime_s == pytest.approx(400e-9)


def test_pid_reused_before_the_old_exit_arrives() -> None:
    """An autoreaped process's PID is taken by a new fork before its EXIT is read: the EXIT,
    older than the new fork, is the previous holder's, with its name and lifetime; the new
    holder keeps its own for its own exit."""
    recs = run(
        [
            [Fork(100, PARENT, T, T), Comm(110, T, T, b"old")],
            [Fork(1000, 77, T, T), Comm(1010, T, T, b"new")],
            [Exit(900, T, T, 1 << 8, PARENT)],
            [Exit(2000, T, T, 2 << 8, 77)],
        ]
    )
    got = [(r.pid, code(r), r.comm, r.ppid, r.lifetime_s) for r in recs]
    assert got == [(T, 1, "old", PARENT, 800e-9), (T, 2, "new", 77, 1000e-9)]


def test_a_fork_reusing_a_pending_pid_ends_the_old_process_at_once() -> None:
    t = Tracker(read_proc=False)
    t.clock = Clock()
    thread = Fork(150, T, U, T)  # a live thread: the leader's exit is not the end yet
    assert t.feed([Fork(100, PARENT, T, T), thread, Exit(200, T, T, 5 << 8, PARENT)]) == []
    recs = t.feed([Fork(300, 77, T, T)])  # no wait: the PID is someone else's now
    assert [(r.pid, r.exit_code) for r in recs if isinstance(r, ExitRecord)] == [(T, 5)]


def test_a_pending_exit_is_recorded_within_its_bound() -> None:
    """Nothing cancels it: recorded once PENDING_WAIT_NS has passed (the stated bound)."""
    t = Tracker(read_proc=False)
    clock = Clock()
    t.clock = clock
    thread = Fork(150, T, U, T)  # a live thread: the leader's exit is not the end yet
    assert t.feed([Fork(100, PARENT, T, T), thread, Exit(200, T, T, 7 << 8, PARENT)]) == []
    wait = t.next_due()
    assert wait is not None and 0 < wait <= tracker_mod.PENDING_WAIT_NS / 1e9
    clock.ns += tracker_mod.PENDING_WAIT_NS
    assert [r.exit_code for r in t.feed([]) if isinstance(r, ExitRecord)] == [7]


def test_name_from_before_an_exec_is_never_kept() -> None:
    """Forked from python, exec'd, gone before anything could be read: no name rather than
    the parent's."""
    recs = run(
        [
            [Fork(50, PARENT, U, U), Comm(60, U, U, b"python3")],
            [Fork(100, U, T, T), Exec(150, T, T), Exit(400, T, T, 0, U)],
        ]
    )
    assert [(r.pid, r.comm, r.cmdline) for r in recs] == [(T, None, None)]


def test_a_jump_in_the_clock_offset_is_followed(monkeypatch: pytest.MonkeyPatch) -> None:
    """SIMULATED suspend (this machine cannot be suspended in a test): BOOTTIME - MONOTONIC
    grows by 5 s after the tracker started. A real child's exec is then still matched to its
    fork (start times agree only with the new offset), so its name and command line are read."""
    real = tracker_mod._boot_offset_ns
    calls = [0]

    def offset() -> int:  # the first reading is from "before the suspend"
        calls[0] += 1
        return real() - (5_000_000_000 if calls[0] == 1 else 0)

    monkeypatch.setattr(tracker_mod, "_boot_offset_ns", offset)
    t = Tracker()
    p = subprocess.Popen(["sleep", "30"])
    try:
        deadline = time.monotonic() + 10
        while True:  # until the exec is done (its arguments are set after its comm)
            with open(f"/proc/{p.pid}/cmdline", "rb") as f:
                done = f.read() == b"sleep\x0030\x00"
            with open(f"/proc/{p.pid}/stat", "rb") as f:
                stat = f.read()
            if done or time.monotonic() > deadline:
                break
            time.sleep(0.01)
        ticks = int(stat.rpartition(b")")[2].split()[19])
        fork_ns = ticks * 1_000_000_000 // CLK_TCK - real() + 1_000_000_000 // CLK_TCK // 2
        t.feed([Fork(fork_ns, os.getpid(), p.pid, p.pid), Exec(fork_ns + 1000, p.pid, p.pid)])
        proc = t.procs[p.pid]
        assert (proc.comm, proc.cmdline) == ("sleep", "sleep 30")
    finally:
        p.kill()
        p.wait()


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every /proc read the tracker makes, as ``PID/name`` (the reads fail: no such PIDs)."""
    reads: list[str] = []

    def read(pid: int, name: str, size: int = 0) -> bytes:
        reads.append(f"{pid}/{name}")
        raise FileNotFoundError(name)

    monkeypatch.setattr(tracker_mod, "read_proc", read)
    return reads


def _named_parent(t: Tracker) -> None:
    t.procs[PARENT] = tracker_mod._Proc(1, None, 5, 0, "gen", "gen 200")


def test_a_single_threaded_exit_is_recorded_at_once_without_reading_proc(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Forked from a named parent, no thread, exited: its own batch records it (no pending
    wait, no /proc check), named after its parent, and nothing in /proc is read."""
    reads = _counting_reads(monkeypatch)
    t = Tracker()
    _named_parent(t)
    batch: list[Event] = [Fork(100, PARENT, T, T), Exit(300, T, T, 3 << 8, PARENT)]
    t.capture(batch)
    recs = [r for r in t.feed(batch) if isinstance(r, ExitRecord)]
    assert [(r.pid, r.exit_code, r.comm, r.cmdline) for r in recs] == [(T, 3, "gen", "gen 200")]
    assert not t.pending and not t.check()
    assert reads == []


def test_an_exit_after_lost_events_waits_for_proof(monkeypatch: pytest.MonkeyPatch) -> None:
    """After a socket overflow a thread FORK may have been lost: the same exit is pending, and
    /proc is asked (here it says the PID is gone: then it is recorded)."""
    reads = _counting_reads(monkeypatch)
    t = Tracker()
    _named_parent(t)
    t.feed([Fork(100, PARENT, T, T)])
    t.distrust()
    assert t.feed([Exit(300, T, T, 3 << 8, PARENT)]) == []
    assert T in t.pending and t.check() and reads == [f"{T}/stat"]
    recs = [r for r in t.feed([]) if isinstance(r, ExitRecord)]
    assert [(r.pid, r.exit_code) for r in recs] == [(T, 3)]


def test_a_lost_marker_in_the_batch_also_stops_the_count() -> None:
    t = Tracker(read_proc=False)
    t.clock = Clock()
    recs = t.feed([Fork(100, PARENT, T, T), Lost(4, False), Exit(300, T, T, 0, PARENT)])
    assert not [r for r in recs if isinstance(r, ExitRecord)]
    assert T in t.pending


def test_after_a_threads_exec_the_leaders_exit_waits_for_proof() -> None:
    """A thread exec'd (de_thread): the old tasks' EXITs may come after the EXEC, so the count
    is no longer trusted and a leader EXIT is pending, not recorded at once."""
    t = Tracker(read_proc=False)
    t.clock = Clock()
    t.feed([Fork(100, PARENT, T, T), Fork(120, T, U, T), Exec(250, T, T)])
    assert t.procs[T].tasks is None
    assert t.feed([Exit(300, T, T, 0, PARENT)]) == []
    assert T in t.pending


def test_thread_exits_bring_the_count_back_to_one() -> None:
    """A thread came and went: the leader's exit is then the end, recorded at once."""
    t = Tracker(read_proc=False)
    t.clock = Clock()
    t.feed([Fork(100, PARENT, T, T), Fork(120, T, U, T)])
    assert t.feed([Exit(200, U, T, 0, PARENT)]) == []
    recs = [r for r in t.feed([Exit(300, T, T, 2 << 8, PARENT)]) if isinstance(r, ExitRecord)]
    assert [(r.pid, r.exit_code) for r in recs] == [(T, 2)]


def test_records_are_built_without_the_dataclass_init(monkeypatch: pytest.MonkeyPatch) -> None:
    """The frozen dataclass's ``__init__`` (13 ``object.__setattr__`` calls, 2.7 µs) was the
    largest part of the reader's work per exit: the tracker builds its records with
    ``new_exit_record`` (the slots set directly). It must give the very record the
    constructor gives, every field included (a field added to ExitRecord and not to it
    fails here), and the tracker must not call the constructor."""
    from dataclasses import fields

    from pidtop.journal.records import new_exit_record
    from pidtop.kernel.pidfdinfo import ExitStatus

    for raw, uid, comm, cmdline, life, res in (
        (0x300, 0, "sh", "sh -c exit 3", 0.25, None),
        (0x8B, None, None, None, None, 0.01),
    ):
        status = ExitStatus.from_wait_status(raw)
        args = (1.5, 2.5, 77, 1, uid, comm, cmdline, status, life)
        fast = new_exit_record(*args, res)
        slow = ExitRecord(*args, lifetime_resolution_s=res)
        assert [getattr(fast, f.name) for f in fields(ExitRecord)] == [
            getattr(slow, f.name) for f in fields(ExitRecord)
        ]
        assert fast == slow and hash(fast) == hash(slow)

    def refused(*args: object, **kwargs: object) -> None:
        raise AssertionError("ExitRecord.__init__ called for a connector exit")

    monkeypatch.setattr(ExitRecord, "__init__", refused)
    recs = run([[Fork(100, PARENT, T, T), Exit(200 * MS, T, T, 3 << 8, PARENT)]])
    assert [(r.pid, r.exit_code, r.lifetime_s) for r in recs] == [(T, 3, (200 * MS - 100) / 1e9)]


def test_stat_reads_what_parse_stat_reads_with_less_work() -> None:
    """``_stat`` (at every EXEC, zombie and pending check) splits /proc/PID/stat itself, for
    its five fields only: a real child named ``a) (b c`` (a comm with spaces and parens),
    alive then a zombie, reads exactly as ``parse_stat`` reads it; and no Python function but
    ``read_proc`` and ``_Stat`` runs (parse_stat's full StatFields cost 1.7 µs more a read)."""
    import sys

    from pidtop.kernel.stat import parse_stat

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            with open("/proc/self/comm", "w") as f:
                f.write("a) (b c")
            os.write(w, b"x")
            time.sleep(30)
        finally:
            os._exit(0)
    try:
        os.read(r, 1)
        calls: list[str] = []

        def profile(frame: Any, event: str, arg: object) -> None:
            if event == "call":
                calls.append(frame.f_code.co_name)

        for want_state in ("S", "Z"):
            deadline = time.monotonic() + 5
            while (full := parse_stat(tracker_mod.read_proc(pid, "stat", 4096))).state != (
                want_state
            ):
                assert time.monotonic() < deadline, full.state
                time.sleep(0.01)
            calls.clear()
            sys.setprofile(profile)
            try:
                st = tracker_mod._stat(pid)
            finally:
                sys.setprofile(None)
            assert st is not None
            got = (st.state, st.comm, st.start, st.ppid, st.threads)
            want = (full.state, "a) (b c", full.starttime, full.ppid, full.num_threads)
            assert got == want and st.state == want_state
            assert {c for c in calls if not c.startswith("<")} <= {"_stat", "read_proc", "__init__"}
            os.kill(pid, 9)  # a zombie next (not reaped yet)
    finally:
        os.close(r)
        os.close(w)
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, 9)
        os.waitpid(pid, 0)
