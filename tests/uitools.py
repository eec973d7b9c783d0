"""Helpers shared by the Pilot tests: a bounded wait on a condition and readers of app state."""

from __future__ import annotations

from collections.abc import Callable

from textual.pilot import Pilot

from pidtop.ui.app import PidtopApp


async def wait_for(
    pilot: Pilot, cond: Callable[[], bool], timeout: float = 10.0, step: float = 0.02
) -> None:
    """Pump the event loop until ``cond()`` holds (bounded: ``timeout`` seconds in ``step``s)."""
    for _ in range(int(timeout / step)):
        if cond():
            return
        await pilot.pause(step)
    assert cond(), "condition not reached in time"


async def resample(pilot: Pilot, timeout: float = 10.0) -> None:
    """Take one more sample now and wait until it is merged (each wait bounded by ``timeout``)."""
    app = pilot.app
    assert isinstance(app, PidtopApp)
    before = app.samples_merged
    await wait_for(pilot, lambda: not app._sampling, timeout)
    app.sample_now()
    await wait_for(pilot, lambda: app.samples_merged > before, timeout)
    await pilot.pause()


def strip_text(app: PidtopApp) -> str:
    """The text the pinned strip draws now, one line per row."""
    strip = app.strip
    return "\n".join(strip.render_line(y).text for y in range(strip.size.height))


def notes(app: PidtopApp) -> list[str]:
    """The messages of the notifications shown so far."""
    return [n.message for n in app._notifications]
