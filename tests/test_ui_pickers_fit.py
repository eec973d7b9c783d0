"""The ``i`` and ``a`` pickers fit the terminal: their key hint (how to apply, how to cancel) is
shown whole, wrapped inside the box, at 80x24 and 120x40 (it used to be cut at the box's edge,
and the I/O priority list pushed it below the screen at 80x24)."""

from __future__ import annotations

import pytest
from textual.app import App
from textual.screen import ModalScreen
from textual.widgets import Label

from pidtop.ui.app import PidtopApp
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
