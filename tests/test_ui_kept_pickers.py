"""Kept pickers open as new ones would (issue 18: screens within 50 ms).

The sort (F6), user (``u``) and signal (``k``) pickers are kept for the next opening
(``kept_screen``). Each test moves, types and toggles in a picker, closes it, changes what it
should show, opens it again and compares the frame with the one a first opening draws in an
app in the same state: a kept picker never shows the state it was left in, nor stale options.
"""

from __future__ import annotations

import signal
from typing import Any

import pytest
from test_ui_pickers_open import Opening, open_screen, opening  # noqa: F401 (a fixture)
from textual.app import App
from textual.widgets import Input, OptionList, Static
from uitools import burst, wait_for

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.demo.handles import SourceOpener
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.dialogs import SortScreen, UserScreen
from pidtop.ui.screens.signals import SignalScreen

SIZE = (120, 40)


def make_app(source: ScriptedSource | None = None, **kwargs: object) -> PidtopApp:
    kwargs.setdefault("delay", 3600.0)
    return PidtopApp(source or ScriptedSource(), **kwargs)  # type: ignore[arg-type]


async def started(app: PidtopApp, pilot: Any) -> None:
    await wait_for(pilot, lambda: app.samples_merged >= 2)
    await pilot.pause()


async def opened(app: PidtopApp, pilot: Any, key: str, cls: type) -> str:
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, cls))
    return await shot(app, pilot)


async def shot(app: App[Any], pilot: Any) -> str:
    """The screen, its text cursors shown (not in the phase of their blink: a slow test)."""
    await pilot.pause()
    for entry in app.screen.query(Input):
        entry.cursor_blink = False
    await pilot.pause()
    return app.export_screenshot()


async def closed(app: PidtopApp, pilot: Any) -> None:
    await pilot.press("escape")
    await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    await pilot.pause()


async def test_a_kept_sort_picker_opens_on_the_sort_column_of_now() -> None:
    """F6, moved down, Esc; the sort changed from the table: F6 again is the same screen,
    highlighted on the new sort column, drawn as a first F6 draws it."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await opened(app, pilot, "f6", SortScreen)
        first = app.screen
        await pilot.press("down", "down", "down")
        await closed(app, pilot)
        await pilot.press("M")  # sorted by MEM%
        await pilot.pause()
        reopened = await opened(app, pilot, "f6", SortScreen)
        assert app.screen is first  # kept
        listed = first.query_one(OptionList)
        assert listed.highlighted is not None
        assert listed.get_option_at_index(listed.highlighted).id == app.table.sort_column
        column = app.table.sort_column

    fresh_app = make_app(sort_column=column)
    async with fresh_app.run_test(size=SIZE) as pilot:
        await started(fresh_app, pilot)
        fresh = await opened(fresh_app, pilot, "f6", SortScreen)
    assert reopened == fresh


async def test_a_kept_sort_picker_lists_the_columns_of_now() -> None:
    """A column set changed while the sort picker was closed: a new picker, with them."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        await opened(app, pilot, "f6", SortScreen)
        first = app.screen
        await closed(app, pilot)
        columns = [c.id for c in app.table.columns]
        app.table.set_columns(tuple(columns[:-1]))
        await opened(app, pilot, "f6", SortScreen)
        assert app.screen is not first and not first.is_attached
        listed = app.screen.query_one(OptionList)
        ids = [listed.get_option_at_index(i).id for i in range(listed.option_count)]
        assert ids == columns[:-1]


async def test_a_kept_user_picker_lists_a_new_user_and_the_filter_of_now() -> None:
    """``u``, moved, Esc: opened again, the same screen drawn as at its first opening; once
    a process of a new user appears, ``u`` lists that user too; the highlight is always on
    the user filter of now."""
    source = ScriptedSource()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        shown = await opened(app, pilot, "u", UserScreen)
        first = app.screen
        await pilot.press("down", "down")
        await closed(app, pilot)
        assert await opened(app, pilot, "u", UserScreen) == shown
        assert app.screen is first
        assert first.query_one(OptionList).highlighted == 0  # "All users", the filter of now
        await pilot.press("down", "enter")  # a user's processes only
        await wait_for(pilot, lambda: app.table.user_filter is not None)
        chosen = app.table.user_filter

        source.spawn(4242, 1, "newcomer", "newcomer --serve", user="zed")
        merged = app.samples_merged
        app.sample_now()
        await wait_for(pilot, lambda: app.samples_merged > merged)
        await opened(app, pilot, "u", UserScreen)
        assert app.screen is not first
        listed = app.screen.query_one(OptionList)
        ids = [listed.get_option_at_index(i).id for i in range(listed.option_count)]
        assert "zed" in ids
        assert listed.highlighted is not None and ids[listed.highlighted] == chosen
        await closed(app, pilot)

        app.table.set_user(None)  # cleared elsewhere (Esc on the table): "All users" again
        await opened(app, pilot, "u", UserScreen)
        assert app.screen.query_one(OptionList).highlighted == 0


