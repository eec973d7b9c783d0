"""PinSet / WatchAll / EventLog against real processes (children and non-children)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import resource
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from pidtop.actions import pinwait as wait_module
from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import Pin, PinSet
from pidtop.actions.targets import Target, confirmation_reasons
from pidtop.actions.watch_all import WatchAll
from pidtop.cli import process as cli
from pidtop.kernel import watch as watch_module
from pidtop.kernel.errors import FdLimit, IdentityMismatch
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.identity import Identity, read_starttime
from pidtop.kernel.probes import features
from pidtop.kernel.watch import ExitEvent
from pidtop.sampling.snapshot import ProcInfo

BOUND = 10.0  # seconds: an upper bound on waiting for an event, never a sleep


def info_for(pid: int, *, starttime: int | None = None, kthread: bool = False) -> ProcInfo:
    """The ProcInfo a table row would have shown for ``pid`` (only identity fields matter)."""
    st = read_starttime(pid) if starttime is None else starttime
    return ProcInfo(
        pid=pid, tgid=pid, ppid=0, starttime=st, state="S", comm="t", cmdline=f"proc {pid}",
        uid=0, user="root", priority=20, nice=0, num_threads=1, vsize=0, rss=0, shared=0,
        utime=0, stime=0, is_kernel_thread=kthread,
    )  # fmt: skip


@contextlib.contextmanager
def child(code: str) -> Iterator[subprocess.Popen[bytes]]:
    """A real child running Python ``code``; it has printed 'ready' once this yields."""
    p = subprocess.Popen(
        [sys.executable, "-c", f"import os, signal, sys, time\n{code}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stdout.readline() == b"ready\n"
    try:
        yield p
    finally:
        if p.poll() is None:
            p.kill()
        with p:  # closes the pipes and reaps
            pass


def nonchild(exit_code: int = 0, *, ignore_term: bool = False) -> tuple[int, int]:
    """A double-forked process (not our child). It exits with ``exit_code`` when the returned
    fd is written to or closed. Returns (pid, control fd)."""
    r, w = os.pipe()
    ignore = "signal.signal(signal.SIGTERM, signal.SIG_IGN)" if ignore_term else ""
    script = (
        "import os, signal\n"
        "rr, ww = os.pipe()\n"
        "pid = os.fork()\n"
        "if pid == 0:\n"
        f"    {ignore or 'pass'}\n"
        "    os.write(ww, b'r')\n"
        f"    os.read({r}, 1)\n"
        f"    os._exit({exit_code})\n"
        "os.read(rr, 1)\n"
        "print(pid, flush=True)\n"
    )
    p = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, pass_fds=(r,))
    assert p.stdout is not None
    pid = int(p.stdout.readline())
    p.wait()
    p.stdout.close()
    os.close(r)
    return pid, w


async def next_change(pins: PinSet, pred: object = None) -> tuple[Pin, ExitEvent]:
    """Wait (bounded) for the next pin change that carries an exit event."""
    loop = asyncio.get_running_loop()
    fut: asyncio.Future[tuple[Pin, ExitEvent]] = loop.create_future()

    def listener(pin: Pin, event: ExitEvent | None) -> None:
        if event is not None and not fut.done() and (pred is None or pred(pin, event)):  # type: ignore[operator]
            fut.set_result((pin, event))

    pins.listeners.append(listener)
    try:
        return await asyncio.wait_for(fut, BOUND)
    finally:
        pins.listeners.remove(listener)


async def until(pred: object) -> None:
    """Let the loop run until ``pred()`` holds (the caller bounds it with wait_for)."""
    while not pred():  # type: ignore[operator]
        await asyncio.sleep(0.001)


@pytest.fixture
def log() -> EventLog:
    return EventLog()


async def test_pinned_child_exit_is_reported_with_code(log: EventLog) -> None:
    pins = PinSet(log)
    with child("print('ready', flush=True); sys.stdin.read(1); sys.exit(3)") as p:
        pin = pins.pin(info_for(p.pid))
        assert pin.alive and pin.handle.inode is not None
        assert pin.target == f"{p.pid}:{pin.handle.inode}"
        assert p.stdin is not None
        p.stdin.write(b"x")
        p.stdin.flush()
        changed, _event = await next_change(pins)
        assert changed is pin
        assert pin.state == "exited"  # our child is a zombie until Popen reaps it
        assert pin.status is not None and pin.status.known and pin.status.code == 3
        assert pin.lived is not None and pin.lived >= 0
    exits = [e for e in log.entries if e.kind == "exit"]
    assert len(exits) == 1 and "exited with code 3" in exits[0].message
    pins.close()


async def test_nonchild_killed_reports_signal_after_reap(log: EventLog) -> None:
    pins = PinSet(log)
    pid, ctl = nonchild()
    try:
        pin = pins.pin(info_for(pid))
        [res] = pins.send(pins.targets(None), signal.SIGTERM)
        assert res.outcome == "delivered"
        _, first = await next_change(pins)
        assert pin.state in ("exited", "reaped") and pin.exited_wall is not None
        if not first.final:  # PID 1 reaps orphans lazily here: the code comes with the reap
            await next_change(pins, lambda _p, e: e.reaped)
        assert pin.state == "reaped"
        assert pin.status is not None and pin.status.signal == signal.SIGTERM
        assert any(e.kind in ("exit", "reaped") and "SIGTERM" in e.message for e in log.entries)
    finally:
        os.close(ctl)
        pins.close()


async def test_pin_refused_when_pid_is_another_process(log: EventLog) -> None:
    pins = PinSet(log)
    with child("print('ready', flush=True); sys.stdin.read(1)") as p:
        stale = info_for(p.pid, starttime=read_starttime(p.pid) - 1)  # what an old row showed
        with pytest.raises(IdentityMismatch, match=f"PID {p.pid} is now another process"):
            pins.pin(stale)
        assert len(pins) == 0 and pins.budget.used == 0
        assert log.entries[-1].kind == "pin_refused" and not log.entries[-1].ok
        # the cursor path refuses the same way and never signals
        with pytest.raises(IdentityMismatch):
            pins.targets(stale)
        assert p.poll() is None


async def test_escalation_kills_a_process_that_ignores_term(log: EventLog) -> None:
    pins = PinSet(log)
    code = (
        "signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    with child(code) as p:
        targets = pins.targets(info_for(p.pid))  # not pinned: a temporary verified handle
        assert [t.owned for t in targets] == [True] and pins.budget.used == 1
        [ar] = await pins.escalate(targets, signal.SIGTERM, signal.SIGKILL, after=0.3)
        assert [(r.signal, r.outcome) for r in ar.results] == [
            (signal.SIGTERM, "delivered"),
            (signal.SIGKILL, "delivered"),
        ]
        assert p.wait(BOUND) == -signal.SIGKILL
        assert targets[0].handle.closed and pins.budget.used == 0


async def test_escalation_stops_when_term_is_enough(log: EventLog) -> None:
    pins = PinSet(log)
    with child("print('ready', flush=True); time.sleep(60)") as p:
        pin = pins.pin(info_for(p.pid))
        [ar] = await pins.escalate(pins.targets(None), after=BOUND, reclaim=True)
        assert [r.signal for r in ar.results] == [signal.SIGTERM]
        assert ar.reclaim is None  # no SIGKILL was sent, nothing to reclaim
        assert p.wait(BOUND) == -signal.SIGTERM
        assert not pin.handle.closed  # a pin's handle outlives the action
    pins.close()


async def test_kill_with_reclaim_reports_result(log: EventLog) -> None:
    pins = PinSet(log)
    code = "b = bytearray(64 << 20); print('ready', flush=True); time.sleep(60)"
    with child(code) as p:
        pins.pin(info_for(p.pid))
        [ar] = await pins.escalate(pins.targets(None), signal.SIGKILL, None, reclaim=True)
        assert ar.reclaim is not None and ar.reclaim.ok, ar.reclaim
        assert log.entries[-1].kind == "reclaim"
    pins.close()


async def test_fd_budget_refuses_past_the_limit(log: EventLog) -> None:
    pins = PinSet(log, budget=FdBudget(limit=1, reserve=0))
    with (
        child("print('ready', flush=True); sys.stdin.read(1)") as a,
        child("print('ready', flush=True); sys.stdin.read(1)") as b,
    ):
        pins.pin(info_for(a.pid))
        with pytest.raises(FdLimit, match="fd budget exhausted"):
            pins.pin(info_for(b.pid))
        assert len(pins) == 1 and log.entries[-1].kind == "pin_refused"
        [res] = pins.send(pins.targets(None), 0)  # the held pin still works
        assert res.outcome == "delivered"
    pins.close()


async def test_real_emfile_is_a_clear_refusal(log: EventLog) -> None:
    pins = PinSet(log, budget=FdBudget(limit=1 << 20))
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with child("print('ready', flush=True); sys.stdin.read(1)") as p:
        info = info_for(p.pid)
        lowest_free = os.dup(0)  # the next fd the kernel would hand out
        os.close(lowest_free)
        resource.setrlimit(resource.RLIMIT_NOFILE, (lowest_free, hard))  # now: EMFILE
        try:
            with pytest.raises(FdLimit):
                pins.pin(info)
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
        assert len(pins) == 0 and pins.budget.used == 0
        assert pins.pin(info).alive  # with fds back, the same pin works
    pins.close()


async def test_wait_counts_down_as_pins_exit(log: EventLog) -> None:
    pins = PinSet(log)
    with (
        child("print('ready', flush=True); sys.stdin.read(1)") as a,
        child("print('ready', flush=True); sys.stdin.read(1)") as b,
    ):
        pins.pin(info_for(a.pid))
        pins.pin(info_for(b.pid))
        assert pins.start_wait() == 2
        assert a.stdin is not None
        a.stdin.close()
        await next_change(pins)
        assert len(pins.waiting) == 1
        assert b.stdin is not None
        b.stdin.close()
        await next_change(pins)
        assert pins.waiting == set()
    assert [e.message for e in log.entries if e.kind == "wait"][-1].endswith("0 still to wait for")
    pins.close()


@contextlib.contextmanager
def reaped_on_request() -> Iterator[tuple[int, subprocess.Popen[bytes]]]:
    """A ``sleep`` that is not our child; its parent reaps it once a line is written to the
    parent's stdin (and not before). Yields (sleep's PID, the parent)."""
    code = (
        "import subprocess, sys\n"
        "p = subprocess.Popen(['sleep', '1000'])\n"
        "print(p.pid, flush=True)\n"
        "sys.stdin.readline()\n"
        "p.kill()\n"
        "p.wait()\n"
    )
    parent = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    assert parent.stdout is not None and parent.stdin is not None
    try:
        yield int(parent.stdout.readline()), parent
    finally:
        with contextlib.suppress(BrokenPipeError):
            parent.stdin.close()  # EOF: a parent still reading goes on to reap
        parent.wait(BOUND)
        parent.stdout.close()


def reap_now(parent: subprocess.Popen[bytes]) -> None:
    assert parent.stdin is not None
    parent.stdin.close()


needs_info_exit = pytest.mark.skipif(
    not features().info_exit, reason="the exit status of a non-child needs PIDFD_INFO_EXIT"
)


@needs_info_exit
async def test_wait_is_over_with_the_status_its_parent_reaps(log: EventLog) -> None:
    """``w``, then SIGKILL to a pinned non-child that its parent reaps right after: the wait
    reports "killed by SIGKILL" (it said "exit status unknown: not yet reaped by its parent")."""
    pins = PinSet(log)
    over: list[tuple[Pin, ExitEvent]] = []
    pins.wait_listeners.append(lambda pin, event: over.append((pin, event)))
    with reaped_on_request() as (pid, parent):
        pin = pins.pin(info_for(pid))
        assert pins.start_wait() == 1
        [res] = pins.send(pins.targets(None), signal.SIGKILL)
        assert res.outcome == "delivered"
        _, exited = await next_change(pins)
        assert not exited.reaped and not exited.status.known  # a zombie: nothing known yet
        assert pins.waiting == {pin.key} and over == []  # the wait is not over
        reap_now(parent)
        await next_change(pins, lambda _p, e: e.reaped)
        await asyncio.wait_for(until(lambda: over), BOUND)  # the wait's own reference saw it
        assert pins.waiting == set()
        [(waited, event)] = over
        assert waited is pin and event.reaped and event.status.signal == signal.SIGKILL
    [entry] = [e for e in log.entries if e.kind == "wait" and e.target]
    assert "killed by SIGKILL; 0 still to wait for" in entry.message and entry.ok
    [start] = [e.message for e in log.entries if e.kind == "wait" and not e.target]
    assert start == "waiting for 1 process"  # singular (it said "1 processes")
    pins.close()


@needs_info_exit
async def test_wait_gives_up_on_an_unknown_status_after_the_reap_grace(
    log: EventLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A parent that does not reap: the wait is over REAP_GRACE (the CLI's `pidtop wait`
    constant) after the exit, with the status unknown."""
    monkeypatch.setattr(wait_module, "REAP_GRACE", 0.2)
    pins = PinSet(log)
    loop = asyncio.get_running_loop()
    over: asyncio.Future[tuple[Pin, ExitEvent, float]] = loop.create_future()
    pins.wait_listeners.append(lambda p, e: over.set_result((p, e, loop.time())))
    with reaped_on_request() as (pid, _parent):
        pin = pins.pin(info_for(pid))
        pins.start_wait()
        pins.send(pins.targets(None), signal.SIGKILL)
        await next_change(pins)
        exited_at = loop.time()
        waited, event, at = await asyncio.wait_for(over, BOUND)
        assert waited is pin and not event.reaped and not event.status.known
        assert at - exited_at >= 0.15 and pins.waiting == set()
        assert "not yet reaped" in event.status.describe()
    pins.close()


