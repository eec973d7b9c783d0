"""The details body is rendered once per content (issue 18): a refresh that changes a value
redraws it on screen, even in a section that is otherwise kept (the limits); a refresh that
changes nothing renders no section again and updates nothing. On the scripted source."""

from __future__ import annotations

from functools import partial
from typing import Any

from textual.widgets import Static
from uitools import wait_for as wait_for_condition

from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.details.model import Details, DetailsSource, Limit
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen

wait_for = partial(wait_for_condition, timeout=10.0, step=0.01)
PID = 1400


def painted(screen: DetailsScreen) -> str:
    """The text the screen's compositor draws now."""
    return "\n".join(strip.text for strip in screen._compositor.render_strips())


class Frozen:
    """A details source whose reads return the first read's data, with ``soft`` as the soft
    limit of open files and ``state`` as the state letter (nothing else changes)."""

    def __init__(self, inner: DetailsSource) -> None:
        self.inner = inner
        self.first: Details | None = None
        self.soft = 1111
        self.state = "S"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def read(self, *args: Any, **kwargs: Any) -> Details | None:
        if self.first is None:
            self.first = self.inner.read(*args, **kwargs)
        d = self.first
        assert d is not None and isinstance(d.limits, tuple)
        limits = tuple(
            x._replace(soft=self.soft) if x.name == "open files" else x for x in d.limits
        )
        assert any(x.name == "open files" for x in limits if isinstance(x, Limit))
        return d._replace(limits=limits, state=self.state)


async def started(pilot: Any, app: PidtopApp) -> tuple[ScriptedSource, Frozen]:
    """The scripted app once PID has appeared; its source and a :class:`Frozen` details source."""
    await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
    source = app.source
    assert isinstance(source, ScriptedSource)
    return source, Frozen(app.details_source)


async def read_again(pilot: Any, screen: DetailsScreen) -> None:
    """Refresh the details now and wait for the read."""
    n = screen.reads
    screen.refresh_now()
    await wait_for(pilot, lambda: screen.reads > n)


async def test_a_changed_value_is_redrawn_and_an_unchanged_body_is_not() -> None:
    app = PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)
    async with app.run_test(size=(120, 40)) as pilot:
        source, frozen = await started(pilot, app)
        screen = DetailsScreen(frozen, PID, source.key_of(PID)[1], "python train.py")  # type: ignore[arg-type]
        app.push_screen(screen)
        await wait_for(pilot, lambda: screen.error is not None or screen.reads >= 1)
        assert screen.error is None
        await wait_for(pilot, lambda: screen.is_current)
        await pilot.pause()
        assert "1111" in painted(screen) and "S (sleeping)" in painted(screen)
        built = screen.sections.built
        assert built == 7  # every section once

        # nothing changed: no section rendered again, the body and title not updated
        body = screen.rendered
        updates: list[object] = []
        for static in screen.query(Static):
            static.update = updates.append  # type: ignore[method-assign]
        await read_again(pilot, screen)
        assert screen.sections.built == built and screen.rendered is body and not updates
        for static in screen.query(Static):
            del static.update

        # the open-files limit changes: on screen after the refresh (only its section again)
        frozen.soft = 2222
        await read_again(pilot, screen)
        await pilot.pause()
        assert "2222" in painted(screen) and "1111" not in painted(screen)
        assert screen.sections.built == built + 1

        # the state changes (the process section)
        frozen.state = "R"
        await read_again(pilot, screen)
        await pilot.pause()
        assert "R (running)" in painted(screen) and "S (sleeping)" not in painted(screen)
        assert screen.sections.built == built + 2


async def test_reopening_renders_only_what_changed_and_shows_it() -> None:
    app = PidtopApp(ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1)
    async with app.run_test(size=(120, 40)) as pilot:
        source, frozen = await started(pilot, app)
        app._details_source = frozen  # type: ignore[assignment]
        app.show_details(PID, source.key_of(PID)[1], "python train.py")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        first = app.screen
        assert isinstance(first, DetailsScreen)
        await wait_for(pilot, lambda: first.reads >= 1)
        built = first.sections.built
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.screen is not first)

        frozen.soft = 3333  # the limits section changes between the two openings
        app.show_details(PID, source.key_of(PID)[1], "python train.py")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        again = app.screen
        assert again is first  # the kept screen, refilled
        await wait_for(pilot, lambda: again.reads >= 1 and again.is_current)
        await pilot.pause()
        assert again.sections is first.sections
        assert again.sections.built == built + 1  # the limits only
        assert "3333" in painted(again) and "1111" not in painted(again)
        assert "S (sleeping)" in painted(again)