# ------------------------------------------------------------------ the signal picker
class PickerApp(App[None]):
    CSS_PATH = PidtopApp.CSS_PATH


async def _picker_shot(app: App[Any], pilot: Any, screen: SignalScreen) -> str:
    app.push_screen(screen)
    await wait_for(pilot, lambda: app.screen is screen)
    return await shot(app, pilot)


async def test_a_kept_signal_picker_shows_what_a_new_one_shows() -> None:
    """A picker filtered, moved, its boxes toggled and its delay edited, then closed, opened
    again for other targets (another delay, a whole tree preselected) draws what a new picker
    for those draws; and again for the first targets, what it drew at first."""
    one = [("4242:1004242", "sleep 1000")]
    three = [(f"{pid}:{1000000 + pid}", f"worker --id {pid}") for pid in (51, 52, 53)]
    app = PickerApp()
    async with app.run_test(size=SIZE) as pilot:
        screen = SignalScreen(one, tree=4)
        first = await _picker_shot(app, pilot, screen)
        await pilot.press("u", "s", "r", "down", "tab", "tab", "backspace", "9")
        await pilot.press("tab", "space", "tab", "space")  # reclaim and whole tree checked
        await pilot.pause()
        assert screen.query_one("#signal-filter", Input).value == "usr"
        screen.dismiss(None)
        await wait_for(pilot, lambda: app.screen is not screen)

        assert screen.fits()
        screen.reopen(three, after=2.5, tree=7, tree_selected=True)
        reopened = await _picker_shot(app, pilot, screen)
        screen.dismiss(None)
        await wait_for(pilot, lambda: app.screen is not screen)
        screen.reopen(one, tree=4)
        again = await _picker_shot(app, pilot, screen)
        assert app.focused is screen.query_one("#signal-filter", Input)
        signals = screen.query_one("#signal-list", OptionList)
        assert signals.render_line(0).text.strip() == "15 SIGTERM"
        screen.dismiss(None)
        await wait_for(pilot, lambda: app.screen is not screen)
        screen.reopen(three)  # no descendants: no whole-tree box, a longer list
        no_tree = await _picker_shot(app, pilot, screen)

    for targets, kwargs, shot in (
        (three, {"after": 2.5, "tree": 7, "tree_selected": True}, reopened),
        (three, {}, no_tree),
    ):
        fresh_app = PickerApp()
        async with fresh_app.run_test(size=SIZE) as pilot:
            fresh = SignalScreen(targets, **kwargs)  # type: ignore[arg-type]
            assert await _picker_shot(fresh_app, pilot, fresh) == shot
    assert again == first


def _kill_app() -> PidtopApp:
    source = ScriptedSource()
    pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=SourceOpener(source))
    return PidtopApp(source, delay=3600.0, pins=pins)


async def test_k_opens_the_kept_picker_for_the_cursor_of_now_and_takes_keys_typed_ahead() -> None:
    """``k`` twice on two rows: one picker, showing the second row's process; ``k 9 Enter``
    in one burst on the kept picker picks SIGKILL (the 9 lands in its emptied filter)."""
    app = _kill_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.view.set_cursor(3)
        await opened(app, pilot, "k", SignalScreen)
        first = app.screen
        await pilot.press("1", "down")
        await closed(app, pilot)
        app.view.set_cursor(5)
        row = app.view.cursor_row
        assert row is not None
        await opened(app, pilot, "k", SignalScreen)
        assert app.screen is first
        shown = first.query_one("#signal-targets", Static).render()
        assert f"{row.info.pid}:" in str(shown)
        await closed(app, pilot)

        picked: list[Any] = []
        first.dismiss = picked.append  # type: ignore[method-assign,assignment]
        await burst(pilot, "k", "9", "enter")
        await wait_for(pilot, lambda: bool(picked))
        assert app.screen is first
        assert picked[0].signal == signal.SIGKILL and not picked[0].escalate


