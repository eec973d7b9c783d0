"""The Exits screen on a scripted journal (fixed exits, fixed times): Pilot and snapshots.

The journal is :class:`ScriptedJournal` read by the real :class:`JournalReader` thread, as the
monitor reads the real one; times are shown in UTC (TZ pinned) so the snapshot is the same
everywhere.
"""

from __future__ import annotations

import pytest
from textual.app import App, ComposeResult
from textual.pilot import Pilot
from textual.widgets import Label
from uitools import notes, wait_for

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.script import MONO0, WALL0
from pidtop.journal.service import ExitRecord, JournalReader
from pidtop.kernel.pidfdinfo import ExitStatus
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.exits import ExitsScreen, ExitsView

pytestmark = pytest.mark.usefixtures("pinned_env")


class ExitsApp(App[None]):
    """Just the Exits screen over a scripted journal; records what Enter asked for."""

    def __init__(self) -> None:
        super().__init__()
        self.journal = ScriptedJournal()
        self.reader = JournalReader(self.journal, start={})
        self.opened: list[ExitRecord] = []

    def compose(self) -> ComposeResult:
        yield Label("the process table")

    def on_mount(self) -> None:
        self.theme = "textual-dark"
        self.reader.start()
        self.push_screen(ExitsScreen(self.journal))

    def on_unmount(self) -> None:
        self.reader.stop()

    def on_exits_screen_open_parent(self, event: ExitsScreen.OpenParent) -> None:
        self.opened.append(event.record)


def view_of(app: App[None]) -> ExitsView:
    screen = app.screen
    assert isinstance(screen, ExitsScreen)
    return screen.view


async def wait_rows(pilot: Pilot, n: int) -> ExitsView:
    app = pilot.app
    for _ in range(500):
        if isinstance(app.screen, ExitsScreen) and len(view_of(app).rows) >= n:
            break
        await pilot.pause(0.01)
    view = view_of(app)
    assert len(view.rows) == n
    return view


async def loaded(pilot: Pilot) -> ExitsView:
    return await wait_rows(pilot, 12)  # 11 exits and 1 loss


def lines(view: ExitsView) -> list[str]:
    return [view.line_text(y).rstrip() for y in range(view.size.height)]


async def test_newest_first_failed_only_and_filter() -> None:
    async with ExitsApp().run_test(size=(120, 30)) as pilot:
        view = await loaded(pilot)
        shown = lines(view)
        assert "ld -o app main.o util.o" in shown[0]  # the newest first
        assert "cc1 -quiet src/util.c" in shown[11]
        assert any("*** 37 events lost (receive buffer overflow)" in x for x in shown)
        crash = next(x for x in shown if "src/bad.c" in x)
        assert " SIGSEGV core " in crash and "1195" in crash and "1210" in crash
        grep = next(x for x in shown if " 1194 " in x)
        assert "grep (command line not captured)" in grep and "0.9ms" in grep
        hostile = next(x for x in shown if " 1197 " in x)
        assert "\x1b" not in hostile and "^[[31m [/] --x" in hostile
        await pilot.press("f")
        assert len(view.rows) == 7  # 6 failures + the loss, never hidden
        assert all("exit 0 " not in x for x in lines(view))
        await pilot.press("f", "backslash")
        await pilot.pause()
        await pilot.press(*"php", "enter")
        await pilot.pause()
        assert [r.pid for _, r in view.rows if isinstance(r, ExitRecord)] == [1198, 1193]
        title = str(pilot.app.screen.query_one("#exits-title", Label).render())
        assert "filter: php" in title and "Exits: 11 since start" in title
        assert "6 failed" in title and "37 events lost" in title


async def test_search_and_enter_opens_parent() -> None:
    app = ExitsApp()
    async with app.run_test(size=(120, 30)) as pilot:
        view = await loaded(pilot)
        await pilot.press("slash")
        await pilot.pause()
        await pilot.press(*"logrotate", "enter")
        await pilot.pause()
        record = view.cursor_record
        assert isinstance(record, ExitRecord) and record.comm == "logrotate"
        detail = str(app.screen.query_one("#exits-detail", Label).render())
        assert "PID 1196, child of 1, user root (uid 0): exited with code 0" in detail
        assert "lived 1.73s\n/usr/sbin/logrotate /etc/logrotate.conf" in detail
        await pilot.press("enter")
        await pilot.pause()
        assert [r.pid for r in app.opened] == [1196]
        await pilot.press("n")  # the only match: the cursor stays
        assert view.cursor_record is record


