"""The footer is rebuilt only when the keys it shows change (issue 18: Textual's footer was
recomposed five times with the same keys in the first second, and the keys typed then waited)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets._footer import FooterKey
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.widgets.footer import KeyFooter as Footer

SIZE = (120, 30)


def footer_keys(app: PidtopApp) -> list[str]:
    return [k.description for k in app.query_one(Footer).query(FooterKey)]


def expected_keys(app: PidtopApp) -> list[str]:
    """What Textual's footer shows for the current bindings: one key per action."""
    seen: dict[str, str] = {}
    for _node, binding, _enabled, _tip in app.screen.active_bindings.values():
        if binding.show:
            seen.setdefault(binding.action, binding.description)
    return list(seen.values())


async def settled(pilot: Pilot, app: PidtopApp) -> None:
    await wait_for(pilot, lambda: app.samples_merged >= 2 and bool(footer_keys(app)))
    await pilot.pause()
    await pilot.pause()


async def test_the_footer_is_recomposed_only_when_its_keys_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recomposed: list[list[str]] = []
    original = Footer.recompose

    async def counting(self: Footer) -> None:
        await original(self)
        recomposed.append(footer_keys(self.app))  # type: ignore[arg-type]

    monkeypatch.setattr(Footer, "recompose", counting)  # undone after: the class gets no copy

    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        assert footer_keys(app) == expected_keys(app) and "Help" in footer_keys(app)
        assert len(recomposed) == 1  # focus, screen resume...: the same keys, built once
        table_keys = footer_keys(app)
        await pilot.press("slash")  # the search prompt: other bindings, other keys
        await wait_for(pilot, lambda: footer_keys(app) != table_keys)
        assert footer_keys(app) == expected_keys(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: footer_keys(app) == table_keys)
        count = len(recomposed)
        for _ in range(3):  # moving the cursor changes no key
            await pilot.press("down")
            await pilot.pause()
        app.view.focus()
        await pilot.pause()
        assert len(recomposed) == count
