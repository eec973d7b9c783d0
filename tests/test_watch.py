"""Watcher and wait_all on a real asyncio loop with real processes."""

from __future__ import annotations

import asyncio
import os
import select
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from procs import HAS_INFO_EXIT, run_loop_iterations, spawn, wait_fd

from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.watch import ExitEvent, Watcher, wait_all

# Decided by the kernel version, not by features(): a broken probe must fail, not skip.
needs_info_exit = pytest.mark.skipif(not HAS_INFO_EXIT, reason="kernel < 6.15: no PIDFD_INFO_EXIT")


@pytest.fixture
async def loop_errors() -> AsyncIterator[list[dict[str, Any]]]:
    """Every exception the running loop reports (callbacks that raised); must stay empty."""
    errors: list[dict[str, Any]] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    yield errors
    loop.set_exception_handler(None)


def registered(fd: int) -> bool:
    """Whether the running loop has a reader for ``fd`` (removes it: use only at the end)."""
    return asyncio.get_running_loop().remove_reader(fd)


class CountingWatcher(Watcher):
    """Counts wake-ups of the private reap epoll (each one is a loop callback)."""

    reap_wakeups = 0

    def _on_reaped(self) -> None:
        self.reap_wakeups += 1
        super()._on_reaped()


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
        fd = h.fileno()
        assert fd is not None
        await run_loop_iterations()  # the pidfd stays readable: a kept reader fires at once
        assert q.empty() and not registered(fd)
    watcher.close()


@needs_info_exit
async def test_nonchild_exit_then_reap_gives_two_events() -> None:
    q: asyncio.Queue[ExitEvent] = asyncio.Queue()
    watcher = CountingWatcher()
    with spawn("nonchild") as t, ProcessHandle.open(t.pid) as h:
        watcher.add(h, q.put_nowait)
        t.exit(7)
        first = await next_event(q)
        assert (first.reaped, first.final, first.status.known) == (False, False, False)
        assert first.status.reason == "not yet reaped by its parent"
        # The zombie's pidfd stays POLLIN until the reap: the reap epoll (EPOLLHUP only) must
        # not wake the loop for it. Counted, not timed: a spin would wake it every iteration.
        await run_loop_iterations()
        assert watcher.reap_wakeups == 0
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


async def test_remove_and_close_stop_callbacks(loop_errors: list[dict[str, Any]]) -> None:
    called: list[ExitEvent] = []
    watcher = Watcher()
    with spawn("child") as a, spawn("child") as b:
        ha, hb = ProcessHandle.open(a.pid), ProcessHandle.open(b.pid)
        fa, fb = ha.fileno(), hb.fileno()
        assert fa is not None and fb is not None
        watcher.add(ha, called.append)
        watcher.add(hb, called.append)
        watcher.remove(ha)
        watcher.remove(ha)  # no-op
        assert len(watcher) == 1
        watcher.close()
        assert len(watcher) == 0
        a.exit(0)
        b.exit(0)
        assert wait_fd(fa) & select.POLLIN and wait_fd(fb) & select.POLLIN  # both exited
        await run_loop_iterations()  # a reader left behind would fire now
        assert called == [] and loop_errors == []
        assert not registered(fa) and not registered(fb), "the loop still has a reader"
        ha.close()
        hb.close()


@pytest.mark.parametrize("action", ["remove", "close"])
async def test_callbacks_may_remove_others_or_close(
    action: str, loop_errors: list[dict[str, Any]]
) -> None:
    """Reaped together, in one wake-up of the reap epoll: the first callback removes another
    handle, or closes the whole watcher. No loop exception; the rest behave as asked."""
    watcher = Watcher()
    events: list[tuple[int, bool]] = []
    with spawn("nonchild") as a, spawn("nonchild") as b, spawn("nonchild") as c:
        hs = [ProcessHandle.open(t.pid) for t in (a, b, c)]

        def cb(ev: ExitEvent) -> None:
            events.append((ev.handle.pid, ev.reaped))
            if ev.reaped and sum(r for _, r in events) == 1:
                if action == "close":
                    watcher.close()
                else:  # drop another one that is waiting for its reap too
                    watcher.remove(next(h for h in hs if h is not ev.handle and h in watcher))

        for h in hs:
            watcher.add(h, cb)
        for t in (a, b, c):
            t.exit(1)
        await asyncio.wait_for(_until(lambda: len(events) == 3), 5)  # exited, not reaped
        for t in (a, b, c):
            t.reap()
        for h in hs:  # all three reaped before the loop runs again: one wake-up
            fd = h.fileno()
            assert fd is not None and wait_fd(fd, events=select.POLLHUP) & select.POLLHUP
        await run_loop_iterations()
        reaped = [pid for pid, r in events if r]
        assert loop_errors == []
        assert len(reaped) == (1 if action == "close" else 2), events
        assert len(watcher) == 0
        for h in hs:
            h.close()
    watcher.close()


async def _until(cond: Any) -> None:
    while not cond():
        await asyncio.sleep(0)


async def test_two_watchers_on_one_handle_is_an_error() -> None:
    """asyncio keeps one reader per fd: a second Watcher would steal the first one's reader."""
    w1, w2 = Watcher(), Watcher()
    got: list[str] = []
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        w1.add(h, lambda e: got.append("w1"))
        with pytest.raises(ValueError, match="already watched by another Watcher"):
            w2.add(h, lambda e: got.append("w2"))
        t.exit(0)
        await asyncio.wait_for(_until(lambda: got), 5)
        assert got == ["w1"]
        w2.add(h, lambda e: got.append("w2"))  # free again once w1 is done with it
        w2.remove(h)
    w1.close()
    w2.close()


async def test_wait_all_same_handle_twice_returns_at_the_exit() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        asyncio.get_running_loop().call_soon(t.exit, 3)
        start = time.monotonic()
        events = await wait_all([h, h], timeout=10)
        assert time.monotonic() - start < 5
        assert [e.handle for e in events] == [h] and events[0].status.code == 3


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


async def test_closing_a_watched_handle_drops_its_registration_before_the_fd_is_reused(
    loop_errors: list[dict[str, Any]],
) -> None:
    """The watcher owns what it watches: a watched handle (an action's duplicate) closed without
    ``remove`` leaves no loop reader behind under its fd number, which the next pipe reuses."""
    with spawn("child") as t:
        original = ProcessHandle.open(t.pid)
        handle = original.dup()
        watcher = Watcher()
        events: list[ExitEvent] = []
        watcher.add(handle, events.append)
        fd = handle.fileno()
        assert fd is not None
        handle.close()  # no watcher.remove(): closing tells the watcher first
        assert handle not in watcher and len(watcher) == 0
        r, w = os.pipe()
        try:
            assert fd in (r, w), "the freed fd number was not reused by the next pipe"
            os.write(w, b"x")  # readable now: a reader left on the number would fire
            await run_loop_iterations()
            assert events == [] and loop_errors == []
            assert not registered(fd), "the loop still has a reader on the reused number"
        finally:
            os.close(r)
            os.close(w)
            watcher.close()
            original.close()
