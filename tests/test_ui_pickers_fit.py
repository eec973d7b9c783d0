"""Dialogs fit the terminal at 80x24 and 120x40. The ``i`` and ``a`` pickers: their key hint (how
to apply, how to cancel) is shown whole, wrapped inside the box (it used to be cut at the box's
edge, and the I/O priority list pushed it below the screen at 80x24). The signal confirmation:
its Yes/No buttons stay on screen however many targets and reasons it lists (at 80x24 a whole
pinned tree pushed them out of sight)."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.screen import ModalScreen
from textual.widgets import Button, Label

from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import ConfirmScreen
from pidtop.ui.screens.tuning import AffinityScreen, IoniceScreen


class PickerApp(App[None]):
    CSS_PATH = PidtopApp.CSS_PATH


def _screens() -> list[ModalScreen[object]]:
    return [
        IoniceScreen(["24046:1228383"], (0, 0)),
        AffinityScreen(["24046:1228383"], list(range(8)), {0, 1}),
    ]


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
@pytest.mark.parametrize("which", [0, 1])
async def test_picker_hint_is_whole_and_inside_the_box(size: tuple[int, int], which: int) -> None:
    app = PickerApp()
    async with app.run_test(size=size) as pilot:
        screen = _screens()[which]
        await app.push_screen(screen)
        await pilot.pause()
        box = screen.query_one(".picker-box")
        hint = screen.query(Label).last()
        assert "Esc cancels" in str(hint.render())
        assert box.content_region.contains_region(hint.region), (box.content_region, hint.region)
        assert screen.region.contains_region(box.region)


def _confirm_screen() -> ConfirmScreen:
    """The confirmation of SIGTERM to a whole pinned tree: many targets, long reasons."""
    long = "/process_api --firecracker-init --addr 0.0.0.0:2024 --max-ws-buffer-size 32768 " * 2
    targets = [(f"{pid}:{pid + 1000}", f"{long} {pid}") for pid in range(1, 37)]
    reasons = [
        f"PID 1 ({long}) is the init process",
        f"PID 7161 is pidtop's parent (bash -c {long})",
        "PID 7163 is pidtop itself",
    ]
    return ConfirmScreen("Send SIGTERM", targets, reasons)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)])
async def test_confirmation_buttons_stay_on_screen(size: tuple[int, int]) -> None:
    app = PickerApp()
    async with app.run_test(size=size) as pilot:
        screen = _confirm_screen()
        await app.push_screen(screen)
        await pilot.pause()
        box = screen.query_one("#confirm-box")
        assert screen.region.contains_region(box.region)
        for button in screen.query(Button):
            assert box.region.contains_region(button.region), (box.region, button.region)