@pytest.mark.parametrize(
    ("key", "name"),
    [("f6", "SortScreen"), ("u", "UserScreen"), ("k", "SignalScreen"), ("ctrl+p", "Palette")],
)
async def test_a_kept_picker_opened_again_paints_one_whole_frame(
    opening: Opening,  # noqa: F811 (the fixture imported above)
    key: str,
    name: str,
) -> None:
    """The second opening, after moving in the first: every frame painted is the last one,
    no layout asked from a paint, at most one layout (the kept screen has its sizes), and
    the repaints asked before the first whole paint are not done again after it."""
    app = _kill_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        app.view.set_cursor(3)
        await pilot.press(key)
        await wait_for(pilot, lambda: type(app.screen).__name__ == name)
        first = app.screen
        await pilot.press("down", "down")
        await closed(app, pilot)
        app.view.set_cursor(4)
        await pilot.pause()
        screen = await open_screen(app, pilot, opening, name, lambda: pilot.press(key))
        assert screen is first
        final = screen._compositor.render_full_update().render_segments(app.console)
        assert opening.frames, "no frame painted"
        assert all(frame == final for frame in opening.frames), (
            f"{len(opening.frames)} frames, the first is not the last"
        )
        assert opening.late == [], opening.late
        assert opening.layouts <= 1, opening.layouts
        # one whole paint (the signal picker's scrollbar, placed by its layout, once more)
        assert len(opening.frames) <= (2 if name == "SignalScreen" else 1), len(opening.frames)


# ------------------------------------------------------------------ the command palette
async def test_a_kept_palette_opens_as_a_new_one_and_still_searches_and_runs() -> None:
    """ctrl+p, a search typed, Esc; ctrl+p again: the same palette drawn as at its first
    opening (no text, every command, the first highlighted); a command run from it by
    keys typed ahead runs; after a keymap change a new palette lists the new keys."""
    from textual.command import CommandInput, CommandList

    from pidtop.ui.screens.palette import Palette

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        shown = await opened(app, pilot, "ctrl+p", Palette)
        first = app.screen
        listed = first.query_one(CommandList)
        count = listed.option_count
        await pilot.press("t", "r", "e", "e")
        await wait_for(pilot, lambda: listed.option_count < count)
        await closed(app, pilot)
        assert await opened(app, pilot, "ctrl+p", Palette) == shown
        assert app.screen is first and listed.option_count == count
        assert listed.highlighted == 0 and first.query_one(CommandInput).value == ""
        await closed(app, pilot)

        tree = app.table.tree
        await burst(pilot, "ctrl+p", "T", "o", "g", "g", "l", "e", " ", "t", "r", "e", "e")
        await wait_for(pilot, lambda: app.screen is first and 0 < listed.option_count < count)
        await pilot.pause(0.3)  # Textual's search lists in batches
        await burst(pilot, "enter")
        await wait_for(pilot, lambda: app.table.tree != tree)
        assert len(app.screen_stack) == 1
        await opened(app, pilot, "ctrl+p", Palette)  # the table beneath is a tree now
        assert app.screen is first and listed.option_count == count
        assert listed.highlighted == 0 and first.query_one(CommandInput).value == ""
        await closed(app, pilot)

        app.options = app.options.replace(keymap={"tree": "ctrl+t"})
        await pilot.pause()
        await opened(app, pilot, "ctrl+p", Palette)
        assert app.screen is not first
        prompts = app.screen.query_one(CommandList)
        texts = [str(prompts.get_option_at_index(i).prompt) for i in range(prompts.option_count)]
        assert any("ctrl+t" in t for t in texts), texts


