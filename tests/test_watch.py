"""Watcher and wait_all on a real asyncio loop with real processes."""

from __future__ import annotations

import asyncio
import time

import pytest
from procs import spawn

from pidtop.process.handle import ProcessHandle, features
from pidtop.process.watch import ExitEvent, Watcher, wait_all

needs_info_exit = pytest.mark.skipif(
    not features().info_exit, reason="kernel lacks PIDFD_INFO_EXIT (< 6.15)"
)


async def next_event(q: asyncio.Queue[ExitEvent], timeout: float = 5.0) -> ExitEvent:
    return await asyncio.wait_for(q.get(), timeout)


async def test_child_exit_is_one_final_event() -> None:
    q: asyncio.Queue[ExitEvent] = asyncio.Queue()
    watcher = Watcher()
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        watcher.add(h, q.put_nowait)
        assert len(watcher) == 1 and h in watcher
        t.exit(3)
        event = await next_event(q)
        assert event.handle is h and event.identity == h.identity
        assert event.status.describe() == "exited with code 3"  # waitid WNOWAIT, not reaped
        assert event.final and not event.reaped
        assert event.lived_seconds is not None and event.lived_seconds >= 0
        assert abs(event.observed_at_wall - time.time()) < 5
        assert len(watcher) == 0
        await asyncio.sleep(0.05)  # give a stray second callback a chance to show up
        assert q.empty()
    watcher.close()


@needs_info_exit
async def test_nonchild_exit_then_reap_gives_two_events() -> None:
    q: asyncio.Queue[ExitEvent] = asyncio.Queue()
    watcher = Watcher()
    with spawn("nonchild") as t, ProcessHandle.open(t.pid) as h:
        watcher.add(h, q.put_nowait)
        t.exit(7)
        first = await next_event(q)
        assert (first.reaped, first.final, first.status.known) == (False, False, False)
        assert first.status.reason == "not yet reaped by its parent"
        # Level-triggered readiness must not spin while the zombie waits for its reap.
        cpu = time.process_time()
        await asyncio.sleep(0.3)
        assert time.process_time() - cpu < 0.1
        assert q.empty()
        t.reap()
        second = await next_event(q)
        assert (second.reaped, second.final) == (True, True)
        assert second.status.describe() == "exited with code 7"
        assert second.lived_seconds == first.lived_seconds
        assert len(watcher) == 0
    watcher.close()


@needs_info_exit
async def test_orphan_reaped_by_init() -> None:
    """The real case: an orphan's status arrives when PID 1 reaps it (1.5-1.8 s here)."""
    q: asyncio.Queue[ExitEvent] = asyncio.Queue()
    watcher = Watcher()
    with spawn("nonchild", reaper="init") as t, ProcessHandle.open(t.pid) as h:
        watcher.add(h, q.put_nowait)
        t.exit(9)
        first = await next_event(q)
        assert not first.final
        second = await next_event(q, timeout=10)
        assert second.reaped and second.status.code == 9
    watcher.close()


async def test_remove_and_close_stop_callbacks() -> None:
    called: list[ExitEvent] = []
    watcher = Watcher()
    with spawn("child") as a, spawn("child") as b:
        ha, hb = ProcessHandle.open(a.pid), ProcessHandle.open(b.pid)
        watcher.add(ha, called.append)
        watcher.add(hb, called.append)
        watcher.remove(ha)
        watcher.remove(ha)  # no-op
        assert len(watcher) == 1
        watcher.close()
        assert len(watcher) == 0
        a.exit(0)
        b.exit(0)
        await asyncio.sleep(0.1)
        assert called == []
        ha.close()
        hb.close()


@needs_info_exit
async def test_wait_all_any_and_timeout() -> None:
    with spawn("child") as a, spawn("nonchild") as b:
        ha, hb = ProcessHandle.open(a.pid), ProcessHandle.open(b.pid)
        start = time.monotonic()
        assert await wait_all([ha, hb], timeout=0.2) == []
        assert 0.15 < time.monotonic() - start < 2
        b.exit(2)
        events = await wait_all([ha, hb], any_=True, timeout=5)
        assert [e.handle for e in events] == [hb]
        seen: list[ExitEvent] = []
        a.exit(1)
        b.reap()
        events = await wait_all([ha, hb], timeout=5, reap_grace=2, on_exit=seen.append)
        assert {e.handle: e.status.describe() for e in events} == {
            ha: "exited with code 1",
            hb: "exited with code 2",
        }
        assert seen == events
        ha.close()
        hb.close()
    assert await wait_all([]) == []
