"""Actions own their handles: tidying the pins never cancels an escalation or a wait.

"SIGTERM, then SIGKILL after N s" on three pins; one exits on TERM; the user clears the
exited pin (X) and unpins a survivor: the KILL must still reach both survivors. The action
used to read the pins' handles, which unpin/clear had closed (ValueError ended it). Real
processes (children that ignore SIGTERM), real signals, exit statuses read with waitpid.
"""

from __future__ import annotations

import asyncio
import os
import signal

from procs import count_fds, spawn
from test_pins import BOUND, info_for, next_change, until

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import Pin, PinSet
from pidtop.kernel.errors import FdLimit
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.watch import ExitEvent


def killed_by(pid: int) -> int | None:
    """Reap our child ``pid`` (bounded by the caller's kill) and return its killing signal."""
    _, status = os.waitpid(pid, 0)
    return os.WTERMSIG(status) if os.WIFSIGNALED(status) else None


async def test_escalation_survives_clear_exited_and_unpin() -> None:
    log = EventLog()
    pins = PinSet(log)
    a, b, c = spawn(), spawn(ignore_term=True), spawn(ignore_term=True)
    try:
        before = count_fds()
        for t in (a, b, c):
            pins.pin(info_for(t.pid))
        targets = pins.targets(None)
        assert len(targets) == 3 and not any(t.owned for t in targets)
        escalation = asyncio.ensure_future(
            pins.escalate(targets, signal.SIGTERM, signal.SIGKILL, after=1.0)
        )
        assert [a.describe().split(" in ")[0] for a in pins.pending_actions] == [
            "SIGKILL to 3 processes"
        ]
        await next_change(pins, lambda p, _e: p.handle.pid == a.pid)  # a died of SIGTERM
        assert pins.clear_exited() == 1  # X
        assert pins.unpin((b.pid, info_for(b.pid).starttime)) is not None  # Space on b
        results = await asyncio.wait_for(escalation, BOUND)
        by_pid = {r.target.handle.pid: [x.outcome for x in r.results] for r in results}
        assert by_pid == {
            a.pid: ["delivered"],
            b.pid: ["delivered", "delivered"],
            c.pid: ["delivered", "delivered"],
        }
        assert pins.pending_actions == []
        assert (killed_by(a.pid), killed_by(b.pid), killed_by(c.pid)) == (
            signal.SIGTERM,
            signal.SIGKILL,
            signal.SIGKILL,
        )
        assert all(r.target.handle.closed for r in results)  # the action's own references
        assert pins.budget.held["action"] == 0 and pins.budget.used == len(pins) == 1
        pins.close()
        assert count_fds() == before  # nothing leaked
    finally:
        pins.close()
        for t in (a, b, c):
            t.close()


async def test_escalation_survives_unpin_all_before_it_starts() -> None:
    """The references are taken when escalate() is called, not when its task first runs:
    keys typed ahead (k, Enter, U) reach unpin_all before the worker starts."""
    pins = PinSet(EventLog())
    t = spawn(ignore_term=True)
    try:
        pins.pin(info_for(t.pid))
        coro = pins.escalate(pins.targets(None), signal.SIGTERM, signal.SIGKILL, after=0.2)
        pins.unpin_all()
        [ar] = await asyncio.wait_for(coro, BOUND)
        assert [r.outcome for r in ar.results] == ["delivered", "delivered"]
        assert killed_by(t.pid) == signal.SIGKILL
    finally:
        pins.close()
        t.close()


async def test_escalation_refused_whole_when_the_budget_cannot_hold_its_references() -> None:
    pins = PinSet(EventLog(), budget=FdBudget(limit=1, reserve=0))
    t = spawn(ignore_term=True)
    try:
        pins.pin(info_for(t.pid))
        targets = pins.targets(None)
        try:
            pins.escalate(targets, signal.SIGTERM, signal.SIGKILL, after=0.2)
            raise AssertionError("escalate took a reference past the budget")
        except FdLimit as e:
            assert "limit 1 = RLIMIT_NOFILE 1 minus 0 kept" in str(e)
        assert [e.kind for e in pins.log.entries] == ["pin"]  # nothing sent
        assert pins.budget.used == 1
    finally:
        pins.close()
        t.close()


async def test_wait_goes_on_after_its_pins_are_unpinned() -> None:
    log = EventLog()
    pins = PinSet(log)
    over: list[tuple[Pin, ExitEvent]] = []
    pins.wait_listeners.append(lambda pin, event: over.append((pin, event)))
    a, b = spawn(), spawn()
    try:
        pa, pb = pins.pin(info_for(a.pid)), pins.pin(info_for(b.pid))
        assert pins.start_wait() == 2
        assert pins.unpin_all() == 2  # U while waiting: the wait keeps its own references
        assert pins.waiting == {pa.key, pb.key}
        assert pins.budget.held == {
            "pin": 0,
            "action": 2,
            "cursor": 0,
            "watch": 0,
            "tree": 0,
            "journal": 0,
        }
        a.exit(3)
        b.exit(4)
        await asyncio.wait_for(until(lambda: len(over) == 2), BOUND)
        codes = sorted((p.handle.pid, e.status.code) for p, e in over)
        assert codes == [(a.pid, 3), (b.pid, 4)]
        assert pins.waiting == set() and pins.budget.used == 0
        messages = [e.message for e in log.entries if e.kind == "wait" and e.target]
        assert messages[-1].endswith("exited with code 4; 0 still to wait for") or messages[
            -1
        ].endswith("exited with code 3; 0 still to wait for")
    finally:
        pins.close()
        for t in (a, b):
            t.close()


async def test_cancelled_wait_and_close_release_every_reference() -> None:
    pins = PinSet(EventLog())
    t = spawn()
    try:
        before = count_fds()
        pins.pin(info_for(t.pid))
        pins.start_wait()
        assert count_fds() > before + 1  # the pin and the wait's own reference (+ epoll)
        pins.cancel_wait()
        assert pins.budget.held["action"] == 0
        pins.close()
        assert count_fds() == before
    finally:
        pins.close()
        t.close()
