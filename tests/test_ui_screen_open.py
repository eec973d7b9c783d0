"""Opening a screen over the table does each piece of work once (issue 18: screens within 50 ms).

Work counts, not timings (benchmarks/keys.py measures those): a pushed screen is laid out once
at its size (Textual's echo ``Resize`` is dropped) and the table beneath is not laid out again;
a terminal resize with the screen open still lays both out at the new size; the footer is not
rebuilt by a push or a pop, only when its keys change; a kept screen shows what is true now.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
from rich.cells import cell_len
from rich.console import Console
from rich.text import Text
from textual.screen import Screen
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.actions import help_rows
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.dialogs import SortScreen
from pidtop.ui.screens.help import GAP, HelpScreen, KeyTable, key_lines
from pidtop.ui.widgets.footer import KeyFooter

SIZE = (120, 40)


def make_app(**kwargs: object) -> PidtopApp:
    kwargs.setdefault("delay", 3600.0)
    return PidtopApp(ScriptedSource(), **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def layouts(monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """Full layouts per screen class, counted from the moment the test clears the counter."""
    counts: Counter[str] = Counter()
    layout = Screen._refresh_layout

    def counted(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        counts[type(self).__name__] += 1
        layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    yield counts


async def started(app: PidtopApp, pilot: Any) -> None:
    await wait_for(pilot, lambda: app.samples_merged >= 2)
    await pilot.pause()


async def test_a_pushed_screen_is_laid_out_once_and_the_table_not_again(
    layouts: Counter[str],
) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        layouts.clear()
        echoes = Counter[str]()
        resize = Screen._screen_resized

        def screen_resized(self: Screen[Any], size: Any) -> None:
            echoes[type(self).__name__] += 1
            resize(self, size)

        Screen._screen_resized = screen_resized  # type: ignore[method-assign]
        try:
            await pilot.press("f6")
            await wait_for(pilot, lambda: isinstance(app.screen, SortScreen))
            await pilot.pause()
        finally:
            Screen._screen_resized = resize  # type: ignore[method-assign]
        assert echoes == Counter(), echoes  # no Resize echo laid anything out again
        assert layouts["Screen"] == 0, layouts  # the table screen beneath: not laid out
        assert layouts["SortScreen"] >= 1


async def test_a_terminal_resize_with_a_screen_open_lays_both_out(layouts: Counter[str]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("f6")
        await wait_for(pilot, lambda: isinstance(app.screen, SortScreen))
        await pilot.pause()
        layouts.clear()
        await pilot.resize_terminal(100, 30)
        await wait_for(pilot, lambda: app.screen.outer_size == (100, 30))
        await wait_for(pilot, lambda: app.screen_stack[0].outer_size == (100, 30))
        assert layouts["SortScreen"] >= 1 and layouts["Screen"] >= 1, layouts
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SortScreen))
        assert app.view.size.width == 100


async def test_the_footer_is_not_rebuilt_by_a_push_or_a_pop() -> None:
    """Its keys are the same under a dialog: not read again (Textual's footer recomposed a
    widget per key, then laid the table screen out). A keymap change still shows the new key."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        footer = app.query_one(KeyFooter)
        builds = footer.builds
        for key in ("f6", "escape", "u", "escape", "f1", "escape"):
            await pilot.press(key)
            await pilot.pause()
        assert footer.builds == builds
        app.set_keymap({"tree": "ctrl+t"})
        await pilot.pause()
        await wait_for(pilot, lambda: footer.builds == builds + 1)
        shown = footer.plain
        assert "^tTree" in shown and "F5Tree" not in shown, shown


