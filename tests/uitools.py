"""Helpers shared by the Pilot tests: a bounded wait on a condition and readers of app state."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from textual import events
from textual.keys import REPLACED_KEYS, _character_to_key, _get_unicode_name_from_key
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


def key_event(key: str) -> events.Key:
    """The ``Key`` event the terminal driver makes for ``key`` (``"k"``, ``"slash"``, ``"/"``,
    ``"enter"``, ``"f9"``), as ``Pilot.press`` builds it."""
    if len(key) == 1 and not key.isalnum():
        key = _character_to_key(key)
    try:
        char: str | None = unicodedata.lookup(
            _get_unicode_name_from_key(REPLACED_KEYS.get(key, key))
        )
    except KeyError:
        char = key if len(key) == 1 else None
    return events.Key(key, char)


async def burst(pilot: Pilot, *keys: str) -> None:
    """Type ``keys`` as ONE burst, as a paste or a slow ssh link delivers them: every key is
    queued on the app before the first is handled. (``Pilot.press`` waits for the app to be
    idle after each key, so it never shows what a fast typist or a paste does.) Then wait
    until the app is idle again."""
    app = pilot.app
    for key in keys:
        event = key_event(key)
        event.set_sender(app)
        app.post_message(event)
    await pilot.pause()
    await pilot._wait_for_screen()
