"""An 80x24 terminal, as an htop user has one: setup's labels whole and its display settings a
Tab away, the status line on one line, the same columns with and without a pin or a filter."""

from __future__ import annotations

from functools import partial

import pytest
from textual.widgets import Input, Label
from uitools import wait_for as wait_for_condition

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.demo.handles import ScriptedOpener
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.setup import SetupScreen
from pidtop.ui.widgets.meters import Meters

SIZE = (80, 24)
wait_for = partial(wait_for_condition, timeout=5.0)


def make_app() -> PidtopApp:
    source, opener = ScriptedSource(), ScriptedOpener()
    pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=opener)
    app = PidtopApp(source, delay=3600.0, pins=pins)
    app.opener = opener  # type: ignore[attr-defined]
    return app


async def test_setup_labels_whole_and_display_settings_reachable() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.press("f2")
        await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
        await pilot.pause()
        for label in app.screen.query(Label):
            text = str(label.render())
            if label.region.width and text.strip():
                assert len(text.rstrip()) <= label.region.width, f"cut: {text!r}"
        last = app.screen.query_one("#setup-after", Input)
        for _ in range(20):  # Tab by Tab, as a user reaches the last setting
            if app.focused is last:
                break
            await pilot.press("tab")
        assert app.focused is last
        await pilot.pause()
        screen = app.screen.region
        assert last.region.height > 0 and screen.contains_region(last.region)


@pytest.mark.parametrize("width", [80, 81, 82])  # where PRI came and went (81, 82: the pin)
async def test_one_pin_keeps_the_status_on_one_line_and_the_columns(width: int) -> None:
    app = make_app()
    async with app.run_test(size=(width, 24)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        header = [p.column.id for p in app.view._columns()]
        meters_height = app.query_one(Meters).region.height
        row = app.view.cursor_row
        assert row is not None
        app.opener.add(row.info.pid, row.key[1])  # type: ignore[attr-defined]
        await pilot.press("space")
        await wait_for(pilot, lambda: len(app.pins) == 1)
        await pilot.pause()
        assert [p.column.id for p in app.view._columns()] == header, "a column came or went"
        assert app.query_one(Meters).region.height == meters_height
        await pilot.press("backslash", *"python", "enter")  # a filter: fewer rows
        await pilot.pause()
        assert [p.column.id for p in app.view._columns()] == header, "a column came or went"
        await pilot.press("space")  # unpinned again
        await pilot.pause()
        assert [p.column.id for p in app.view._columns()] == header