# ------------------------------------------------------------------ styles parsed at idle
async def test_the_first_pickers_and_palette_parse_no_stylesheet_after_the_warm_up(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After the app's warm-up (at idle), the first ``k``, F6, ``u``, ctrl+p, Enter (details)
    and ``e`` (environment) add no widget CSS to the stylesheet and parse it no more (each
    parse is of the whole stylesheet); the warm-up changes no style: the picker is drawn as
    without it."""
    from textual.css.stylesheet import Stylesheet

    from pidtop.ui.screens.details import DetailsScreen
    from pidtop.ui.screens.palette import Palette
    from pidtop.ui.screens.procinfo import EnvironScreen
    from pidtop.ui.screens.warm import warm_styles

    shots = []
    parse = Stylesheet.parse
    for warm in (False, True):
        app = _kill_app()
        app._warm_styles = lambda: None  # type: ignore[method-assign] # (its timer: here)
        async with app.run_test(size=SIZE) as pilot:
            await started(app, pilot)
            if warm:
                warm_styles(app)
            parses: list[int] = []

            def counted(sheet: Stylesheet, parses: list[int] = parses) -> None:
                parses.append(1)
                parse(sheet)

            monkeypatch.setattr(Stylesheet, "parse", counted)
            sources = set(app.stylesheet.source)
            app.view.set_cursor(3)
            shots.append(await opened(app, pilot, "k", SignalScreen))
            await closed(app, pilot)
            keys = (
                ("f6", SortScreen),
                ("u", UserScreen),
                ("ctrl+p", Palette),
                ("enter", DetailsScreen),
                ("e", EnvironScreen),
            )
            for key, cls in keys:
                await opened(app, pilot, key, cls)
                await closed(app, pilot)
            monkeypatch.undo()
            if warm:
                assert parses == [] and set(app.stylesheet.source) == sources
            else:  # the test can fail: without the warm-up they parse
                assert parses and set(app.stylesheet.source) != sources
    assert shots[0] == shots[1]


async def test_the_warm_up_files_textual_css_as_pidtops_deepest_classes_would() -> None:
    """No pidtop widget or screen class, when it first mounts, lowers the tie-breaker of a
    Textual default CSS the warm-up added (a lower one makes the next parse parse it again:
    Screen, Widget, ModalScreen at the first F1, F2, ``e``, ``l``)."""
    import importlib
    import pkgutil

    from textual.dom import DOMNode

    import pidtop.ui.screens
    import pidtop.ui.widgets
    from pidtop.ui.screens.warm import warm_styles

    for package in (pidtop.ui.screens, pidtop.ui.widgets):
        for module in pkgutil.iter_modules(package.__path__, package.__name__ + "."):
            importlib.import_module(module.name)

    def subclasses(cls: type[DOMNode]) -> list[type[DOMNode]]:
        return [c for sub in cls.__subclasses__() for c in (sub, *subclasses(sub))]

    classes = {c for c in subclasses(DOMNode) if c.__module__.startswith("pidtop.")}
    assert len(classes) > 30
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(app, pilot)
        warm_styles(app)
        source = app.stylesheet.source
        lowered = [
            (cls.__name__, read_from[1], source[read_from].tie_breaker, tie_breaker)
            for cls in classes
            for read_from, _, tie_breaker, _ in DOMNode._get_default_css(cls.__new__(cls))
            if read_from in source and tie_breaker < source[read_from].tie_breaker
        ]
    assert lowered == []


# ------------------------------------------------------------------ the palette's heights
async def test_the_first_palette_counts_its_commands_lines_without_wrapping_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first ctrl+p measures its commands (two lines that fit) without Textual's wrap and
    format of each prompt (~5 ms at +1,000 processes), and is drawn as when it wraps them."""
    from textual.content import Content

    from pidtop.ui.screens import palette

    shots, measured = [], []
    height = Content.get_height
    textual_heights = palette._height
    for fast in (True, False):
        palette._KEPT.made_from = None  # a first opening: its commands are made and measured
        if not fast:
            monkeypatch.setattr(palette, "_height", lambda v, r, w: v.get_height(r, w))
        app = make_app()
        async with app.run_test(size=SIZE) as pilot:
            await started(app, pilot)
            counted: list[Content] = []

            def get_height(
                content: Content, rules: Any, width: int, counted: list[Content] = counted
            ) -> int:
                counted.append(content)
                return height(content, rules, width)

            monkeypatch.setattr(Content, "get_height", get_height)
            shots.append(await opened(app, pilot, "ctrl+p", palette.Palette))
            monkeypatch.setattr(Content, "get_height", height)
            prompts = {id(c.prompt) for c in palette._KEPT.commands}
            measured.append(sum(id(c) in prompts for c in counted))
            await closed(app, pilot)
        monkeypatch.setattr(palette, "_height", textual_heights)
    assert measured[0] == 0 and measured[1] > 0, measured  # (the second: it can fail)
    assert shots[0] == shots[1]


@pytest.mark.parametrize(
    ("text", "width", "rules"),
    [
        ("name\nhelp text here", 40, {}),
        ("name\nhelp text here", 14, {}),
        ("name\nhelp text here", 13, {}),
        ("name\nhelp text here", 8, {"text_wrap": "nowrap", "text_overflow": "ellipsis"}),
        ("name\nhelp text here", 14, {"line_pad": 1}),
        ("wide 漢字漢字\n", 12, {}),
        ("wide 漢字漢字", 11, {}),
        ("a\tb\nc", 40, {}),
        ("a\tbcdef", 10, {}),
        ("", 10, {}),
    ],
)
def test_a_prompts_height_is_textuals(text: str, width: int, rules: dict[str, Any]) -> None:
    """The palette's count of a prompt's lines is Textual's (wrapped, folded, tabs, wide)."""
    from textual.content import Content

    from pidtop.ui.screens.palette import _height

    assert _height(Content(text), rules, width) == Content(text).get_height(rules, width)
