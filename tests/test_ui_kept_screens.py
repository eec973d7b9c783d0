"""Screens kept for the next opening (exits ``E``, event log ``L``, setup F2) show what is true
when opened again, as a new screen would, and are painted whole once (issue 18: screens within
50 ms; work counts and contents, not timings: benchmarks/keys.py measures those).

A closed exits screen holds no rows (the journal's 10,000 records are not listed twice) and
no longer looks at the journal; a closed event log no longer listens to the log.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from textual.screen import Screen
from textual.widgets import Input, Label
from uitools import wait_for

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.script import MONO0, WALL0
from pidtop.demo.source import ScriptedSource
from pidtop.journal.service import ExitRecord
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.eventlog import EventLogScreen, EventLogView
from pidtop.ui.screens.exits import ExitsScreen
from pidtop.ui.screens.setup import SetupScreen
from pidtop.ui.widgets.checks import CheckList

pytestmark = pytest.mark.usefixtures("pinned_env")
SIZE = (120, 30)


def make_app(delay: float = 3600.0) -> PidtopApp:
    """``delay`` is also the exits screen's period (at least 0.25 s) of looks at the journal."""
    return PidtopApp(
        ScriptedSource(), Options(config_path=None), delay=delay, journal=ScriptedJournal()
    )


@pytest.fixture
def paints(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """The paints of the top screen, in order: its class and "whole" or "part" (from the
    moment the test clears the list)."""
    counts: list[str] = []
    paint = Screen._compositor_refresh

    def counted(self: Screen[Any]) -> None:
        compositor = self._compositor
        if self is self.app.screen and compositor._dirty_regions:  # (else nothing is drawn)
            whole = compositor.size.region in compositor._dirty_regions
            counts.append(f"{type(self).__name__} {'whole' if whole else 'part'}")
        paint(self)

    monkeypatch.setattr(Screen, "_compositor_refresh", counted)
    yield counts


async def opened(pilot: Any, key: str, cls: type[Screen[Any]]) -> Any:
    app = pilot.app
    await pilot.press(key)
    await wait_for(pilot, lambda: isinstance(app.screen, cls))
    await pilot.pause()
    return app.screen


async def closed(pilot: Any) -> None:
    app = pilot.app
    await pilot.press("escape")
    await wait_for(pilot, lambda: len(app.screen_stack) == 1)
    await pilot.pause()


def late_exit(pid: int) -> ExitRecord:
    failed = ExitStatus.from_wait_status(3 << 8)
    return ExitRecord(WALL0 + 2, MONO0 + 2, pid, 1210, 1000, "cc1", "cc1 late.c", failed, 0.5)


async def test_a_kept_exits_screen_shows_new_exits_unfiltered_and_holds_no_rows_closed(
    paints: list[str],
) -> None:
    app = make_app(delay=0.25)
    journal = app.journal
    assert journal is not None
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: journal.stats.exits == 11 and app.samples_merged >= 1)
        screen = await opened(pilot, "E", ExitsScreen)
        await wait_for(pilot, lambda: len(screen.view.rows) == 12)
        await pilot.press("f", "backslash", *"php", "enter", "down", "slash", "c")
        await wait_for(pilot, lambda: screen.mode == "search")
        assert screen.failed_only and len(screen.view.rows) == 3
        await pilot.press("escape")  # the search prompt
        await closed(pilot)
        assert screen.view.rows == []  # closed: no second list of the journal's records
        journal.add(late_exit(4242))
        await wait_for(pilot, lambda: journal.stats.exits == 12)  # the reader took it in
        paints.clear()

        assert await opened(pilot, "E", ExitsScreen) is screen  # kept
        view = screen.view
        with journal.lock:
            records = list(journal.records)
        assert [r for _, r in view.rows] == records[::-1]  # all, the new exit first
        assert view.rows[0][1].pid == 4242  # type: ignore[union-attr]
        assert view.cursor == 0 and view.scroll_offset == (0, 0)
        assert (screen.failed_only, screen.filter_text, screen.search_text) == (False, "", "")
        prompt = screen.query_one("#exits-prompt", Input)
        assert prompt.value == "" and not prompt.has_class("-open")
        assert view.has_focus
        assert "cc1 late.c" in view.line_text(0)
        title = str(screen.query_one("#exits-title", Label).render())
        assert "12 since start" in title and "13 shown" in title and "filter" not in title
        detail = str(screen.query_one("#exits-detail", Label).render())
        assert "4242" in detail
        assert paints[:1] == ["ExitsScreen whole"], paints  # its first (the next look: 0.25 s)

        journal.add(late_exit(4243))  # open: it takes in new exits as before
        await wait_for(pilot, lambda: view.rows[0][1].pid == 4243)  # type: ignore[union-attr]

        await closed(pilot)
        await pilot.press("E", "f")  # typed ahead: the kept screen gets the f
        await wait_for(pilot, lambda: app.screen is screen and screen.failed_only)
        assert len(view.rows) == 9  # 8 failures (6 and the two late ones) + the loss


