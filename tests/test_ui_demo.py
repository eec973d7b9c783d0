"""``pidtop --demo``: pins, kills and --watch-all act on the scripted processes, never on a
real PID that happens to have the same number.

Every way to reach a real process is spied on: ``os.pidfd_open``, ``signal.pidfd_send_signal``
and ``os.kill`` (the sends go through pidfd_send_signal: a spy on os.kill alone proved
nothing). The spies refuse and record; the lists must stay empty.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.kernel.probes import features
from pidtop.settings.options import Options
from pidtop.ui.screens.signals import SignalScreen
from pidtop.ui.startup import build_app


@contextmanager
def no_real_process() -> Iterator[list[str]]:
    """Record (and refuse) every pidfd open, pidfd signal and kill(2) meanwhile."""
    touched: list[str] = []
    real = (os.pidfd_open, signal.pidfd_send_signal, os.kill)

    def spy(name: str):  # type: ignore[no-untyped-def]
        def refuse(*args: object, **kwargs: object) -> None:
            touched.append(f"{name}{args}")
            raise PermissionError(f"demo mode called {name}")

        return refuse

    os.pidfd_open = spy("pidfd_open")  # type: ignore[assignment]
    signal.pidfd_send_signal = spy("pidfd_send_signal")  # type: ignore[assignment]
    os.kill = spy("kill")  # type: ignore[assignment]
    try:
        yield touched
    finally:
        os.pidfd_open, signal.pidfd_send_signal, os.kill = real  # type: ignore[assignment]


async def test_demo_pin_and_kill_stay_inside_the_script() -> None:
    app = build_app(Options(demo=True, delay=0.1, sort_column="pid"))
    source = app.source
    assert isinstance(source, ScriptedSource)
    with no_real_process() as touched:
        async with app.run_test(size=(120, 40), notifications=True) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2)
            pid = 1400  # "python3 train.py" in the script; any real PID 1400 is not touched
            assert app.view.set_cursor_key(source.key_of(pid))
            await pilot.press("space")
            pin = app.pins.get(source.key_of(pid))
            assert pin is not None and pin.alive and pin.target == "1400:1001400"
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("enter")  # SIGTERM
            await wait_for(pilot, lambda: not pin.alive)
            assert pin.status is not None and pin.status.signal == 15
            merged = app.samples_merged
            await wait_for(pilot, lambda: app.samples_merged > merged + 1)
            assert all(r.info.pid != pid for r in app.table.rows)  # gone from the script
    assert touched == []


async def test_demo_watch_all_opens_no_real_pidfd() -> None:
    """--watch-all opened real pidfds on the script's PID numbers (it bypassed the injected
    opener): with a real PID 1400 on the machine, its exit would have been marked."""
    app = build_app(Options(demo=True, delay=0.1, watch_all=True))
    with no_real_process() as touched:
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 2)
            assert app.watch_all is not None and len(app.watch_all) > 10  # it did watch
    assert touched == []


def test_the_kernel_probe_runs_before_textual_starts_threads() -> None:
    """The probe forks; forking once Textual's threads run is unsafe. build_app (before
    app.run) probes; it used to happen in on_mount."""
    features.cache_clear()
    build_app(Options(demo=True))
    assert features.cache_info().currsize == 1
