"""Snapshots of pins, exits, the signal picker, the confirmation, the event log and the wait
indicator — on the ScriptedSource with scripted handles (fixed PIDs, inodes, start times,
lifetimes and exit statuses), so nothing depends on real processes, timing or the host.
Update with ``pytest tests/test_snapshots_pins.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import pytest
from textual.pilot import Pilot
from uitools import wait_for as wait_for_condition

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.demo.handles import ScriptedOpener
from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.eventlog import EventLogScreen
from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen

SnapCompare = Callable[..., bool]
Step = Callable[[Pilot], Awaitable[None]]
SIZE = (120, 40)
#: (pid, lifetime in seconds) of the processes the snapshots pin
PINNED = ((1200, 5400.0), (1220, 3000.0), (1410, 600.0), (1440, 500.0), (1701, 899.0))


pytestmark = pytest.mark.usefixtures("pinned_env")


def make_app() -> PidtopApp:
    source = ScriptedSource()
    opener = ScriptedOpener()
    pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=opener)
    app = PidtopApp(source, delay=0.05, sample_limit=NEW_AT + 1, pins=pins)
    app.opener = opener  # type: ignore[attr-defined]
    return app


wait_for = partial(wait_for_condition, timeout=5.0, step=0.01)


async def pin_some(pilot: Pilot, pids: tuple[tuple[int, float], ...] = PINNED) -> PidtopApp:
    """Wait for the last sample, then pin ``pids`` (scripted handles) through the UI."""
    app = pilot.app
    assert isinstance(app, PidtopApp)
    app.theme = "textual-dark"
    await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1 and not app._sampling)
    source = app.source
    assert isinstance(source, ScriptedSource)
    for pid, lived in pids:
        key = source.key_of(pid)
        app.opener.add(pid, key[1], lived=lived)  # type: ignore[attr-defined]
        assert app.view.set_cursor_key(key)
        await pilot.press("space")
    app.pins.update_info(app._lookup)
    app.strip.refresh_pins()
    app.view.set_cursor(0)
    await pilot.pause()
    return app


async def exit_some(pilot: Pilot) -> PidtopApp:
    app = await pin_some(pilot)
    handles = app.opener.handles  # type: ignore[attr-defined]
    endings = (
        (1220, ExitStatus(True, code=3), True),
        (1410, ExitStatus(True, signal=9), True),
        (1440, ExitStatus(True, signal=11, core_dumped=True), True),
        (1701, ExitStatus(True, code=0), False),  # a zombie: status unknown
    )
    for n, (pid, status, reaped) in enumerate(endings, 1):  # one by one: a fixed log order
        handles[pid].finish(status, reaped=reaped)
        await wait_for(pilot, lambda n=n: len(app.pins.alive()) == 5 - n)
    await pilot.pause()
    return app


def run(then: Step) -> Step:
    async def run_before(pilot: Pilot) -> None:
        await then(pilot)
        await pilot.pause()

    return run_before


def test_pinned_strip_running(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(pin_some))


def test_pinned_strip_exited(snap_compare: SnapCompare) -> None:
    """exit 3, killed by SIGKILL, SIGSEGV (core), status unknown; rows marked ✕."""
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(exit_some))


def test_signal_picker(snap_compare: SnapCompare) -> None:
    async def picker(pilot: Pilot) -> None:
        app = await pin_some(pilot, PINNED[:2])
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(picker))


def test_confirmation_dialog(snap_compare: SnapCompare) -> None:
    async def confirm(pilot: Pilot) -> None:
        app = await pin_some(pilot, ((1, 1.0), *PINNED))  # 6 targets, PID 1 among them
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        await pilot.press("enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(confirm))


def test_event_log(snap_compare: SnapCompare) -> None:
    async def log(pilot: Pilot) -> None:
        app = await exit_some(pilot)
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, EventLogScreen))

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(log))


def test_wait_indicator(snap_compare: SnapCompare) -> None:
    async def waiting(pilot: Pilot) -> None:
        app = await pin_some(pilot)
        app.bell_enabled = False
        await pilot.press("w")
        handles = app.opener.handles  # type: ignore[attr-defined]
        handles[1220].finish(ExitStatus(True, code=0))
        await wait_for(pilot, lambda: len(app.waited) == 4)
        # notify() posts a message: clear the toast only once it has arrived (it raced here)
        await wait_for(
            pilot, lambda: any(n.title == "Waited process exited" for n in app._notifications)
        )
        app.clear_notifications()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run(waiting))


# ------------------------------------------------------------------ 80x24 (issue 19)
def test_signal_picker_80x24(snap_compare: SnapCompare) -> None:
    """At 80x24 the picker shows 9 signals (it showed 3), the escalation entry and the hint."""

    async def picker(pilot: Pilot) -> None:
        app = await pin_some(pilot, PINNED[:1])
        await pilot.press("k")
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run(picker))


def test_one_pin_80x24(snap_compare: SnapCompare) -> None:
    """One pin at 80x24: the status line on ONE line, PRI as without the pin (it came and
    went with the mark gutter), 13 table rows."""
    assert snap_compare(
        make_app(), terminal_size=(80, 24), run_before=run(partial(pin_some, pids=PINNED[:1]))
    )


def test_three_notifications_80x24(snap_compare: SnapCompare) -> None:
    """F7, F8 and y at 80x24: one line each, stacked at the bottom right (they covered 12 of
    the 16 table rows)."""

    async def notes(pilot: Pilot) -> None:
        app = await pin_some(pilot, PINNED[:1])
        app.notify("1400:1001400: nice -1: done (0 -> -1)", markup=False, timeout=60)
        app.notify("1400:1001400: nice +1: done (-1 -> 0)", markup=False, timeout=60)
        app.notify(
            "Copied 1400:1001400 (for pidtop kill/wait, kill(1) or waitpid(1))",
            title="Clipboard",
            markup=False,
            timeout=60,
        )
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run(notes))
