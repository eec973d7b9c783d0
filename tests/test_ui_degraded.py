"""Degraded mode in the UI: where the kernel lacks a facility, pidtop says so, visibly.

THIS MACHINE HAS PIDFDS. The missing ``pidfd_open`` is simulated with the one mock these tests
allow: ``os.pidfd_open`` (as ``pidtop.kernel.handle`` sees it) raises ENOSYS, and the cached
``features()`` probe is cleared before and after so the app probes the "kernel" again. Every
process is real (forked children, the real ProcSampler, real signals): only the syscall's
existence is faked. While the mock is active this test's own helpers must not call
``os.pidfd_open``; the real one is kept as ``REAL_PIDFD_OPEN`` and the mock is undone before
the targets are cleaned up (``Target.close`` opens a pidfd).
"""

from __future__ import annotations

import errno
import os

import pytest
from procs import HAS_INFO_EXIT, HAS_PIDFS_INODES, Target, spawn
from uitools import notes, strip_text, wait_for

import pidtop.kernel.handle as handle_mod
from pidtop.kernel.probes import features
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import SignalScreen
from pidtop.ui.widgets.pinned import DEGRADED_MARK

SIZE = (160, 40)
REAL_PIDFD_OPEN = os.pidfd_open
LIMITED = "Kernel support is limited"


def no_pidfd_open(pid: int, flags: int = 0) -> int:
    raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))


def make_app(target: Target) -> PidtopApp:
    return PidtopApp(
        ProcSampler(),
        delay=0.2,
        sort_column="pid",
        sort_reverse=False,
        pids=frozenset({target.pid}),
    )


def proc_state(pid: int) -> str:
    """The state letter in /proc/PID/stat ("" once the PID is gone): no pidfd involved."""
    try:
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one read
    except FileNotFoundError:
        return ""
    return stat.rsplit(")", 1)[1].split()[0]


async def test_no_pidfd_is_reported_marked_and_kill_still_works() -> None:
    target = spawn()
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(handle_mod.os, "pidfd_open", no_pidfd_open)
            features.cache_clear()
            try:
                assert not features().pidfd_open  # the simulation took
                app = make_app(target)
                async with app.run_test(size=SIZE, notifications=True) as pilot:
                    # ONE warning summarising what is missing, each note in the event log
                    limited = [m for m in notes(app) if m.startswith(LIMITED)]
                    assert len(limited) == 1, notes(app)
                    assert "pidfd_open unavailable" in limited[0] and "see L" in limited[0]
                    kernel = [e for e in app.events.entries if e.kind == "kernel"]
                    assert [e.message for e in kernel] == list(features().notes)
                    assert any("kill(2)" in e.message for e in kernel)
                    assert not any(e.ok for e in kernel)

                    await wait_for(pilot, lambda: len(app.table.rows) == 1)
                    await pilot.press("space")  # pin the real child: a degraded handle
                    assert len(app.pins) == 1
                    (pin,) = app.pins
                    assert pin.handle.degraded and pin.handle.inode is None
                    await wait_for(pilot, lambda: DEGRADED_MARK in strip_text(app))
                    text = strip_text(app)
                    # no PID:INODE claimed without an inode; "alive", never "running"
                    assert f" {target.pid} " in text and f"{target.pid}:" not in text
                    assert "alive" in text and "running" not in text
                    assert "start time re-checked before kill(2)" in text  # the title says why
                    assert any(p == "Pinned: 1 (1 alive)" for p in app.meters.status)

                    # kill via the picker: kill(2) after the start-time check
                    await pilot.press("k")
                    await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
                    await pilot.press("enter")  # SIGTERM is preselected
                    await wait_for(pilot, lambda: any("SIGTERM delivered" in m for m in notes(app)))
                    # it really died: a zombie of ours (or gone), killed by SIGTERM
                    await wait_for(pilot, lambda: proc_state(target.pid) in ("Z", ""))
                    info = os.waitid(os.P_PID, target.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
                    assert info is not None and info.si_status == 15, info
                    # the degraded watcher (polling) sees the exit too
                    await wait_for(pilot, lambda: "exited" in strip_text(app))
                    assert any(e.kind == "signal" and e.ok for e in app.events.entries)
            finally:
                features.cache_clear()
        assert os.pidfd_open is REAL_PIDFD_OPEN
    finally:
        target.close()


@pytest.mark.skipif(
    not (HAS_INFO_EXIT and HAS_PIDFS_INODES), reason="this kernel really lacks a pidfd facility"
)
async def test_full_kernel_shows_no_degraded_warning() -> None:
    features.cache_clear()  # a real probe, whatever ran before
    with spawn() as target:
        app = make_app(target)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await wait_for(pilot, lambda: len(app.table.rows) == 1)
            await pilot.press("space")
            (pin,) = app.pins
            assert not pin.handle.degraded
            await wait_for(pilot, lambda: f"{target.pid}:" in strip_text(app))
            merged = app.samples_merged  # a few more samples: nothing may turn up late
            await wait_for(pilot, lambda: app.samples_merged >= merged + 3)
            assert not any(m.startswith(LIMITED) for m in notes(app)), notes(app)
            assert not any(e.kind == "kernel" for e in app.events.entries)
            text = strip_text(app)
            assert DEGRADED_MARK not in text and "alive" in text
