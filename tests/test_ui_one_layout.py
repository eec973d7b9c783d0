"""Each screen opened from the table is laid out once, and that one layout is right (issue 18).

Textual lays a new screen out a second time ~25 ms after its first frame: every widget's
virtual size went from nothing to its size in the first layout (a layout reactive), and the
``AwaitMount`` of ``push_screen`` asks for one more. ``OneLayout`` drops both (and lays out
again before the first paint when a scrollbar came). Here each screen is opened as a user
does: no layout is done after its first paint, and its frame is the one Textual's second
layout would draw -- every widget and the screen asked for a layout again, as the echo did,
must not change a cell. Work counts and frames, not timings.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from textual.app import App
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Static
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.modal import StyledWhenMounted
from pidtop.ui.screens.signals import SignalScreen


@dataclass
class Seen:
    """What the screen named ``name`` did: each layout, and whether a paint came before it."""

    name: str = ""
    layouts: list[bool] = field(default_factory=list)  # per layout: after a paint?
    painted: bool = False


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Iterator[Seen]:
    rec = Seen()
    layout, paint = Screen._refresh_layout, Screen._compositor_refresh

    def counted_layout(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        if type(self).__name__ == rec.name:
            rec.layouts.append(rec.painted)
        layout(self, *args, **kwargs)

    def noted_paint(self: Screen[Any]) -> None:
        paint(self)
        if type(self).__name__ == rec.name and self is self.app.screen:
            rec.painted = True

    monkeypatch.setattr(Screen, "_refresh_layout", counted_layout)
    monkeypatch.setattr(Screen, "_compositor_refresh", noted_paint)
    yield rec


def lines(screen: Screen[Any]) -> list[str]:
    """The screen's frame: every line with its styles."""
    return screen._compositor.render_full_update().render_segments(screen.app.console)


def push_signal_picker(app: PidtopApp) -> None:
    app.push_screen(SignalScreen([("100:7", "sleep 100"), ("101:8", "sleep 200")]))


SCREENS: list[tuple[str, str]] = [
    ("f1", "HelpScreen"),
    ("f2", "SetupScreen"),
    ("k", "SignalScreen"),
    ("u", "UserScreen"),
    ("f6", "SortScreen"),
    ("L", "EventLogScreen"),
    ("ctrl+p", "Palette"),
]


@pytest.mark.parametrize("size", [(120, 40), (80, 20)])
@pytest.mark.parametrize(("key", "name"), SCREENS)
async def test_laid_out_once_and_rightly(
    seen: Seen, key: str, name: str, size: tuple[int, int]
) -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # no resample while a screen opens
    async with app.run_test(size=size) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.pause()
        seen.name = name
        if key == "k":  # the scripted processes are not signalled: the picker as the app opens it
            push_signal_picker(app)
        else:
            await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == name and seen.painted)
        for _ in range(5):  # what the opening started (AwaitMount, Layout messages) has run
            await pilot.pause(0.02)
        assert seen.layouts and not any(seen.layouts), (
            f"{name}: {seen.layouts.count(True)} layout(s) after its first paint"
        )
        # at most one more, before the paint: when the first layout changed a scrollbar
        assert len(seen.layouts) <= 2, seen.layouts
        screen = app.screen
        first = lines(screen)
        for widget in [*screen.walk_children(Widget), screen]:  # Textual's echo, by hand
            widget.refresh(layout=True)
        await wait_for(pilot, lambda: seen.layouts[-1])
        for _ in range(3):
            await pilot.pause(0.02)
        assert lines(screen) == first, f"{name}: a second layout draws another frame"
        await pilot.press("escape")
        await wait_for(pilot, lambda: type(app.screen).__name__ != name)


class _Marked(StyledWhenMounted, Static):
    """A widget that changes its classes in its constructor (as Textual's Input does)."""

    def __init__(self) -> None:
        super().__init__("x")
        self.add_class("tall")


class _Shows(App[None]):
    CSS = "_Marked.tall { height: 7; }"

    def compose(self) -> Any:
        yield _Marked()


async def test_a_widget_styled_when_mounted_has_the_styles_of_its_classes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """StyledWhenMounted: no styling before the widget is in the DOM; once mounted, the rules
    of the classes it took in its constructor apply."""
    styled: list[DOMNode] = []
    update = App.update_styles

    def counted(self: App[Any], node: DOMNode, animate: bool = True) -> None:
        styled.append(node)
        update(self, node, animate)

    monkeypatch.setattr(App, "update_styles", counted)
    app = _Shows()
    async with app.run_test(size=(40, 20)) as pilot:
        await pilot.pause()
        marked = app.query_one(_Marked)
        assert marked.has_class("tall") and marked.size.height == 7
        assert not any(isinstance(node, _Marked) for node in styled)
        marked.add_class("other")  # mounted: styled again at a change, as before
        assert styled and styled[-1] is marked
