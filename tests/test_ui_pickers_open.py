"""The pickers, the event log and the palette: their first frame is their whole frame (issue 18).

Work counts and frames, not timings (benchmarks/keys.py measures those). Each screen is
opened the way a user does and every frame the app paints while it opens is kept (the
screen's text and colours): the first must already be the last. Nothing asks the screen for a
layout from a paint (Textual's option list learned its lines in its first paint and asked for
another layout) or after it, and the screen is laid out at most twice: its layout and
Textual's echo of the sizes it gave (``Widget._size_updated`` sets each widget's virtual size,
a layout reactive) -- no third for a filled list, a scrollbar or a scroll. Then they work as
before: the list scrolled to its highlight, keys, type-ahead, Enter and Esc.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.app import SystemCommand
from textual.command import CommandList, CommandPalette
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import OptionList
from uitools import burst, wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.dialogs import SortScreen, UserScreen
from pidtop.ui.screens.eventlog import EventLogScreen, EventLogView
from pidtop.ui.screens.signals import SignalScreen

SIZE = (120, 40)


@dataclass
class Opening:
    """What a screen of class ``name`` did while it opened."""

    name: str = ""
    frames: list[str] = field(default_factory=list)  # each paint: the screen's lines
    layouts: int = 0
    late: list[str] = field(default_factory=list)  # layout requests from a paint or after it
    painting: bool = False


@pytest.fixture
def opening(monkeypatch: pytest.MonkeyPatch) -> Iterator[Opening]:
    seen = Opening()
    layout, paint, refresh = Screen._refresh_layout, Screen._compositor_refresh, Widget.refresh

    def counted_layout(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        if type(self).__name__ == seen.name:
            seen.layouts += 1
        layout(self, *args, **kwargs)

    def kept_paint(self: Screen[Any]) -> None:
        seen.painting = True
        try:
            paint(self)
        finally:
            seen.painting = False
        if type(self).__name__ == seen.name and self is self.app.screen:
            lines = self._compositor.render_full_update().render_segments(self.app.console)
            seen.frames.append(lines)

    def watched_refresh(self: Widget, *args: Any, layout: bool = False, **kwargs: Any) -> Any:
        if layout and seen.painting and seen.name and _on(self, seen.name):
            seen.late.append(f"{type(self).__name__}#{self.id}")
        return refresh(self, *args, layout=layout, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted_layout)
    monkeypatch.setattr(Screen, "_compositor_refresh", kept_paint)
    monkeypatch.setattr(Widget, "refresh", watched_refresh)
    yield seen


def _on(widget: Widget, name: str) -> bool:
    try:
        return type(widget.screen).__name__ == name
    except Exception:
        return False


def make_app() -> PidtopApp:
    return PidtopApp(ScriptedSource(), delay=3600.0)  # no resample while a screen opens


async def open_screen(app: PidtopApp, pilot: Any, seen: Opening, name: str, how: Callable[[], Any]):
    await wait_for(pilot, lambda: app.samples_merged >= 2)
    await pilot.pause()
    seen.name = name
    await how()
    await wait_for(pilot, lambda: type(app.screen).__name__ == name and bool(seen.frames))
    for _ in range(5):
        await pilot.pause(0.02)
    return app.screen


def signal_picker(app: PidtopApp) -> Callable[[], Any]:
    async def push() -> None:
        app.push_screen(SignalScreen([("100:7", "sleep 100")]))

    return push


OPENERS: dict[str, Callable[[PidtopApp, Any], Callable[[], Any]]] = {
    "SortScreen": lambda app, pilot: lambda: pilot.press("f6"),
    "UserScreen": lambda app, pilot: lambda: pilot.press("u"),
    "EventLogScreen": lambda app, pilot: lambda: pilot.press("L"),
    "SignalScreen": lambda app, pilot: signal_picker(app),
    "Palette": lambda app, pilot: lambda: pilot.press("ctrl+p"),
}


@pytest.mark.parametrize("name", list(OPENERS))
async def test_the_first_frame_is_the_whole_frame(opening: Opening, name: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await open_screen(app, pilot, opening, name, OPENERS[name](app, pilot))
        final = screen._compositor.render_full_update().render_segments(app.console)
        assert opening.frames, "no frame painted"
        assert all(frame == final for frame in opening.frames), (
            f"{len(opening.frames)} frames, the first is not the last"
        )
        assert opening.late == [], opening.late
        assert opening.layouts <= 2, opening.layouts


async def test_the_signal_list_opens_on_sigterm_at_its_top() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        app.push_screen(SignalScreen([("100:7", "sleep 100")]))
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        await pilot.pause()
        signals = app.screen.query_one("#signal-list", OptionList)
        assert signals.show_vertical_scrollbar  # more signals than rows
        top = int(signals.scroll_offset.y)
        assert signals.render_line(0).text.strip() == "15 SIGTERM"
        assert top == signals.highlighted
        # keys still move the highlight, a filter still refills the list, Enter picks
        await pilot.press("down")
        assert signals.get_option_at_index(signals.highlighted or 0).id == "escalate"
        picked: list[Any] = []
        app.screen.dismiss = picked.append  # type: ignore[method-assign,assignment]
        await burst(pilot, "9", "enter")
        assert picked and picked[0].signal == 9


async def test_the_sort_and_user_pickers_still_pick(opening: Opening) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await burst(pilot, "f6", "down", "enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SortScreen))
        assert app.table.sort_column != "cpu"
        await pilot.press("u")
        await wait_for(pilot, lambda: isinstance(app.screen, UserScreen))
        users = app.screen.query_one(OptionList)
        assert users.highlighted == 0 and users.virtual_size.height == users.option_count
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, UserScreen))


async def test_the_palette_lists_what_textuals_search_lists() -> None:
    """The commands composed into the palette are those (prompts, help, order) that Textual's
    own first search puts there; typing searches, emptying the text lists them again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
        palette = app.screen
        listed = palette.query_one(CommandList)
        ours = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert listed.highlighted == 0 and len(ours) > 20
        await pilot.press("x")
        await wait_for(pilot, lambda: listed.option_count < len(ours))
        await pilot.press("backspace")
        await wait_for(pilot, lambda: listed.option_count == len(ours))
        theirs = [str(listed.get_option_at_index(i).prompt) for i in range(listed.option_count)]
        assert theirs == ours
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))


