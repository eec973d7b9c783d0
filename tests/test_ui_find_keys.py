"""F3 finds the next match after the search prompt closed (as in htop), and Esc closes the
command palette's "Keys" panel (issue 7, smaller truths). Scripted source: no process is
acted on."""

from __future__ import annotations

from textual.widgets import HelpPanel
from uitools import burst, wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp


def cursor_pid(app: PidtopApp) -> int:
    row = app.view.cursor_row
    assert row is not None
    return row.info.pid


async def test_f3_after_the_prompt_closed_finds_the_next_match() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600, sort_column="pid", sort_reverse=False)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await burst(pilot, "slash", *"-bash", "enter")
        await wait_for(pilot, lambda: not app.prompt.is_open)
        first = cursor_pid(app)
        assert "-bash" in app.view.cursor_row.info.command  # type: ignore[union-attr]
        await pilot.press("f3")
        assert not app.prompt.is_open  # F3 reopened the prompt instead
        second = cursor_pid(app)
        assert second != first and "-bash" in app.view.cursor_row.info.command  # type: ignore[union-attr]
        await pilot.press("f3")
        assert cursor_pid(app) not in (second,)


async def test_f3_without_a_search_opens_the_prompt() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.press("f3")
        assert app.prompt.is_open and app.prompt.mode == "search"


async def test_escape_closes_the_keys_panel() -> None:
    """The palette's "Keys" entry shows Textual's key panel; Esc closes it (it stayed)."""
    app = PidtopApp(ScriptedSource(), delay=3600)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        app.action_show_help_panel()  # what the palette's "Keys" command runs
        await wait_for(pilot, lambda: bool(app.screen.query(HelpPanel)))
        await pilot.press("escape")
        await wait_for(pilot, lambda: not app.screen.query(HelpPanel))
