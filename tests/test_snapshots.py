"""Snapshot tests of the main screen on the ScriptedSource (fixed processes, fixed clock).

Plain ``def`` tests (pytest-textual-snapshot drives its own loop). The environment is pinned:
no ``NO_COLOR``/``TEXTUAL_THEME``, the theme is set explicitly, and the app stops sampling after
a fixed number of samples, so nothing depends on the real clock, host, user or terminal.
Update with ``pytest tests/test_snapshots.py --snapshot-update`` and look at the SVGs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest
from textual.pilot import Pilot

from pidtop.demo.script import EXIT_AT, NEW_AT
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp

SnapCompare = Callable[..., bool]


pytestmark = pytest.mark.usefixtures("pinned_env")


def make_app(samples: int = NEW_AT + 1, **kwargs: object) -> PidtopApp:
    """Samples quickly until ``samples`` merges, then never again (a frozen, known state).

    The default stops right after the scripted newcomer appears, so it is shown highlighted.
    """
    return PidtopApp(ScriptedSource(), delay=0.05, sample_limit=samples, **kwargs)  # type: ignore[arg-type]


def settle(
    then: Callable[[Pilot], Awaitable[None]] | None = None, theme: str = "textual-dark"
) -> Callable[[Pilot], Awaitable[None]]:
    """A ``run_before`` that pins the theme, waits for the last sample, then runs ``then``."""

    async def run_before(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, PidtopApp)
        app.theme = theme
        for _ in range(500):
            if app.samples_merged >= (app.sample_limit or 1) and not app._sampling:
                break
            await pilot.pause(0.01)
        assert app.samples_merged == app.sample_limit
        if then is not None:
            await then(pilot)
        await pilot.pause()

    return run_before


def test_default_view(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settle())


def test_default_view_light_theme(snap_compare: SnapCompare) -> None:
    assert snap_compare(
        make_app(), terminal_size=(120, 40), run_before=settle(theme="textual-light")
    )


def test_sorted_by_memory(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(120, 40), press=["M"], run_before=settle())


def test_search_active(snap_compare: SnapCompare) -> None:
    async def search(pilot: Pilot) -> None:
        await pilot.press("slash", *"postgres")

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settle(search))


def test_filter_active(snap_compare: SnapCompare) -> None:
    async def filt(pilot: Pilot) -> None:
        await pilot.press("backslash", *"bash", "enter")

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settle(filt))


def test_tree_view_collapsed_subtree(snap_compare: SnapCompare) -> None:
    async def tree(pilot: Pilot) -> None:
        app = pilot.app
        assert isinstance(app, PidtopApp)
        await pilot.press("t")
        source = app.source
        assert isinstance(source, ScriptedSource)
        assert app.view.set_cursor_key(source.key_of(700))  # postgres and its workers
        await pilot.press("minus")

    assert snap_compare(make_app(), terminal_size=(120, 40), run_before=settle(tree))


def test_dying_row_80x24(snap_compare: SnapCompare) -> None:
    """The scripted cc1 exits in the last sample: its row is shown dimmed."""
    assert snap_compare(make_app(EXIT_AT + 1), terminal_size=(80, 24), run_before=settle())


def test_200x50(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(200, 50), run_before=settle())


def test_tiny_40x12(snap_compare: SnapCompare) -> None:
    """Must not crash: meters collapse to one line, columns are dropped right-to-left."""
    assert snap_compare(make_app(), terminal_size=(40, 12), run_before=settle())


def test_help_screen(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(100, 40), press=["f1"], run_before=settle())


async def test_hostile_names_never_leak_markup_or_escapes() -> None:
    """Process text is shown literally: no markup parsed, no control characters on screen."""
    app = make_app(samples=2, sort_column="pid")
    async with app.run_test(size=(200, 60)) as pilot:
        for _ in range(500):
            if app.samples_merged >= 2:
                break
            await pilot.pause(0.01)
        await pilot.pause()
        view = app.view
        lines = [view._row_strip(i).text for i in range(len(app.table.rows))]
        text = "\n".join(lines)
        assert "[bold red]pwned[/] [link=https://example.com]click[/link] [/]" in text
        assert any(line.rstrip().endswith(" [/]") for line in lines)  # the process named "[/]"
        assert "^[]0;title^G^[[2J" in text  # escapes shown in caret notation
        assert "./a) b --flag (x) )" in text
        for line in lines:
            assert not any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in line), repr(line)
            assert "\u2028" not in line
        # the whole screen renders without markup errors, hostile rows included
        await pilot.press("end")
        await pilot.pause()
        assert "pwned" in app.export_screenshot()


def test_setup_screen(snap_compare: SnapCompare) -> None:
    """F2: the column list (shown columns first, every registry column listed) and the
    display settings."""
    assert snap_compare(make_app(), terminal_size=(120, 40), press=["f2"], run_before=settle())


def test_setup_screen_80x24(snap_compare: SnapCompare) -> None:
    assert snap_compare(make_app(), terminal_size=(80, 24), press=["f2"], run_before=settle())


def test_header_meters_chosen_and_ordered(snap_compare: SnapCompare) -> None:
    """``meters = ["memory", "cpu", "uptime", "load"]``: memory above the CPU bars, no swap,
    uptime above the load average, no tasks; the status line stays."""
    app = make_app(meters=("memory", "cpu", "uptime", "load"))
    assert snap_compare(app, terminal_size=(100, 24), run_before=settle())
