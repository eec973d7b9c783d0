"""The monitor on a recording (``pidtop --replay``): Pilot for the keys, a snapshot of the screen.

The recording is made from the scripted source and journal (fixed processes, fixed clock), so
the screen is the same on every machine; the time zone is pinned to UTC for the header's time.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from textual.pilot import Pilot

from pidtop.demo.journal import scripted_records
from pidtop.demo.script import WALL0
from pidtop.demo.source import ScriptedSource
from pidtop.record import store
from pidtop.record.reader import Reader
from pidtop.record.replay import ReplayJournal, ReplaySource
from pidtop.record.writer import Writer
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.exits import ExitsScreen
from pidtop.ui.screens.replay_time import TimeScreen

SAMPLES = 6


pytestmark = pytest.mark.usefixtures("pinned_env")


def make_recording(path: Path) -> Path:
    """Six samples of the scripted source 1.5 s apart, and the scripted exits."""
    src = ScriptedSource()
    w = Writer(store.connect(path, write=True))
    snap = src.sample()
    w.begin_run(snap, pid=1, host="demo", boot_id="b", interval=1.5, exits_complete=True, note="")
    w.write_sample(snap, exits_complete=False)
    for _ in range(SAMPLES - 1):
        w.write_sample(src.sample(), exits_complete=True)
    w.write_exits(scripted_records())
    w.db.close()
    return path


def make_app(path: Path, at: float | None = None) -> PidtopApp:
    source = ReplaySource(Reader(path), at)
    app = PidtopApp(source, journal=ReplayJournal(source))  # type: ignore[arg-type]
    app.replay = source
    return app


async def merged(pilot: Pilot, app: PidtopApp, n: int) -> None:
    for _ in range(500):
        if app.samples_merged >= n and not app._sampling:
            return
        await pilot.pause(0.01)
    raise AssertionError(f"{n} merges never came ({app.samples_merged})")


async def test_header_says_replay_and_keys_step_and_jump(tmp_path: Path) -> None:
    path = make_recording(tmp_path / "h.db")
    app = make_app(path, WALL0 + 3.0)  # the sample at 3.0 s: the third
    async with app.run_test(size=(120, 40)) as pilot:
        await merged(pilot, app, 1)
        assert app.replay is not None and app.replay.index == 2
        assert app.replay_words().startswith("REPLAY 2026-01-01 12:00:03 [3/6]")
        assert app.meters.badge == app.replay_words()
        await pilot.pause(0.3)
        assert app.samples_merged == 1  # no timer: a replay moves by key only
        await pilot.press("f")
        await merged(pilot, app, 2)
        assert app.replay.index == 3
        await pilot.press("b", "b")
        await merged(pilot, app, 4)
        assert app.replay.index == 1
        # CPU% is the recorded interval's, whichever way the cursor moved
        assert any(r.cpu > 0 for r in app.table.rows)
        await pilot.press("g")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)
        await pilot.press("ctrl+a", "ctrl+k", *"25:99", "enter")
        await pilot.pause()
        assert isinstance(app.screen, TimeScreen)  # refused, said, nothing lost
        await pilot.press("ctrl+a", "ctrl+k")
        stamp = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(WALL0 + 6.0))
        await pilot.press(*stamp, "enter")
        await merged(pilot, app, 5)
        assert app.replay.index == 4  # the sample at 6.0 s
        assert app.replay_words().startswith("REPLAY 2026-01-01 12:00:06 [5/6]")


async def test_every_action_on_a_process_is_refused(tmp_path: Path) -> None:
    app = make_app(make_recording(tmp_path / "h.db"))
    said: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await merged(pilot, app, 1)
        original = app.notify

        def notify(message: str, **kw: object) -> None:
            said.append(message)
            original(message, **kw)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]
        screen = app.screen
        for key in ("k", "f9", "space", "c", "e", "l", "s", "i", "a", "enter", "w", "]"):
            await pilot.press(key)
            await pilot.pause()
            assert app.screen is screen, key  # no signal picker, details, environment...
        assert len(said) == 12 and all("refused" in m for m in said), said
        assert not len(app.pins)
        await pilot.press("E")  # the Exits screen is there, with the recorded exits
        await pilot.pause(0.5)
        assert isinstance(app.screen, ExitsScreen)
        assert app.journal is not None and app.journal.stats.exits == 11


def footer_keys(app: PidtopApp) -> set[str]:
    """The keys the footer offers (Textual's Footer shows these bindings)."""
    return {key for key, b in app.screen.active_bindings.items() if b.binding.show}


async def journal_loaded(pilot: Pilot, app: PidtopApp) -> None:
    for _ in range(500):  # the journal's reader thread has loaded the recorded exits
        if app.journal is not None and app.journal.started:
            break
        await pilot.pause(0.01)
    app._journal_tick()  # the header's exit words now, not at the next second's tick
    await pilot.pause()


async def test_replay_chrome_offers_the_replay_keys_and_no_timer(tmp_path: Path) -> None:
    """The footer offers step and jump instead of actions on processes; the header has no
    delay; the exits counter says what the recording holds up to the moment shown."""
    from pidtop.ui.replay_actions import REFUSED

    app = make_app(make_recording(tmp_path / "h.db"), WALL0)  # before the first exit
    async with app.run_test(size=(120, 40)) as pilot:
        await merged(pilot, app, 1)
        await journal_loaded(pilot, app)
        keys = footer_keys(app)
        assert {"f", "b", "g", "f10", "f1"} <= keys, keys
        assert not keys & {"f9", "space", "w", "f7", "f8", "k"}, keys
        shown = {app.screen.active_bindings[k].binding.action.split("(")[0] for k in keys}
        assert not shown & REFUSED, shown
        assert not any(p.startswith("Delay") for p in app.meters.status), app.meters.status
        assert app.meters.status[-1] == "Exits: none recorded by then (some may be missing)"
        assert app.journal is not None
        version = app.journal.version
        await pilot.press("f", "f")  # 3.0 s: the exits of 0.1-1.2 s are recorded by then
        await merged(pilot, app, 3)
        for _ in range(500):  # the journal's thread has loaded the new moment's exits
            if app.journal.version > version:
                break
            await pilot.pause(0.01)
        await journal_loaded(pilot, app)
        assert app.meters.status[-1] == "Exits: 11 recorded, 6 failed, 37 events lost", (
            app.meters.status
        )
        await pilot.press("space")  # still refused, with a reason, though not offered
        await pilot.pause()
        assert not len(app.pins)


async def test_the_live_footer_offers_no_replay_keys() -> None:
    from pidtop.demo.source import ScriptedSource

    app = PidtopApp(ScriptedSource(), delay=0.05, sample_limit=2)
    said: list[str] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause(0.2)
        keys = footer_keys(app)
        assert {"f9", "space", "w"} <= keys and not keys & {"f", "b", "g"}, keys
        assert any(p.startswith("Delay: ") for p in app.meters.status)
        original = app.notify

        def notify(message: str, **kw: object) -> None:
            said.append(message)
            original(message, **kw)  # type: ignore[arg-type]

        app.notify = notify  # type: ignore[method-assign]
        await pilot.press("f")
        await pilot.pause()
        assert said == ["Only in a replay (pidtop --replay)"]


def test_replay_screen(snap_compare: Callable[..., bool], tmp_path: Path) -> None:
    path = make_recording(tmp_path / "h.db")

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, PidtopApp)
        app.theme = "textual-dark"
        await merged(pilot, app, 1)
        await journal_loaded(pilot, app)

    assert snap_compare(make_app(path, WALL0 + 4.5), terminal_size=(120, 40), run_before=run_before)
