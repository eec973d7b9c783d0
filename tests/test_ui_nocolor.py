"""Setup and the pickers without colour (``NO_COLOR=1``, ``TERM=vt100``): what the terminal
gets, after pidtop's output filters, stored as text snapshots (``--snapshot-update`` renews
them). A cell in reverse video is shown between ``«`` and ``»``; no colour may reach the
terminal at all. A checkbox says its state in text (``[x]`` / ``[ ]``): without colour an on
and an off box once printed the same bytes."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from rich.segment import Segment
from textual.pilot import Pilot

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.demo.handles import ScriptedOpener
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.display import DisplayProfile, apply_display_profile
from pidtop.ui.screens.tuning import AffinityScreen

PROFILES = {"NO_COLOR": DisplayProfile(color=False), "vt100": DisplayProfile(False, False)}


def terminal_text(app: PidtopApp) -> str:
    """The screen as the terminal gets it: lines through the app's filters; reverse marked."""
    update = app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    lines = []
    for chops in update.strips:  # type: ignore[union-attr]
        segments: list[Segment] = [s for strip in chops for s in strip]
        for line_filter in app._filters:
            segments = line_filter.apply(segments, app.screen.styles.background)
        text = ""
        for seg in segments:
            style = seg.style
            for color in (style.color, style.bgcolor) if style is not None else ():
                assert color is None or color.is_default, style  # no colour code sent
            text += f"«{seg.text}»" if style is not None and style.reverse else seg.text
        lines.append(text.replace("»«", "").rstrip())
    return "\n".join(lines)


async def _setup(pilot: Pilot) -> None:
    await pilot.press("f2")
    await pilot.pause()
    await pilot.press("down", "space")  # USER hidden, the cursor on it


async def _sort(pilot: Pilot) -> None:
    await pilot.press("f6", "down")


async def _signal(pilot: Pilot) -> None:
    app = pilot.app
    assert isinstance(app, PidtopApp) and isinstance(app.source, ScriptedSource)
    row = app.view.cursor_row
    assert row is not None
    app.opener.add(row.info.pid, row.key[1])  # type: ignore[attr-defined]
    await pilot.press("k")
    for _ in range(500):  # the picker opens once the targets are read (a worker)
        if type(pilot.app.screen).__name__ == "SignalScreen":
            break
        await pilot.pause(0.01)
    await pilot.press("down")


async def _user(pilot: Pilot) -> None:
    await pilot.press("u", "down")


async def _affinity(pilot: Pilot) -> None:  # fixed CPUs: the machine's would vary
    pilot.app.push_screen(AffinityScreen(["1400:1001400 python3"], [0, 1, 2, 3], {0, 2}))
    await pilot.pause()
    await pilot.press("down")


SCREENS: dict[str, Callable[[Pilot], Awaitable[None]]] = {
    "setup": _setup, "sort": _sort, "signal": _signal, "user": _user, "affinity": _affinity,
}  # fmt: skip


@pytest.mark.parametrize("screen", sorted(SCREENS))
@pytest.mark.parametrize("profile", sorted(PROFILES))
async def test_without_colour(profile: str, screen: str, snapshot: object) -> None:
    source, opener = ScriptedSource(), ScriptedOpener()
    pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=opener)
    app = PidtopApp(source, delay=0.05, sample_limit=3, pins=pins)
    app.opener = opener  # type: ignore[attr-defined]
    apply_display_profile(app, PROFILES[profile])
    async with app.run_test(size=(80, 24)) as pilot:
        for _ in range(500):
            if app.samples_merged >= 3 and not app._sampling:
                break
            await pilot.pause(0.01)
        app.theme = "textual-dark"
        await SCREENS[screen](pilot)
        await pilot.pause()
        text = terminal_text(app)
    assert "«" in text, "the cursor is drawn in reverse video"
    if screen in ("setup", "affinity"):
        assert "[x]" in text and "[ ]" in text
    assert text == snapshot
