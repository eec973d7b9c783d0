"""``--watch-all`` opens its pidfds off the UI loop, the event log flushes once per burst
(issue 18, item 3): real processes, a real file.

:meth:`WatchAll.plan` (on the loop) reserves an fd per process to open, :meth:`open_all` opens
them (in a thread in the app), :meth:`adopt` installs them on the loop; what changed meanwhile
(a process pinned or gone) gives its fd back.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

from test_pins import info_for, sleepers
from uitools import wait_for

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.actions.watch_all import WatchAll
from pidtop.kernel.fdbudget import FdBudget
from pidtop.kernel.handle import Handle, ProcessHandle
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp


async def test_plan_reserves_open_all_opens_adopt_installs() -> None:
    with sleepers(4) as procs:
        infos = [info_for(p.pid) for p in procs]
        budget = FdBudget()
        watch = WatchAll(budget, lambda k, e: None)
        try:
            pinned: set[object] = set()
            todo = watch.plan(infos, skip=lambda k: k in pinned)
            assert [i.key for i in todo] == [i.key for i in infos]
            assert len(watch) == 0 and budget.held["watch"] == 4 and watch.opening
            assert watch.plan(infos, skip=lambda k: k in pinned) == []  # being opened
            opened = watch.open_all(todo)
            assert all(h is not None for _, h in opened)
            pinned.add(infos[0].key)  # pinned meanwhile: its watch is not needed
            watch.plan(infos[:3], skip=lambda k: k in pinned)  # infos[3] gone from the table
            watch.adopt(opened, skip=lambda k: k in pinned)
            assert len(watch) == 2 and budget.held["watch"] == 2 and not watch.opening
            assert all(h is not None and h.closed for i, h in opened if i in (infos[0], infos[3]))
        finally:
            watch.close()
        assert budget.held["watch"] == 0


async def test_the_app_opens_watches_in_a_thread() -> None:
    """The app's merge only plans; every pidfd of --watch-all is opened off the loop."""
    threads: set[str] = set()

    def opener(pid: int, **kw: Any) -> Handle:
        threads.add(threading.current_thread().name)
        return ProcessHandle.open(pid, **kw)

    with sleepers(3) as procs:
        pins = PinSet(EventLog(), opener=opener)
        pids = frozenset(p.pid for p in procs)
        app = PidtopApp(ProcSampler(), pins=pins, delay=0.5, pids=pids, watch_all=True)
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.watch_all is not None and len(app.watch_all) >= 3)
        assert threads and threading.main_thread().name not in threads, threads


async def test_event_log_flushes_once_per_burst(tmp_path: Path) -> None:
    """Under the UI's scheduler a burst of entries (a mass kill) is flushed once, after the
    step that made them: on disk only what the file buffer let through, all of it once the
    loop has run; without a scheduler (the CLI) every entry is on disk at once."""
    path = tmp_path / "log.jsonl"
    log = EventLog(path=str(path))
    log.add("signal", "1:2", "first")
    assert path.read_text().count("\n") == 1  # the default: at once
    log.flush_later(asyncio.get_running_loop().call_soon_threadsafe)
    for i in range(300):
        log.add("signal", f"{i}:1", "SIGTERM delivered " + "x" * 100)
    assert path.read_text().count("\n") < 301  # not flushed per entry
    await asyncio.sleep(0)  # the loop's next step: one flush
    assert path.read_text().count("\n") == 301
    log.flush_later(None)
    log.add("exit", "1:2", "last")
    assert path.read_text().count("\n") == 302
    log.close()
