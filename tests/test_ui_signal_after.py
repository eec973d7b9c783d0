"""The kill picker: changing the "escalate after" delay keeps the signal the user highlighted.
It refilled the list and highlighted plain SIGTERM again, so choosing "SIGTERM, then SIGKILL
after N s", then typing another delay and Enter sent SIGTERM alone (no SIGKILL ever came)."""

from __future__ import annotations

import signal

import pytest
from textual.app import App
from textual.widgets import Input

from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import SignalChoice, SignalScreen


class PickerApp(App[None]):
    CSS_PATH = PidtopApp.CSS_PATH


@pytest.mark.parametrize("burst", [False, True])
async def test_new_delay_keeps_the_escalation_chosen(burst: bool) -> None:
    app = PickerApp()
    chosen: list[SignalChoice | None] = []
    async with app.run_test(size=(80, 24)) as pilot:
        screen = SignalScreen([("4242:1004242", "sleep 1000")])
        app.push_screen(screen, chosen.append)
        await pilot.pause()
        # Down: the escalation (right under SIGTERM); Tab Tab: its delay field; 2 s; Enter
        keys = ["down", "tab", "tab", "backspace", "2"]
        if burst:
            await pilot.press(*keys)
        else:
            for key in keys:
                await pilot.press(key)
                await pilot.pause()
        await pilot.pause()
        assert app.focused is screen.query_one("#signal-after", Input)
        await pilot.press("enter")
        await pilot.pause()
    assert chosen == [SignalChoice(signal.SIGTERM, True, 2.0)]


@pytest.mark.parametrize("tree", [0, 3])
async def test_the_hint_is_on_screen_at_80x24_with_or_without_the_tree_box(tree: int) -> None:
    """At 80x24 the signal list gives up rows so that every line below it stays inside the box:
    the whole-tree box (three rows: it has a border) used to push "Enter sends · Esc cancels"
    out of it."""
    app = PickerApp()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = SignalScreen([("4242:1004242", "sleep 1000")], tree=tree)
        app.push_screen(screen)
        await pilot.pause()
        box = screen.query_one("#signal-box").content_region
        hint = screen.query_one(".chooser-hint").region
        assert hint.height == 1 and box.contains_region(hint), (hint, box)