async def test_a_long_event_log_opens_at_its_end_in_its_first_frame(opening: Opening) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        for i in range(200):
            app.events.add("error", f"{i}:1", f"entry {i}", ok=False)
        screen = await open_screen(app, pilot, opening, "EventLogScreen", lambda: pilot.press("L"))
        assert isinstance(screen, EventLogScreen)
        view = screen.query_one(EventLogView)
        last = view.line_text(view.scrollable_content_region.height - 1)
        assert "entry 199" in last
        final = screen._compositor.render_full_update().render_segments(app.console)
        assert all(frame == final for frame in opening.frames), len(opening.frames)
        assert opening.layouts <= 2, opening.layouts


async def test_the_palette_typed_ahead_runs_the_typed_command() -> None:
    """ctrl+p, a title and Enter as one burst (a paste, a fast typist): the typed command runs,
    not the first one listed when the palette opened."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await burst(pilot, "ctrl+p", *"Pause", "enter")
        await wait_for(pilot, lambda: app.paused and not isinstance(app.screen, CommandPalette))
        assert app.table.sort_column == "cpu" and not app.table.tree


async def test_the_palette_reopens_with_its_commands_kept_while_they_are_the_same() -> None:
    """A second ctrl+p lists the commands (and their lines) made at the first, drawn the same;
    once the app's entries change (a key rebound, a command more) they are made again."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)

        async def opened() -> tuple[list[Any], list[str]]:
            await pilot.press("ctrl+p")
            await wait_for(pilot, lambda: isinstance(app.screen, CommandPalette))
            await pilot.pause()
            listed = app.screen.query_one(CommandList)
            options = [listed.get_option_at_index(i) for i in range(listed.option_count)]
            frame = app.screen._compositor.render_full_update().render_segments(app.console)
            await pilot.press("escape")
            await wait_for(pilot, lambda: not isinstance(app.screen, CommandPalette))
            return options, frame

        first, first_frame = await opened()
        second, second_frame = await opened()
        assert len(second) == len(first) and all(a is b for a, b in zip(first, second, strict=True))
        assert second_frame == first_frame
        entries = app.get_system_commands

        def one_more(screen: Any) -> Any:
            yield from entries(screen)
            yield SystemCommand("Aardvark", "a command added since", lambda: None)

        app.get_system_commands = one_more  # type: ignore[method-assign]
        third, _ = await opened()
        assert str(third[0].prompt).startswith("Aardvark")
        assert not any(a is b for a, b in zip(first, third[1:], strict=True))
