"""The setup screen (F2, S): columns chosen and ordered, display settings, Esc/Save, mouse."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Checkbox, Input, SelectionList
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import COLUMNS, DEFAULT_COLUMNS
from pidtop.settings import config
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.setup import SetupScreen
from pidtop.ui.widgets.light import Cycle

SIZE = (120, 40)


def make_app(tmp_path: Path | None = None, **changes: object) -> PidtopApp:
    path = None if tmp_path is None else tmp_path / "config.toml"
    return PidtopApp(ScriptedSource(), Options(config_path=path), delay=3600.0, **changes)  # type: ignore[arg-type]


async def opened(pilot, key: str = "f2") -> SetupScreen:  # type: ignore[no-untyped-def]
    app = pilot.app
    await wait_for(pilot, lambda: app.samples_merged >= 1)
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    assert isinstance(app.screen, SetupScreen)
    return app.screen


@pytest.mark.parametrize("key", ["f2", "S"])
async def test_opens_with_every_registry_column_and_esc_cancels(key: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot, key)
        listed = screen.query_one("#setup-column-list", SelectionList)
        ids = [listed.get_option_at_index(i).value for i in range(listed.option_count)]
        assert sorted(ids) == sorted(c.id for c in COLUMNS)  # new columns appear by themselves
        assert ids[: len(DEFAULT_COLUMNS)] == list(DEFAULT_COLUMNS)  # shown first, in order
        await pilot.press("space", "escape")  # hide PID, then cancel: nothing changes
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert tuple(c.id for c in app.table.columns) == DEFAULT_COLUMNS


async def test_keyboard_show_and_move_a_column_then_save(tmp_path: Path) -> None:
    """One burst: End (last column: hidden), Space (show it), '[' x N (move it up to second
    place), ctrl+s. The table shows it there at once and the file holds the new list."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await opened(pilot)
        last = [c.id for c in COLUMNS if c.id not in DEFAULT_COLUMNS][-1]  # listed last
        n = len(COLUMNS) - 2  # from the last place to the second
        await pilot.press("end", "space", *["left_square_bracket"] * n, "ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        shown = [c.id for c in app.table.columns]
        assert shown[:2] == ["pid", last] and shown[2:] == list(DEFAULT_COLUMNS[1:])
        header = app.view.render_line(0).text
        assert header.split()[1] == app.table.columns[1].title
    saved = config.load(tmp_path / "config.toml")
    assert saved.problems == [] and saved.values["columns"] == tuple(shown)


async def test_display_settings_and_enter_applies(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await opened(pilot)
        screen.query_one("#setup-tree", Checkbox).value = True
        screen.query_one("#setup-show_kernel_threads", Checkbox).value = True
        delay = screen.query_one("#setup-delay", Input)
        delay.value = ""
        delay.focus()
        await pilot.press(*"2.5", "enter")  # Enter in a field applies
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert app.delay == 2.5 and app.table.tree and app.table.show_kernel_threads
        assert any("Settings saved to" in n.message for n in app._notifications)
    values = config.load(tmp_path / "config.toml").values
    assert values["delay"] == 2.5 and values["tree"] and values["show_kernel_threads"]


async def test_bad_value_is_refused_in_place(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        screen.query_one("#setup-delay", Input).value = "99"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert "0.1 to 60" in str(screen.query_one("#setup-error").render())
    assert not (tmp_path / "config.toml").exists()


async def test_mouse_toggle_move_defaults_and_save(tmp_path: Path) -> None:
    """Click a column's row to hide it, ▼ to move, Defaults to undo it all, Save."""
    app = make_app(tmp_path, columns=("pid", "user", "command"), tree=True)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        listed = screen.query_one("#setup-column-list", SelectionList)
        await pilot.click("#setup-column-list", offset=(4, 2))  # second row: USER
        await wait_for(pilot, lambda: "user" not in screen.shown)
        listed.highlighted = 0
        await pilot.click("#setup-down")
        await wait_for(pilot, lambda: screen.order[:2] == ["user", "pid"])
        await pilot.click("#setup-defaults")
        await pilot.pause()
        assert screen.order[: len(DEFAULT_COLUMNS)] == list(DEFAULT_COLUMNS)
        assert not screen.query_one("#setup-tree", Checkbox).value
        await pilot.click("#setup-save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert tuple(c.id for c in app.table.columns) == DEFAULT_COLUMNS and not app.table.tree


async def test_no_config_applies_without_saving(tmp_path: Path) -> None:
    app = make_app()  # config_path None: --no-config
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        screen = await opened(pilot)
        screen.query_one("#setup-tree", Checkbox).value = True
        await pilot.press("ctrl+s")
        await wait_for(pilot, lambda: app.table.tree)
        assert any("not saved" in n.message for n in app._notifications)


def header_text(app: PidtopApp) -> str:
    return "\n".join(app.meters.render_line(y).text for y in range(app.meters.size.height))


async def test_keyboard_hide_and_move_a_meter_then_save(tmp_path: Path) -> None:
    """Tab to the meter list, then one burst: Down, Space (hide memory), End, '[' (uptime above
    load), ctrl+s: the header changes at once and the file holds the new list."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        before = header_text(app)
        assert "Mem[" in before and before.index("Load average:") < before.index("Uptime:")
        meters = screen.query_one("#setup-meter-list", SelectionList)
        # column list -> Up, Down -> the display part (it scrolls) -> the meter list
        await pilot.press("tab", "tab", "tab", "tab")
        await wait_for(pilot, lambda: screen.focused is meters)
        await pilot.press("down", "space", "end", "left_square_bracket", "ctrl+s")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await pilot.pause()
        assert app.meters.meters == ("cpu", "swap", "tasks", "uptime", "load")
        after = header_text(app)
        assert "Mem[" not in after and "Swp[" in after
        assert after.index("Uptime:") < after.index("Load average:")
        assert [c.id for c in app.table.columns] == list(DEFAULT_COLUMNS)  # columns untouched
    saved = config.load(tmp_path / "config.toml")
    assert saved.problems == [] and saved.values["meters"] == app.options.meters


async def test_mouse_hide_and_move_a_meter(tmp_path: Path) -> None:
    """Click the swap row to hide it, ▲ moves the highlighted meter (load above tasks)."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        meters = screen.query_one("#setup-meter-list", SelectionList)
        await pilot.click("#setup-meter-list", offset=(4, 3))  # third row: swap
        await wait_for(pilot, lambda: "swap" not in screen.meters_shown)
        meters.highlighted = 4  # load
        await pilot.click("#setup-meter-up")
        await wait_for(pilot, lambda: screen.meter_order[3:5] == ["load", "tasks"])
        assert screen.order[: len(DEFAULT_COLUMNS)] == list(DEFAULT_COLUMNS)  # columns kept
        await pilot.click("#setup-save")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await pilot.pause()
        assert app.meters.meters == ("cpu", "memory", "load", "tasks", "uptime")
        text = header_text(app)
        assert "Swp[" not in text and text.index("Load average:") < text.index("Tasks:")


async def test_the_first_setup_brings_no_heavy_widget_classes() -> None:
    """Issue 18: its first F2 after the app's warm-up adds only the list's and the scrolling
    pane's default CSS to the stylesheet (Textual's Button and Select brought theirs, ~5 ms to
    parse, and the Select four widgets more), and it stays within 33 widgets."""
    from pidtop.ui.screens.warm import warm_styles

    app = make_app()
    app._warm_styles = lambda: None  # type: ignore[method-assign] # (its timer: here)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        warm_styles(app)
        sources = set(app.stylesheet.source)
        screen = await opened(pilot)
        added = {name for _, name in set(app.stylesheet.source) - sources}
        assert added <= {"SelectionList.DEFAULT_CSS", "VerticalScroll.DEFAULT_CSS"}, added
        assert len(list(screen.walk_children())) <= 33


async def test_theme_chosen_by_keys_and_mouse_then_saved(tmp_path: Path) -> None:
    """The theme line (◀ name ▶): → and Space step on, a click on ◀ steps back; Save (Enter on
    it) uses it."""
    app = make_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        screen = await opened(pilot)
        themes, start = screen.themes, app.theme
        step = themes.index(start)
        chooser = screen.query_one("#setup-theme", Cycle)
        chooser.focus()
        await pilot.press("right", "space")
        assert chooser.value == themes[(step + 2) % len(themes)]
        assert "◀ " + chooser.value + " ▶" in str(chooser.render())
        await pilot.click("#setup-theme", offset=(1, 0))  # on the ◀
        assert chooser.value == themes[(step + 1) % len(themes)]
        screen.query_one("#setup-save").focus()
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        assert app.theme == themes[(step + 1) % len(themes)] != start