async def test_a_kept_event_log_shows_new_entries_at_its_end() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        for i in range(60):  # more than the screen is high
            app.events.add("signal", f"{1000 + i}", f"old event {i} " + "wide " * 40)
        screen = await opened(pilot, "L", EventLogScreen)
        view = screen.query_one(EventLogView)
        await pilot.press("home", "right")
        await pilot.pause()
        assert view.scroll_offset.y == 0 and view.scroll_offset.x > 0
        await closed(pilot)
        assert screen._on_event not in app.events.listeners  # closed: not told of events
        app.events.add("exit", "4242", "the newest event")

        assert await opened(pilot, "L", EventLogScreen) is screen  # kept
        assert view.scroll_offset.x == 0 and view.scroll_offset.y == view.max_scroll_y > 0
        last = view.line_text(view.scrollable_content_region.height - 1)
        assert "the newest event" in last
        assert "Event log — 61 entries" in str(screen.query_one("#log-title", Label).render())

        app.events.add("exit", "4243", "one more")  # open: it follows the log as before
        await wait_for(
            pilot, lambda: "one more" in view.line_text(view.scrollable_content_region.height - 1)
        )


async def test_a_kept_setup_opened_again_rebuilds_nothing_and_is_painted_once(
    paints: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Nothing changed since it was closed: its lists are not filled again and it is painted
    whole once; a list the person changed (then cancelled) is filled again."""
    rebuilt: list[str | None] = []
    clear = CheckList.clear_options

    def clear_options(self: CheckList[Any]) -> Any:
        rebuilt.append(self.id)
        return clear(self)

    monkeypatch.setattr(CheckList, "clear_options", clear_options)
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        screen = await opened(pilot, "f2", SetupScreen)
        await closed(pilot)
        paints.clear()
        assert await opened(pilot, "f2", SetupScreen) is screen
        assert rebuilt == []
        # its first paint is whole (not the changed widgets over the table first), and it is
        # not painted whole again; a late repaint of the column list and its scrollbar (the
        # same cells, ~2 ms) may follow on a loaded machine
        assert paints[0] == "SetupScreen whole" and "SetupScreen whole" not in paints[1:], paints
        assert all(p == "SetupScreen part" for p in paints[1:]), paints

        await pilot.press("end", "space")  # the last column shown
        await closed(pilot)  # cancelled
        await opened(pilot, "f2", SetupScreen)
        assert rebuilt == ["setup-column-list"]
        assert set(screen._list.selected) == set(app.current_options().columns)
        assert screen._list.highlighted == 0


async def test_a_kept_exits_screen_given_a_scrollbar_by_new_exits_is_laid_out_before_its_paint(
    paints: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Closed with fewer exits than lines, opened again with more: the scrollbar they need is
    in its one whole paint (not added by a second layout and paint after it)."""
    layout = Screen._refresh_layout

    def counted(self: Screen[Any], *args: Any, **kwargs: Any) -> None:
        if self is self.app.screen:
            paints.append(f"{type(self).__name__} layout")
        layout(self, *args, **kwargs)

    monkeypatch.setattr(Screen, "_refresh_layout", counted)
    app = make_app()
    journal = app.journal
    assert journal is not None
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: journal.stats.exits == 11 and app.samples_merged >= 1)
        screen = await opened(pilot, "E", ExitsScreen)
        assert not screen.view.show_vertical_scrollbar
        await closed(pilot)
        journal.add(*(late_exit(5000 + i) for i in range(30)))
        await wait_for(pilot, lambda: journal.stats.exits == 41)
        paints.clear()
        await opened(pilot, "E", ExitsScreen)
        await pilot.pause(0.1)
        assert screen.view.show_vertical_scrollbar
        first = paints.index("ExitsScreen whole")
        assert "ExitsScreen layout" not in paints[first:], paints
        assert "ExitsScreen part" not in paints[:first], paints
