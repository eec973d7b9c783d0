"""The footer: one widget drawing the screen's keys (issue 18: Textual's Footer composed a
widget per key, ~96 ms of the details screen's first frame at +1,000 processes, and was
recomposed with the same keys on every focus change, push and pop).

It must draw what Textual's Footer drew, cell for cell (text, colours, bold, dim), in every
theme, compact (the table) or not (details), with a key hovered or disabled, cut at a narrow
width; read its keys again only when the bindings change; run a key's action when its cell is
clicked (a disabled key rings the bell, as FooterKey does).
"""

from __future__ import annotations

from typing import Any

import pytest
from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.geometry import Region
from textual.pilot import Pilot
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import Footer, Static
from uitools import wait_for

import pidtop.ui.app as app_module
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp, find_css
from pidtop.ui.widgets.footer import KeyFooter

SIZE = (120, 30)
#: what pidtop's stylesheet said to Textual's footer before KeyFooter (the reference look)
TEXTUAL_FOOTER_CSS = """
Footer.-compact FooterKey { margin-right: 0; }
FooterKey.-compact .footer-key--description { padding: 0 1 0 0; }
"""


def footer_keys(app: PidtopApp) -> list[str]:
    return [binding.description for _x0, _x1, binding, _on in app.query_one(KeyFooter).cells]


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


async def test_the_keys_are_read_again_only_when_they_change() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        footer = app.query_one(KeyFooter)
        assert footer_keys(app) == expected_keys(app) and "Help" in footer_keys(app)
        builds = footer.builds  # focus, screen resume...: the same keys
        table_keys = footer_keys(app)
        await pilot.press("slash")  # the search prompt: other bindings, other keys
        await wait_for(pilot, lambda: footer_keys(app) != table_keys)
        assert footer_keys(app) == expected_keys(app)
        await pilot.press("escape")
        await wait_for(pilot, lambda: footer_keys(app) == table_keys)
        assert footer.builds == builds + 2
        for _ in range(3):  # moving the cursor changes no key
            await pilot.press("down")
            await pilot.pause()
        app.view.focus()
        await pilot.pause()
        assert footer.builds == builds + 2
        app.set_keymap({"tree": "ctrl+t"})  # a keymap change: the new key shown
        await wait_for(pilot, lambda: "^tTree" in footer.plain)
        assert footer.builds == builds + 3 and "F5Tree" not in footer.plain


async def test_an_unchanged_footer_is_not_drawn_again_by_textual(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Frames that change only the table and the meters reuse the footer's drawn line (the
    compositor asks every widget for its lines at each frame); a change of keys is drawn."""
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    drawn = [0]
    textual_render_lines = Widget.render_lines

    def counting(self: Widget, crop: Region) -> list[Strip]:
        if isinstance(self, KeyFooter):
            drawn[0] += 1
        return textual_render_lines(self, crop)

    monkeypatch.setattr(Widget, "render_lines", counting)
    async with app.run_test(size=SIZE) as pilot:
        await settled(pilot, app)
        before = drawn[0]
        for _ in range(3):  # new samples: table and meters repainted, footer unchanged
            merged = app.samples_merged
            app.sample_now()
            await wait_for(pilot, lambda: app.samples_merged > merged)  # noqa: B023
            await pilot.pause()
            assert "F5Tree" in "".join(c for c, _ in last_line(app))
        assert drawn[0] == before
        app.set_keymap({"tree": "ctrl+t"})
        await wait_for(pilot, lambda: "^tTree" in "".join(c for c, _ in last_line(app)))
        assert drawn[0] > before


async def test_a_click_on_each_key_runs_its_action(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each cell, at its first and last column, runs its binding's action (as a key press:
    the actions are recorded, not run); a click right of the last key runs nothing."""
    ran: list[str] = []

    async def recorded(self: PidtopApp, action: Any, *args: Any, **kwargs: Any) -> bool:
        ran.append(str(action))
        return True

    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=(200, 30)) as pilot:
        await settled(pilot, app)
        footer = app.query_one(KeyFooter)
        cells = footer.cells
        assert len(cells) >= 10
        monkeypatch.setattr(PidtopApp, "run_action", recorded)
        for x0, x1, binding, _on in cells:
            for x in (x0, x1 - 1):
                ran.clear()
                assert await pilot.click(KeyFooter, offset=(x, 0))
                await wait_for(pilot, lambda: bool(ran))
                await pilot.pause()
                assert ran == [binding.action], (x, binding.action, ran)
        ran.clear()
        await pilot.click(KeyFooter, offset=(cells[-1][1] + 1, 0))
        await pilot.pause()
        await pilot.pause()
        assert ran == []