async def test_a_kept_help_opens_again_at_its_top() -> None:
    """Scrolled to its end, closed, opened again: the kept help is at its top, its box focused
    (it reopened where it was left), drawn as the first opening drew it."""
    app = make_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await started(app, pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        first_shot = app.export_screenshot()
        box = app.screen.query_one("#help-box")
        await pilot.press("end")
        await wait_for(pilot, lambda: box.scroll_y > 0)
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert box.scroll_y == 0 and app.focused is box
        assert app.export_screenshot() == first_shot


async def test_the_help_is_kept_while_the_keymap_is_the_same() -> None:
    """The second F1 shows the same screen, drawn once; a new keymap gets a new help that shows
    its keys (never the keys of the keymap the first help was made for)."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        first = app.screen
        table = first.query_one(KeyTable)
        await pilot.pause()
        draws = table.draws
        assert draws >= 1
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        await pilot.pause()
        assert app.screen is first and table.draws == draws  # nothing drawn again
        await pilot.press("escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, HelpScreen))

        app.options = app.options.replace(keymap={"kill": "f9,ctrl+k"})
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        second = app.screen
        assert second is not first and not first.is_attached  # the old one is gone
        drawn = "\n".join(t.plain for t in second.query_one(KeyTable).lines(100))
        assert "F9 or ctrl+k" in drawn


def test_the_help_lines_are_rich_wrapped_at_every_width() -> None:
    """``key_lines`` skips Rich's wrap for a text that fits its column (most of them): its
    lines are still those of wrapping every text, at widths from narrow to wide."""
    rows = list(help_rows({}))
    key_width = max(len(keys) for _, keys, _ in rows)
    console = Console()
    for width in (10, 40, 86, 88, 97, 200):
        room = max(1, width - key_width - GAP)
        widest: dict[str, int] = {}
        for group, _, text in rows:
            widest[group] = max(widest.get(group, 0), cell_len(text))
        wrapped: list[str] = []
        for group, keys, text in rows:
            column = min(widest[group], room)
            for i, part in enumerate(Text(text).wrap(console, column)):
                part.pad_right(column - part.cell_len)
                wrapped.append((keys if i == 0 else "").ljust(key_width + GAP) + part.plain)
        lines = [line for line in key_lines({}, width) if line.style != "bold underline"]
        assert [line.plain for line in lines if line.plain] == wrapped, width
        assert all(line.spans[0].style == "bold" for line in lines if line.plain)


async def _setup_shot(app: PidtopApp, pilot: Any) -> str:
    from pidtop.ui.screens.setup import SetupScreen

    await pilot.press("f2")
    await wait_for(pilot, lambda: isinstance(app.screen, SetupScreen))
    await pilot.pause()
    return app.export_screenshot()


async def test_a_kept_setup_opens_as_a_new_one_would_with_the_settings_of_now() -> None:
    """Setup opened, changed everywhere and cancelled, the settings then changed from the
    table (tree, sort): F2 again shows what a first F2 shows in an app in that state."""
    from pidtop.ui.screens.setup import SetupScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await _setup_shot(app, pilot)
        first = app.screen
        await pilot.press("end", "space", "left_square_bracket", "tab", "space", "tab")
        await pilot.press("tab", "tab", "tab", "enter", "down")  # the theme list opened
        for field in ("#setup-delay", "#setup-confirm", "#setup-after"):
            app.screen.query_one(field).focus()
            await pilot.press("backspace", "7")
        app.screen.query_one("#setup-tree").focus()
        await pilot.press("space", "escape")
        await wait_for(pilot, lambda: not isinstance(app.screen, SetupScreen))
        await pilot.press("t", "M", "I")  # tree on, sorted by MEM%, inverted
        await pilot.pause()
        reopened = await _setup_shot(app, pilot)
        assert app.screen is first  # kept
        options = app.current_options()

    fresh_app = make_app(
        tree=options.tree, sort_column=options.sort_column, sort_reverse=options.sort_reverse
    )
    async with fresh_app.run_test(size=SIZE) as pilot:
        await started(fresh_app, pilot)
        fresh = await _setup_shot(fresh_app, pilot)
    assert reopened == fresh


async def test_a_kept_screen_takes_a_theme_changed_while_it_was_closed() -> None:
    """Kept screens skip their re-styling only while theme and app classes are unchanged:
    setup and help, closed, the theme changed, opened again: as a first open in that theme."""
    from pidtop.ui.screens.setup import SetupScreen

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.theme = "textual-dark"
        for key, cls in (("f2", SetupScreen), ("f1", HelpScreen)):
            await pilot.press(key)
            await wait_for(pilot, lambda cls=cls: isinstance(app.screen, cls))  # type: ignore[misc]
            await pilot.press("escape")
            await wait_for(pilot, lambda: len(app.screen_stack) == 1)
        reopened = await _light_setup_and_help(app, pilot)

    fresh_app = make_app()
    async with fresh_app.run_test(size=SIZE) as pilot:
        await started(fresh_app, pilot)
        fresh = await _light_setup_and_help(fresh_app, pilot)
    assert reopened[0] == fresh[0]  # setup
    assert reopened[1] == fresh[1]  # help


async def _light_setup_and_help(app: PidtopApp, pilot: Any) -> tuple[str, str]:
    """Screenshots of setup, then help, opened after switching to the light theme."""
    app.theme = "textual-light"
    await pilot.pause()
    setup = await _setup_shot(app, pilot)
    await pilot.press("escape")
    await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    await pilot.press("f1")
    await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
    await pilot.pause()
    return setup, app.export_screenshot()
