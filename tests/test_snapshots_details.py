"""Snapshots of the details screen, the environment and the open files, on the scripted source
(fixed processes, clock, inodes and details). Update with
``pytest tests/test_snapshots_details.py --snapshot-update`` and look at the SVGs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from functools import partial

import pytest
from textual.pilot import Pilot
from uitools import wait_for as wait_for_condition

from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen
from pidtop.ui.screens.files import FilesScreen
from pidtop.ui.screens.procinfo import EnvironScreen

SnapCompare = Callable[..., bool]
#: the multithreaded trainer: threads, a big RSS, a busy CPU history
PID = 1400

wait_for = partial(wait_for_condition, timeout=5.0, step=0.01)


pytestmark = pytest.mark.usefixtures("pinned_env")


def make_app() -> PidtopApp:
    return PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)


async def open_details(pilot: Pilot, *keys: str) -> DetailsScreen:
    app = pilot.app
    assert isinstance(app, PidtopApp)
    app.theme = "textual-dark"
    await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1 and not app._sampling)
    source = app.source
    assert isinstance(source, ScriptedSource)
    assert app.view.set_cursor_key(source.key_of(PID))
    await pilot.press("enter", *keys)  # one burst: the keys after Enter go to the new screen
    await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen) or bool(keys))
    return app.screen  # type: ignore[return-value]


def run(step: Callable[[Pilot], Awaitable[None]]) -> Callable[[Pilot], Awaitable[None]]:
    async def run_before(pilot: Pilot) -> None:
        await step(pilot)
        await pilot.pause()

    return run_before


async def details(pilot: Pilot) -> None:
    screen = await open_details(pilot)
    await wait_for(pilot, lambda: screen.details is not None)


def test_details_120x40(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run(details))


def test_details_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run(details))


def test_environment_searched(snap_compare: SnapCompare) -> None:
    async def env(pilot: Pilot) -> None:
        await open_details(pilot, "e", *"mark")
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, EnvironScreen) and app.screen.loaded)

    assert snap_compare(make_app(), terminal_size=(80, 24), run_before=run(env))


def test_open_files(snap_compare: SnapCompare) -> None:
    async def files(pilot: Pilot) -> None:
        await open_details(pilot, "l")
        app = pilot.app
        await wait_for(pilot, lambda: isinstance(app.screen, FilesScreen) and app.screen.loaded)

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=run(files))
