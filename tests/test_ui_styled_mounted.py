"""The app styles a widget when it is mounted, not at each class change before; a pushed
screen is painted whole once (issue 18).

``PidtopApp.update_styles`` skips a node not yet in the DOM (Textual styles one at every class
change, even in its constructor). What must still hold: a widget mounted after such changes
has the rules of its classes then; a theme change and a change of the app's classes restyle
every mounted widget, on the table and on a screen pushed over it.
"""

from __future__ import annotations

from typing import Any

import pytest
from textual._compositor import LayoutUpdate
from textual.app import App, ComposeResult
from textual.color import Color
from textual.css.stylesheet import Stylesheet
from textual.dom import DOMNode
from textual.screen import Screen
from textual.widgets import Static
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.modal import Modal

SIZE = (120, 40)


class _Probe(Static):
    """Changes its classes before it is mounted, as Textual's Input does in its constructor."""

    SCOPED_CSS = False  # the app's class in a selector
    DEFAULT_CSS = """
    _Probe { height: 1; }
    _Probe.tall { height: 5; background: $primary; }
    App.-probe-wide _Probe.tall { height: 9; }
    """

    def __init__(self) -> None:
        super().__init__("probe")
        self.add_class("tall")
        self.remove_class("none")
        self.set_class(True, "tall")


class _Over(Modal[None]):
    def compose(self) -> ComposeResult:
        yield _Probe()


@pytest.fixture
def styled(monkeypatch: pytest.MonkeyPatch) -> list[DOMNode]:
    """Every node the stylesheet is applied to."""
    nodes: list[DOMNode] = []
    apply = Stylesheet.apply

    def counted(self: Stylesheet, node: DOMNode, *args: Any, **kwargs: Any) -> None:
        nodes.append(node)
        apply(self, node, *args, **kwargs)

    monkeypatch.setattr(Stylesheet, "apply", counted)
    return nodes


async def test_a_widget_is_styled_once_when_mounted_with_its_classes_then(
    styled: list[DOMNode],
) -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        probe = _Probe()
        assert probe not in styled  # three class changes, no styling yet
        await app.screen.mount(probe)
        await pilot.pause()
        assert styled.count(probe) == 1
        assert probe.outer_size.height == 5
        assert probe.styles.background == Color.parse(app.current_theme.primary)
        probe.remove_class("tall")  # mounted: a change restyles it, as before
        await pilot.pause()
        assert styled.count(probe) == 2 and probe.outer_size.height == 1


@pytest.mark.parametrize("where", ["table", "modal"])
async def test_a_theme_change_and_an_app_class_restyle_mounted_widgets(where: str) -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        if where == "modal":
            app.push_screen(_Over())
            await wait_for(pilot, lambda: bool(app.screen.query(_Probe)))
        else:
            await app.screen.mount(_Probe())
        probe = app.screen.query_one(_Probe)
        await pilot.pause()
        before = probe.styles.background
        other = next(n for n in ("textual-light", "gruvbox", "nord") if n != app.theme)
        app.theme = other
        await pilot.pause()
        assert probe.styles.background == Color.parse(app.get_theme(other).primary) != before
        app.add_class("-probe-wide")  # the app's classes (as the no-colour mode sets them)
        await pilot.pause()
        assert probe.styles.height is not None and probe.styles.height.value == 9
        app.remove_class("-probe-wide")
        await pilot.pause()
        assert probe.styles.height is not None and probe.styles.height.value == 5


@pytest.fixture
def paints(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, bool]]:
    """Every frame the app writes: (the screen's class, whether it is the whole screen)."""
    frames: list[tuple[str, bool]] = []
    display = App._display

    def counted(self: App[Any], screen: Screen[Any], renderable: Any) -> None:
        if renderable is not None:
            frames.append((type(screen).__name__, isinstance(renderable, LayoutUpdate)))
        display(self, screen, renderable)

    monkeypatch.setattr(App, "_display", counted)
    return frames


@pytest.mark.parametrize("key", ["full_stop", "u"])
async def test_a_picker_is_painted_whole_once_and_the_table_beneath_still_shows_through(
    key: str, paints: list[tuple[str, bool]]
) -> None:
    """push_screen's repaint of the table beneath (unseen) and the resume's and the mount's
    repaints are not a second whole paint; a change of the table beneath still is painted."""
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.pause()
        paints.clear()
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ != "Screen")
        for _ in range(5):
            await pilot.pause(0.02)
        name = type(app.screen).__name__
        assert paints == [(name, True)]
        merged = app.samples_merged
        app.sample_now()  # the table beneath changes: seen through the dimmed background
        await wait_for(pilot, lambda: app.samples_merged > merged)
        await wait_for(pilot, lambda: len(paints) > 1)
        assert all(screen == name for screen, _ in paints)