def test_reap_grace_is_one_constant() -> None:
    assert wait_module.REAP_GRACE is cli.REAP_GRACE is watch_module.REAP_GRACE


async def test_pin_target_by_pid_inode_and_unpin_closes(log: EventLog) -> None:
    pins = PinSet(log)
    before = len(os.listdir("/proc/self/fd"))
    with child("print('ready', flush=True); sys.stdin.read(1)") as p:
        pin = pins.pin(info_for(p.pid))
        inode = pin.handle.inode
        assert pins.pin_target(Identity(p.pid, inode)) is pin  # the same pin, not a second fd
        assert pins.pin_target(Identity(p.pid)) is pin
        other = PinSet(log)
        assert "sys.stdin.read" in other.pin_target(Identity(p.pid)).command
        other.close()
        with pytest.raises(IdentityMismatch):
            other.pin_target(Identity(p.pid, (inode or 0) + 1))
        assert pins.unpin(pin.key) is pin and pin.handle.closed
    assert len(os.listdir("/proc/self/fd")) == before


async def test_pin_target_names_a_zombie_by_comm_and_a_kernel_thread_in_brackets(
    log: EventLog,
) -> None:
    pins = PinSet(log)
    proc = subprocess.Popen(["true"])
    try:
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)  # a zombie until proc.wait()
        assert pins.pin_target(Identity(proc.pid)).command == "true"
        assert pins.pin_target(Identity(2)).command == "[kthreadd]"
    finally:
        pins.close()
        proc.wait()