async def test_new_exits_arrive_while_open_cursor_keeps_its_record() -> None:
    app = ExitsApp()
    async with app.run_test(size=(120, 30)) as pilot:
        view = await loaded(pilot)
        await pilot.press("down", "down")
        kept = view.cursor_record
        app.journal.add(
            ExitRecord(WALL0 + 2, MONO0 + 2, 4242, 1210, 1000, "cc1", "cc1 late.c",
                       ExitStatus.from_wait_status(3 << 8), 0.5)
        )  # fmt: skip
        for _ in range(200):
            if len(view.rows) == 13:
                break
            await pilot.pause(0.02)
        assert len(view.rows) == 13
        assert view.rows[0][1].pid == 4242  # type: ignore[union-attr]
        assert view.cursor_record is kept
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, ExitsScreen)


async def test_search_match_on_the_top_row_keeps_its_record_as_exits_arrive() -> None:
    """The top row follows the newest exit, but not when a search put the cursor there: the
    match stays under the cursor (it used to jump to each newer exit)."""
    app = ExitsApp()
    async with app.run_test(size=(120, 30)) as pilot:
        view = await loaded(pilot)
        newest = view.rows[0][1]
        assert isinstance(newest, ExitRecord)
        await pilot.press("slash", *newest.comm, "enter")
        await pilot.pause()
        assert view.cursor == 0 and view.cursor_record is newest
        app.journal.add(
            ExitRecord(WALL0 + 2, MONO0 + 2, 4242, 1210, 1000, "cc1", "cc1 late.c",
                       ExitStatus.from_wait_status(3 << 8), 0.5)
        )  # fmt: skip
        await wait_for(pilot, lambda: len(view.rows) == 13)
        assert view.cursor_record is newest
        await pilot.press("home")  # back on top by hand: follows the newest again
        app.journal.add(
            ExitRecord(WALL0 + 3, MONO0 + 3, 4243, 1210, 1000, "cc1", "cc1 later.c",
                       ExitStatus.from_wait_status(0), 0.5)
        )  # fmt: skip
        await wait_for(pilot, lambda: len(view.rows) == 14)
        assert view.cursor == 0 and view.rows[0][1].pid == 4243  # type: ignore[union-attr]


def test_exits_screen_snapshot(snap_compare: object) -> None:
    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("down")
        await pilot.pause()

    assert snap_compare(ExitsApp(), terminal_size=(120, 24), run_before=run_before)  # type: ignore[operator]


# --------------------------------------------------------------------------- in the monitor


def monitor() -> PidtopApp:
    from pidtop.demo.source import ScriptedSource

    return PidtopApp(ScriptedSource(), delay=0.05, sample_limit=3, journal=ScriptedJournal())


async def test_monitor_E_header_and_enter_goes_to_parent() -> None:
    app = monitor()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 3 and app.journal.stats.exits == 11)
        await wait_for(pilot, lambda: "Exits: 2.5/s, 6 failed" in " · ".join(app.meters.status))
        assert "37 events lost" in " · ".join(app.meters.status)
        await pilot.press("E")
        await wait_for(pilot, lambda: isinstance(app.screen, ExitsScreen))
        view = await loaded(pilot)
        index = next(i for i, (_, r) in enumerate(view.rows) if getattr(r, "pid", 0) == 1195)
        view.set_cursor(index)
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExitsScreen))
        row = app.view.cursor_row
        assert row is not None and row.info.pid == 1210  # make, the crashed cc1's parent


async def test_monitor_typed_ahead_burst() -> None:
    """``E f`` typed as one burst: the screen opens and gets the ``f`` (failed only)."""
    app = monitor()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.journal.stats.exits == 11)
        await pilot.press("E", "f", "backslash", *"php", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, ExitsScreen))
        screen = app.screen
        assert isinstance(screen, ExitsScreen)
        await wait_for(pilot, lambda: screen.filter_text == "php")
        assert screen.failed_only
        pids = [r.pid for _, r in screen.view.rows if isinstance(r, ExitRecord)]
        assert pids == [1198, 1193]  # and the loss, never hidden
        assert len(screen.view.rows) == 3


