"""A theme name from the settings file is data: an unknown one is reported literally, never
parsed as markup (``theme = "[/nope]"`` crashed pidtop at start with a MarkupError)."""

from __future__ import annotations

from uitools import notes, wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp


async def test_unknown_theme_with_markup_is_shown_literally() -> None:
    app = PidtopApp(ScriptedSource(), Options(theme="[/nope]"), delay=3600.0)
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: any("Unknown theme '[/nope]'" in n for n in notes(app)))
        assert app.theme == "textual-dark"
