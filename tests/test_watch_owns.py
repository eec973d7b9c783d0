"""The exit watcher owns what it watches (issue 17): a duplicate of each pidfd, taken on add and
closed on removal, on a real asyncio loop with real processes."""

from __future__ import annotations

import asyncio
import os

from procs import spawn

from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.watch import ExitEvent, Watcher


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def test_a_caller_closing_its_fd_first_leaves_no_stale_registration() -> None:
    """The caller closes its handle before removing it, and the next open() reuses the number
    for another component's reader: removing the watch must not remove that reader (the
    watcher used to register, then unregister, the caller's fd number)."""
    loop = asyncio.get_running_loop()
    watcher = Watcher()
    with spawn("child") as a:
        before = open_fds()
        handle = ProcessHandle.open(a.pid)
        number = handle.fileno()
        watcher.add(handle, lambda _e: None)
        handle.close()  # an action's duplicate, closed before the removal
        r, w = os.pipe()
        try:
            assert r == number  # the number is reused at once
            got = asyncio.Event()
            loop.add_reader(r, got.set)
            watcher.remove(handle)
            os.write(w, b"x")
            await asyncio.wait_for(got.wait(), 5)  # the other reader is still there
            assert loop.remove_reader(r)
        finally:
            os.close(r)
            os.close(w)
        assert open_fds() == before  # the watcher's own duplicate was closed


async def test_its_duplicate_is_closed_after_the_final_event_and_on_close() -> None:
    events: list[ExitEvent] = []
    watcher = Watcher()
    with spawn("child") as a, spawn("child") as b:
        before = open_fds()
        ha, hb = ProcessHandle.open(a.pid), ProcessHandle.open(b.pid)
        watcher.add(ha, events.append)
        watcher.add(hb, events.append)
        assert open_fds() == before + 4  # two pidfds and the watcher's two duplicates
        a.exit(3)
        for _ in range(500):
            if any(e.final for e in events):
                break
            await asyncio.sleep(0.01)
        assert [e.status.code for e in events if e.final] == [3]
        assert open_fds() == before + 3  # a's duplicate is gone with its watch
        watcher.close()
        assert open_fds() == before + 2
        ha.close()
        hb.close()
