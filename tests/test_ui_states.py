"""What the screen says a process is (issue 7, item 8), with real processes: a stopped or
traced pin is not "alive"; a --watch-all exit keeps its ✕ until its row leaves the screen."""

from __future__ import annotations

import ctypes
import os
import signal
from pathlib import Path

from procs import spawn
from textual.pilot import Pilot
from uitools import resample, strip_text, wait_for

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp

SIZE = (120, 30)
PTRACE_ATTACH, PTRACE_DETACH = 16, 17


def proc_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


async def pinned(pilot: Pilot, app: PidtopApp, pid: int) -> None:
    await wait_for(pilot, lambda: app.samples_merged >= 2 and app.view.cursor_row is not None)
    await pilot.press("space")
    assert [p.key[0] for p in app.pins] == [pid]
    assert " alive " in strip_text(app)


async def test_stopped_pin_reads_stopped() -> None:
    with spawn() as t:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({t.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await pinned(pilot, app, t.pid)
            os.kill(t.pid, signal.SIGSTOP)
            await wait_for(pilot, lambda: proc_state(t.pid) == "T")
            await resample(pilot)
            assert " stopped " in strip_text(app) and " alive " not in strip_text(app)
            os.kill(t.pid, signal.SIGCONT)
            await wait_for(pilot, lambda: proc_state(t.pid) != "T")
            await resample(pilot)
            assert " alive " in strip_text(app)


async def test_traced_pin_reads_traced() -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
    with spawn() as t:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({t.pid}))
        async with app.run_test(size=SIZE) as pilot:
            await pinned(pilot, app, t.pid)
            assert libc.ptrace(PTRACE_ATTACH, t.pid, None, None) == 0, ctypes.get_errno()
            try:
                await wait_for(pilot, lambda: proc_state(t.pid) == "t")
                await resample(pilot)
                assert " traced " in strip_text(app)
            finally:
                os.waitpid(t.pid, os.WUNTRACED)  # the attach stop, seen by its tracer
                libc.ptrace(PTRACE_DETACH, t.pid, None, None)


async def test_watch_all_exit_keeps_its_mark_until_the_row_goes() -> None:
    """The ✕ stays on the row (readable without colour) while the row is shown: also the
    sample after the exit, when the row is 'dying' (the mark used to go, the dimming stayed)."""
    with spawn() as t:
        app = PidtopApp(ProcSampler(), delay=3600, pids=frozenset({t.pid}), watch_all=True)
        async with app.run_test(size=SIZE) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2 and len(app.table.rows) == 1)

            def row_line() -> str:
                lines = [app.view.render_line(y).text for y in range(1, 4)]
                return next((ln for ln in lines if str(t.pid) in ln), "")

            assert "✕" not in row_line()
            # the watch's pidfd is opened in a thread after a merge: an exit before it is open is
            # not watched (best effort, said in pidtop.actions.pins); wait for it, as a user would
            await wait_for(pilot, lambda: app.watch_all is not None and len(app.watch_all) >= 1)
            t.exit(0)
            t.reap()
            await wait_for(pilot, lambda: "✕" in row_line())
            await resample(pilot)
            row = app.table.get(app.table.rows[0].key) if app.table.rows else None
            assert row is not None and row.status == "dying"
            assert "✕" in row_line()
            await resample(pilot)
            assert row_line() == ""  # the row went, and its mark with it
