"""The details, environment and open-files screens paint their data in their first frame (issue
18): the read is waited for in ``on_mount``, before the first layout, not delivered by a worker
after an "opening…" frame. A read slower than ``FIRST_WAIT`` still lands, later. On the scripted
source (fixed processes and details)."""

from __future__ import annotations

import os
import threading
from functools import partial
from typing import Any

from rich.console import Console
from uitools import wait_for as wait_for_condition

from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.details.model import DetailsSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen
from pidtop.ui.screens.files import FilesScreen
from pidtop.ui.screens.firstread import FIRST_WAIT
from pidtop.ui.screens.procinfo import EnvironScreen

wait_for = partial(wait_for_condition, timeout=10.0, step=0.01)
PID = 1400


def body_text(screen: DetailsScreen) -> str:
    console = Console(width=200, record=True, file=open(os.devnull, "w"))  # noqa: SIM115
    console.print(screen.rendered)
    return console.export_text()


class ProbedDetails(DetailsScreen):
    """What the body holds when the first layout runs (ScreenResume)."""

    at_resume: str | None = None

    def on_screen_resume(self) -> None:
        if self.at_resume is None:
            self.at_resume = body_text(self)


class ProbedEnviron(EnvironScreen):
    at_resume: bool | None = None

    def on_screen_resume(self) -> None:
        if self.at_resume is None:
            self.at_resume = self.loaded


class ProbedFiles(FilesScreen):
    at_resume: bool | None = None

    def on_screen_resume(self) -> None:
        if self.at_resume is None:
            self.at_resume = self.loaded


class SlowSource:
    """A details source whose reads wait for ``release`` (a process stuck in the kernel)."""

    def __init__(self, inner: DetailsSource) -> None:
        self.inner = inner
        self.release = threading.Event()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read(self, *args: Any, **kwargs: Any) -> Any:
        assert self.release.wait(10)
        return self.inner.read(*args, **kwargs)


async def scripted_source(pilot: Any, app: PidtopApp) -> ScriptedSource:
    """The app's scripted source, once it has merged every sample it will take."""
    await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
    source = app.source
    assert isinstance(source, ScriptedSource)
    return source


async def test_first_frame_has_the_data() -> None:
    app = PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)
    async with app.run_test(size=(120, 40)) as pilot:
        source = await scripted_source(pilot, app)
        command = "python train.py"
        for screen in (
            ProbedDetails(app.details_source, PID, source.key_of(PID)[1], command),
            ProbedEnviron(app.details_source, PID, source.key_of(PID)[1], command),
            ProbedFiles(app.details_source, PID, source.key_of(PID)[1], command),
        ):
            app.push_screen(screen)
            await wait_for(pilot, lambda s=screen: s.at_resume is not None)  # type: ignore[misc]
            if isinstance(screen, ProbedDetails):
                assert screen.details is not None
                assert "opening…" not in (screen.at_resume or "")
                assert f"Process {screen.details.target}" in (screen.at_resume or "")
            else:
                assert screen.at_resume is True
            await pilot.press("escape")
            await wait_for(pilot, lambda s=screen: app.screen is not s)  # type: ignore[misc]


async def test_a_slow_first_read_lands_later() -> None:
    app = PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)
    async with app.run_test(size=(120, 40)) as pilot:
        source = await scripted_source(pilot, app)
        slow = SlowSource(app.details_source)
        screen = ProbedDetails(slow, PID, source.key_of(PID)[1], "python train.py")  # type: ignore[arg-type]
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.at_resume is not None)
        assert screen.at_resume == "" and screen.details is None  # the body says "opening…"
        await pilot.pause(FIRST_WAIT)
        assert screen.details is None and screen.reads == 0
        slow.release.set()
        await wait_for(pilot, lambda: screen.details is not None)
        assert f"Process {screen.details.target}" in body_text(screen)  # type: ignore[union-attr]
        assert screen.reads == 1
