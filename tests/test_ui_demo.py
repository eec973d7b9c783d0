"""``pidtop --demo``: pins and kills act on the scripted processes, never on a real PID."""

from __future__ import annotations

import argparse
import os

from uitools import wait_for

from pidtop.process.scripted import ScriptedSource
from pidtop.ui.app import build_app
from pidtop.ui.screens.signals import SignalScreen


async def test_demo_pin_and_kill_stay_inside_the_script() -> None:
    args = argparse.Namespace(demo=True, delay=1, sort_key="pid")
    app = build_app(args)
    source = app.source
    assert isinstance(source, ScriptedSource)
    real_kill = os.kill
    sent: list[int] = []
    os.kill = lambda pid, sig: sent.append(pid)  # type: ignore[assignment]  # must stay unused
    try:
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
    finally:
        os.kill = real_kill  # type: ignore[assignment]
    assert sent == []