# ---------------------------------------------------------------- the same look as Textual's


def cells_of(strip: Strip) -> list[tuple[str, str]]:
    """Each cell's character and style: colours, attributes, link (what a terminal and an SVG
    get; Textual's mouse metadata left out)."""
    return [(ch, str(seg.style or "")) for seg in strip for ch in seg.text]


def last_line(app: App[Any]) -> list[tuple[str, str]]:
    return cells_of(app.screen._compositor.render_strips()[-1])


class Reference(PidtopApp):
    CSS = TEXTUAL_FOOTER_CSS


@pytest.mark.parametrize("theme", ["textual-dark", "textual-light", "nord", "gruvbox"])
@pytest.mark.parametrize("size", [(120, 20), (56, 12)])  # 56: cut inside F8
async def test_the_table_footer_draws_what_textuals_footer_drew(
    monkeypatch: pytest.MonkeyPatch, theme: str, size: tuple[int, int]
) -> None:
    """pidtop's table screen with Textual's Footer (and the stylesheet's old footer rules),
    then with KeyFooter: the same last line, plain and with a key hovered."""
    lines = []
    for cls, footer in ((Reference, Footer), (PidtopApp, KeyFooter)):
        monkeypatch.setattr(app_module, "KeyFooter", footer)
        if footer is Footer:
            monkeypatch.setattr(app_module, "KeyFooter", _textual_footer)
        app = cls(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
        async with app.run_test(size=size) as pilot:
            app.theme = theme
            await wait_for(pilot, lambda: app.samples_merged >= 2)  # noqa: B023
            for _ in range(4):
                await pilot.pause()
            seen = [last_line(app)]
            for x in (1, 9):  # F1's key, F2's description
                await pilot.hover(offset=(x, size[1] - 1))
                await pilot.pause()
                await pilot.pause()
                seen.append(last_line(app))
            lines.append(seen)
    textual, ours = lines
    assert "".join(c for c, _ in textual[0]).startswith("F1Help F2Setup")
    assert textual[1] != textual[0]  # the hover shows
    assert ours == textual


def _textual_footer(compact: bool = False) -> Footer:
    return Footer(show_command_palette=False, compact=compact)


class Bound(Static):
    """Bindings of every kind: shown, hidden, disabled (``check_action`` None), no description,
    two keys for one action."""

    can_focus = True
    BINDINGS = [
        Binding("a", "one", "One"),
        Binding("b", "one", "One again"),
        Binding("c", "two", "Two"),
        Binding("d", "hidden", "Hidden", show=False),
        Binding("e", "off", "Off"),
        Binding("f", "bare", ""),
        Binding("f9", "last", "Last"),
    ]

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return None if action == "off" else True


class Keys(App[None]):
    CSS = TEXTUAL_FOOTER_CSS
    CSS_PATH = str(find_css())  # pidtop's stylesheet, its footer rules

    def __init__(self, footer: Any) -> None:
        super().__init__()
        self.footer = footer

    def compose(self) -> ComposeResult:
        yield Bound("body")
        yield self.footer

    def on_mount(self) -> None:
        self.query_one(Bound).focus()


@pytest.mark.parametrize("compact", [False, True])
@pytest.mark.parametrize("theme", ["textual-dark", "textual-light"])
async def test_every_kind_of_key_is_drawn_as_textual_draws_it(
    compact: bool, theme: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Non-compact (the details screen's) and compact, a disabled key dim, a key without a
    description, the disabled key hovered; and a click on it rings the bell, runs nothing."""
    lines = []
    for footer in (_textual_footer(compact), KeyFooter(compact=compact)):
        app = Keys(footer)
        async with app.run_test(size=(70, 5)) as pilot:
            app.theme = theme
            for _ in range(4):
                await pilot.pause()
            seen = [last_line(app)]
            text = "".join(c for c, _ in seen[0])
            await pilot.hover(offset=(text.index("Off"), 4))
            await pilot.pause()
            await pilot.pause()
            seen.append(last_line(app))
            lines.append(seen)
            if isinstance(footer, KeyFooter):
                bells: list[int] = []
                monkeypatch.setattr(app, "bell", lambda: bells.append(1))  # noqa: B023
                await pilot.click(KeyFooter, offset=(text.index("Off"), 0))
                await wait_for(pilot, lambda: bells == [1])  # noqa: B023
    textual, ours = lines
    text = "".join(c for c, _ in textual[0])
    assert "One" in text and "Two" in text and "Off" in text and "Hidden" not in text
    assert "again" not in text
    assert textual[1] != textual[0]
    assert ours == textual
