"""Each process screen and setup is whole at its first layout (issue 18: the first FULL paint,
nothing laid out differently or rebuilt after it).

A screen's frame is what its compositor draws (text and styles, every line). The frame at the
screen's first layout must be the frame once everything that opening it started has settled:
no footer that composes empty and fills in later, no scrollbar added by a second layout, no
notification rack shown after the first layout. Work counts, not timings.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import partial
from typing import Any

import pytest
from textual.screen import Screen
from uitools import wait_for as wait_for_condition

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.script import NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.widgets.footer import KeyFooter

wait_for = partial(wait_for_condition, timeout=10.0, step=0.01)


def frame(screen: Screen[Any]) -> str:
    """Every line the screen's compositor draws now, with its styles."""
    return "\n".join(
        "".join(f"{seg.text}\x00{seg.style}" for seg in strip)
        for strip in screen._compositor.render_strips()
    )


class Recorder:
    """The frame at each paint of each screen (the table's excluded)."""

    def __init__(self) -> None:
        self.frames: dict[str, list[str]] = {}
        self.recomposed: list[str] = []


@pytest.fixture
def recorder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    rec = Recorder()
    paint = Screen._compositor_refresh
    build = KeyFooter._build

    def recorded(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        paint(self, *args, **kwargs)
        name = type(self).__name__
        if name != "Screen":
            rec.frames.setdefault(name, []).append(frame(self))

    def counted(self: KeyFooter) -> None:
        if self._shown is not None:  # keys read again after the first paint's
            rec.recomposed.append(type(self.screen).__name__)
        build(self)

    monkeypatch.setattr(Screen, "_compositor_refresh", recorded)
    monkeypatch.setattr(KeyFooter, "_build", counted)
    yield rec


async def settle(pilot: Any) -> None:
    """Let what the opening started finish: queued callbacks, the refresh after them."""
    for _ in range(5):
        await pilot.pause()
    await pilot.wait_for_scheduled_animations()


@pytest.mark.parametrize("size", [(120, 40), (80, 16)])
@pytest.mark.parametrize(
    ("key", "name", "ready"),
    [
        ("enter", "DetailsScreen", "reads"),
        ("e", "EnvironScreen", "loaded"),
        ("l", "FilesScreen", "loaded"),
        ("E", "ExitsScreen", None),
        ("f2", "SetupScreen", None),
    ],
)
async def test_the_first_layout_is_the_whole_frame(
    recorder: Recorder, key: str, name: str, ready: str | None, size: tuple[int, int]
) -> None:
    app = PidtopApp(
        ScriptedSource(), delay=0.05, sample_limit=NEW_AT + 1, journal=ScriptedJournal()
    )
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= NEW_AT + 1)
        await settle(pilot)
        recorder.frames.clear()
        recorder.recomposed.clear()
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == name)
        if ready is not None:
            await wait_for(pilot, lambda: bool(getattr(app.screen, ready)))
        await settle(pilot)
        first, *later = recorder.frames[name]
        now = frame(app.screen)
        assert now == first, f"{name}: what it shows now is not its first frame"
        assert all(f == first for f in later), f"{name}: a later layout drew something else"
        assert recorder.recomposed == [], recorder.recomposed
        await pilot.press("escape")  # back to the table before the app ends
        await wait_for(pilot, lambda: type(app.screen).__name__ != name)