async def test_monitor_d_opens_details_of_living_ancestor() -> None:
    """A grep (1194) whose parent bash (1106) is listed: d opens bash's details. A process
    whose parent exited too (4243 <- 4242 <- make 1210): Enter goes to make."""
    from pidtop.ui.screens.details import DetailsScreen

    app = monitor()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.journal.stats.exits == 11 and app.samples_merged >= 3)
        status = ExitStatus(True, code=0)
        app.journal.add(
            ExitRecord(WALL0 + 3, MONO0 + 3, 4243, 4242, 0, "x", "x", status, 0.1),
            ExitRecord(WALL0 + 4, MONO0 + 4, 4242, 1210, 0, "y", "y", status, 0.2),
        )
        await pilot.press("E")
        view = await wait_rows(pilot, 14)
        view.set_cursor(
            next(i for i, (_, r) in enumerate(view.rows) if getattr(r, "pid", 0) == 1194)
        )
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        await pilot.press("escape")
        await wait_for(pilot, lambda: isinstance(app.screen, ExitsScreen))
        view = app.screen.view  # type: ignore[attr-defined]
        view.set_cursor(
            next(i for i, (_, r) in enumerate(view.rows) if getattr(r, "pid", 0) == 4243)
        )
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, ExitsScreen))
        row = app.view.cursor_row
        assert row is not None and row.info.pid == 1210
        assert any("Parent PID 4242 has exited too" in n for n in notes(app))


async def test_monitor_parent_not_listed_says_so() -> None:
    app = monitor()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.journal.stats.exits == 11)
        app.journal.add(
            ExitRecord(WALL0 + 3, MONO0 + 3, 5000, 4999, 0, "x", "x", ExitStatus(True, code=0),
                       0.1)
        )  # fmt: skip
        await pilot.press("E")
        view = await wait_rows(pilot, 13)
        view.set_cursor(0)
        await pilot.press("enter")
        await wait_for(pilot, lambda: any("Parent PID 4999" in n for n in notes(app)))
        assert isinstance(app.screen, ExitsScreen)  # nothing to show: it stays open


async def test_exits_keep_and_no_journal() -> None:
    """--exits-keep 5: the last five records stay (the title says so), the counters count all;
    --no-journal: no header words, and E says the journal is off."""
    from pidtop.settings.options import Options
    from pidtop.ui.startup import build_app

    app = build_app(Options(demo=True, exits_keep=5))
    async with app.run_test(size=(120, 40)) as pilot:
        assert app.journal is not None and app.journal.keep == 5
        await wait_for(pilot, lambda: app.journal is not None and app.journal.stats.exits == 11)
        await pilot.press("E")
        view = await wait_rows(pilot, 5)
        title = str(app.screen.query_one("#exits-title", Label).render())
        assert "Exits: 11 since start" in title and "last 5 kept" in title
        assert [getattr(r, "pid", None) for _, r in view.rows] == [1201, 1199, 1198, None, 1197]
    app = build_app(Options(demo=True, journal=False))
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        assert app.journal is None
        await pilot.press("E")
        await wait_for(pilot, lambda: any("journal is off" in n for n in notes(app)))
        assert not any("Exits" in part for part in app.meters.status)


def test_exits_keep_on_the_command_line() -> None:
    import subprocess
    import sys

    bad = subprocess.run(
        [sys.executable, "-m", "pidtop", "--exits-keep", "0"], capture_output=True, text=True
    )
    assert bad.returncode == 2 and "1-1000000" in bad.stderr


def test_exits_screen_snapshot_80x24(snap_compare: object) -> None:
    """A small terminal: the title, detail and hint lines wrap between words; rows scroll."""

    async def run_before(pilot: Pilot) -> None:
        await loaded(pilot)
        await pilot.press("f")
        await pilot.pause()

    assert snap_compare(ExitsApp(), terminal_size=(80, 24), run_before=run_before)  # type: ignore[operator]


def test_pins_answer_the_journals_coredump_question() -> None:
    """The monitor's pins answer ``coredump_of`` through the handle they hold. The handle
    here is a STAND-IN answering "written": this 6.18 machine cannot produce that answer
    (see test_handle for the real kernel's "unknown"). Unpinned PIDs and handles without
    the method (scripted) answer "unknown"."""
    from types import SimpleNamespace

    from pidtop.ui.exits_actions import ExitsActions

    class Said:
        inode = 77

        def coredump(self) -> str:
            return "written"

    actions = ExitsActions()
    pins = [
        SimpleNamespace(key=(10, 1), handle=Said()),
        SimpleNamespace(key=(11, 1), handle=SimpleNamespace(inode=78)),
    ]
    actions.journal_pins_changed(pins)
    assert actions._pin_coredump_get(10) == "written"
    assert actions._pin_coredump_get(11) == "unknown"
    assert actions._pin_coredump_get(12) == "unknown"
    assert actions._pin_inodes_get(10) == 77
