"""The journal's thread wakes the UI loop only for exits of listed processes (issue 18: under
200 short processes a second the loop was woken ~50 times a second for exits it then dropped);
the others wait for the next merge, which reads them against its own sample. Each exit the
old way marked must still be marked: a listed process at once, a process that exited before
the merge of the sample that lists it at that merge."""

from __future__ import annotations

import os
import time

from procs import spawn
from uitools import resample, wait_for

from pidtop.journal.records import ExitRecord, ExitStatus
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.exits_actions import INBOX_WAKE, ExitsSeen

SIZE = (120, 30)


def exit_of(pid: int, starttime: int) -> ExitRecord:
    """An exit record of the process (pid, starttime), now."""
    clk_tck = os.sysconf("SC_CLK_TCK")
    boot = time.clock_gettime(time.CLOCK_BOOTTIME) - time.clock_gettime(time.CLOCK_MONOTONIC)
    now = time.monotonic()
    lifetime = now + boot - (starttime + 0.5) / clk_tck
    return ExitRecord(time.time(), now, pid, 1, 0, "x", "x", ExitStatus(True, code=3), lifetime)


def counting_wakeups(app: PidtopApp) -> list[int]:
    posted = [0]
    post = app.post_message

    def counting(message: object) -> bool:
        if isinstance(message, ExitsSeen):
            posted[0] += 1
        return post(message)  # type: ignore[arg-type]

    app.post_message = counting  # type: ignore[method-assign]
    return posted


async def test_only_listed_exits_wake_the_loop_and_each_is_marked() -> None:
    with spawn() as t:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({t.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2 and len(app.table.rows) == 1)
            key = app.table.rows[0].key
            posted = counting_wakeups(app)
            # exits of processes no sample listed: queued, no wake-up
            app._journal_exits([exit_of(p, 1) for p in range(4_000_000, 4_000_050)])
            await pilot.pause()
            assert posted[0] == 0 and len(app._exit_inbox) == 50
            # the listed process's exit: one wake-up, marked without a merge
            merged = app.samples_merged
            app._journal_exits([exit_of(4_000_100, 1), exit_of(*key)])
            await wait_for(pilot, lambda: app.view.exits.get(key) is not None)
            assert posted[0] == 1 and app.samples_merged == merged
            assert len(app._exit_inbox) == 0  # the others were read (and dropped) with it
            assert "[" in app.view.render_line(1).text  # the row says how it exited


async def test_an_exit_queued_before_the_merge_that_lists_it_is_marked_there() -> None:
    """The process is in a sample, exits, and the journal reports it before that sample is
    merged: the thread saw it unlisted, so the merge itself marks it."""
    with spawn() as t:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({t.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2 and len(app.table.rows) == 1)
            key = app.table.rows[0].key
            app._listed_pids = frozenset()  # as before the sample that first lists it
            posted = counting_wakeups(app)
            app._journal_exits([exit_of(*key)])
            await pilot.pause()
            assert posted[0] == 0 and app.view.exits.get(key) is None
            await resample(pilot)
            assert app.view.exits.get(key) is not None
            # drawn by the merge's own repaint (the merge does not repaint each mark apart)
            assert "[" in app.view.render_line(1).text


async def test_exits_of_several_listed_processes_between_merges_are_all_drawn() -> None:
    """Marks of one batch are repainted together (``refresh_keys``): each line says it."""
    with spawn() as a, spawn() as b:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({a.pid, b.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2 and len(app.table.rows) == 2)
            keys = [row.key for row in app.table.rows]
            app._journal_exits([exit_of(*key) for key in keys])
            await wait_for(pilot, lambda: all(app.view.exits.get(k) is not None for k in keys))
            await pilot.pause()
            assert all("[" in app.view.render_line(y).text for y in (1, 2))


async def test_many_waiting_exits_wake_the_loop() -> None:
    """A long pause (no merges): the queue is read once it holds INBOX_WAKE records."""
    app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({os.getpid()}))
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        posted = counting_wakeups(app)
        app._journal_exits([exit_of(4_000_000 + i, 1) for i in range(INBOX_WAKE + 1)])
        await wait_for(pilot, lambda: len(app._exit_inbox) == 0)
        assert posted[0] == 1