async def test_watch_all_marks_an_unpinned_exit() -> None:
    seen: asyncio.Queue[tuple[object, ExitEvent]] = asyncio.Queue()
    watch = WatchAll(FdBudget(), lambda k, e: seen.put_nowait((k, e)))
    with child("print('ready', flush=True); sys.stdin.read(1); sys.exit(7)") as p:
        info = info_for(p.pid)
        watch.sync([info], skip=lambda _k: False)
        assert len(watch) == 1
        assert p.stdin is not None
        p.stdin.close()
        key, event = await asyncio.wait_for(seen.get(), BOUND)
        assert key == info.key and event.status.code == 7
        assert info.key in watch.exited
        watch.sync([], skip=lambda _k: False)  # gone from the table: forgotten, fd released
        assert watch.exited == {} and watch.budget.used == 0
    watch.close()


@contextlib.contextmanager
def sleepers(n: int) -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [subprocess.Popen(["sleep", "1000"]) for _ in range(n)]
    try:
        yield procs
    finally:
        for p in procs:
            p.kill()
            p.wait()


async def test_watch_all_leaves_fds_for_pins_and_kill_under_a_low_rlimit(log: EventLog) -> None:
    """``ulimit -n 80`` with a reserve of 64 (the old fixed one; small numbers, few processes):
    a budget of 16 pidfds. --watch-all used to take all 16, then Space said "fd budget
    exhausted" and ``k`` was refused. Now it takes at most 16 - 8, gives fds back when pins or
    a kill need them, and the cursor's process can be signalled even with the budget full."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    with sleepers(20) as procs:
        infos = [info_for(p.pid) for p in procs]
        resource.setrlimit(resource.RLIMIT_NOFILE, (80, hard))
        budget = FdBudget(reserve=64)  # 80 - 64
        pins = PinSet(log, budget=budget)
        watch = WatchAll(budget, lambda k, e: None)
        try:
            assert len(os.listdir("/proc/self/fd")) + 20 < 80, "too many fds open to test"
            assert budget.limit == 16 and FdBudget().limit == 60  # the default: 80 - 80 // 4
            watch.sync(infos, skip=lambda k: k in pins)
            assert len(watch) == 8 and watch.skipped == 12 and budget.free == 8  # infos[:8]
            for info in infos[10:19]:  # 8 from the reserve, the 9th from --watch-all
                assert pins.pin(info).alive
            assert len(watch) == 7 and budget.free == 0
            # k on an unpinned row: a temporary handle, one more fd given back by --watch-all
            cursor = PinSet(log, budget=budget)
            [target] = cursor.targets(infos[19])
            assert target.owned and len(watch) == 6
            assert [r.outcome for r in cursor.send([target], 0)] == ["delivered"]
            cursor.release([target])
            watch.sync(infos, skip=lambda k: k in pins)  # nothing new: the reserve stays free
            assert budget.held == {
                "pin": 9, "action": 0, "cursor": 0, "watch": 6, "tree": 0, "journal": 0
            }  # fmt: skip
            assert budget.free == 1
            pins.pin(infos[0])  # watched and now pinned: the next sync drops its watch
            watch.sync(infos, skip=lambda k: k in pins)
            assert len(watch) == 5 and budget.held["pin"] == 10 and budget.free == 1
            while len(watch):  # pins take every fd --watch-all had
                pins.pin(next(i for i in infos if i.key not in pins))
            with pytest.raises(FdLimit) as refused:
                pins.pin(next(i for i in infos if i.key not in pins))
            assert (
                "16 pins, 0 watched (--watch-all); limit 16 = RLIMIT_NOFILE 80 minus 64 kept"
                in str(refused.value)
            )
            assert budget.used == len(pins) == 16
            # the budget is full, yet the cursor's process can still be signalled
            cursor_info = next(i for i in infos if i.key not in pins)
            [target] = cursor.targets(cursor_info)
            assert [r.outcome for r in cursor.send([target], 0)] == ["delivered"]
            cursor.release([target])
            assert budget.used == 16
        finally:
            resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
            pins.close()
            watch.close()


def test_fd_budget_refusal_says_who_holds_the_fds() -> None:
    budget = FdBudget(limit=4, reserve=0)
    budget.acquire("pin 1")
    budget.acquire("wait 2", "action")
    budget.acquire("signal 2", "cursor")
    budget.acquire("watch", "watch")
    with pytest.raises(FdLimit) as refused:
        budget.acquire("pin 3")
    assert (
        "fd budget exhausted (1 pin, 1 held by a kill or wait in progress, 1 kept for a kill, "
        "1 watched (--watch-all); limit 4 = RLIMIT_NOFILE 4 minus 0 kept"
    ) in str(refused.value)
    budget.release("watch")
    assert budget.held == {
        "pin": 1, "action": 1, "cursor": 1, "watch": 0, "tree": 0, "journal": 0
    }  # fmt: skip
    assert budget.free == 1


def test_fd_reserve_scales_with_the_limit() -> None:
    """A fixed reserve of 64 left ``ulimit -n 64`` a budget of 0: no pin, no kill."""
    assert [FdBudget(limit=n).limit for n in (16, 64, 80, 256, 1024, 20000)] == [
        0, 48, 60, 192, 960, 19936,
    ]  # fmt: skip
    empty = FdBudget(limit=16)
    with pytest.raises(FdLimit, match=r"no pidfd can be held \(RLIMIT_NOFILE 16 minus 16"):
        empty.acquire("pin 1")
    empty.acquire("signal 1", "cursor")  # the cursor's one fd comes from the reserve
    with pytest.raises(FdLimit):
        empty.acquire("signal 2", "cursor")


def test_confirmation_reasons() -> None:
    def t(pid: int, kthread: bool = False) -> Target:
        class H:
            def __init__(self) -> None:
                self.pid = pid

        return Target(H(), (pid, 1), f"cmd{pid}", info_for(pid, starttime=1, kthread=kthread))  # type: ignore[arg-type]

    assert confirmation_reasons([t(4242)], self_pid=10, parent_pid=11) == []
    assert "init" in confirmation_reasons([t(1)], self_pid=10, parent_pid=11)[0]
    assert "pidtop itself" in confirmation_reasons([t(10)], self_pid=10, parent_pid=11)[0]
    assert "parent" in confirmation_reasons([t(11)], self_pid=10, parent_pid=11)[0]
    assert "kernel thread" in confirmation_reasons([t(2, True)], self_pid=10, parent_pid=11)[0]
    many = [t(100 + i) for i in range(6)]
    assert confirmation_reasons(many, self_pid=10, parent_pid=11) == ["6 processes"]
    assert confirmation_reasons(many[:5], self_pid=10, parent_pid=11) == []


def test_event_log_appends_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    log = EventLog(path=str(path), clock=lambda: 1_700_000_000.0)
    log.add("signal", "12:34", "12:34: SIGTERM delivered", signal="SIGTERM")
    log.add("exit", "12:34", "12:34 x: exited with code 0", code=0)
    log.close()
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["kind"] for r in lines] == ["signal", "exit"]
    assert lines[0]["signal"] == "SIGTERM" and lines[1]["code"] == 0
    assert lines[0]["time"] == 1_700_000_000.0 and lines[0]["target"] == "12:34"


def test_event_log_keeps_the_last_entries_in_memory_and_every_entry_in_the_file(
    tmp_path: Path,
) -> None:
    """A bulk kill of 3,000 pins logged 13,154 entries, all kept in memory for the session."""
    path = tmp_path / "events.jsonl"
    log = EventLog(path=str(path), keep=5)
    for i in range(12):
        log.add("signal", str(i), f"m{i}")
    log.close()
    assert [e.message for e in log.entries] == ["m7", "m8", "m9", "m10", "m11"]
    assert log.total == 12 and log.entries[-1].message == "m11"
    assert len(path.read_text().splitlines()) == 12


async def test_bulk_pins_and_exits_keep_counts_without_rescanning(log: EventLog) -> None:
    """200 real processes pinned and killed at once: what a listener asks on every change
    (the pins, how many still run) stays right and costs no copy of the whole set per exit."""
    n = 200
    with sleepers(n) as procs:
        pins = PinSet(log)
        seen: list[tuple[int, int]] = []
        pins.listeners.append(lambda _p, _e: seen.append((len(pins), pins.alive_count)))
        for p in procs:
            pins.pin(info_for(p.pid))
        assert seen[-1] == (n, n) and len(pins.alive()) == n
        snapshot = tuple(pins)
        loop = asyncio.get_running_loop()
        all_exited = loop.create_future()

        def on_exit(_pin: Pin, event: ExitEvent | None) -> None:
            if event is None:  # an unpin
                return
            # the iteration snapshot is not rebuilt by exits, only by pin/unpin
            assert all(a is b for a, b in zip(pins, snapshot, strict=True))
            if pins.alive_count == 0 and not all_exited.done():
                all_exited.set_result(None)

        pins.listeners.append(on_exit)
        results = pins.send(pins.targets(None), signal.SIGKILL)
        assert {r.outcome for r in results} == {"delivered"}
        await asyncio.wait_for(all_exited, BOUND)
        assert pins.alive() == [] and len(pins) == n
        assert next(c for c in seen if c[1] == 0) == (n, 0)
        assert pins.clear_exited() == n and len(pins) == 0 and list(pins) == []
        pins.close()
