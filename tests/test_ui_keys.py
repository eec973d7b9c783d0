"""Pilot tests for every key of the main screen, on the deterministic ScriptedSource."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import pytest
from textual import events
from textual.command import CommandList, CommandPalette
from textual.pilot import Pilot
from textual.widgets import OptionList
from uitools import resample as resample_app
from uitools import wait_for as wait_for_condition

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import COLUMNS
from pidtop.settings.options import Options, resolve_sort_key
from pidtop.ui import actions
from pidtop.ui.app import PidtopApp, find_css
from pidtop.ui.screens.dialogs import DelayScreen, SortScreen, UserScreen
from pidtop.ui.screens.help import HelpScreen
from pidtop.ui.widgets.filterbar import FilterBar, PromptBar
from pidtop.ui.widgets.meters import Meters
from pidtop.ui.widgets.process_view import ProcessView

SIZE = (120, 40)


def make_app(source: ScriptedSource | None = None, **kwargs: object) -> PidtopApp:
    """An app on a scripted source that only samples when told to (after the first two)."""
    kwargs.setdefault("delay", 3600.0)
    return PidtopApp(source or ScriptedSource(), **kwargs)  # type: ignore[arg-type]


wait_for = partial(wait_for_condition, timeout=5.0)
resample = partial(resample_app, timeout=5.0)


async def started(pilot: Pilot, samples: int = 2) -> PidtopApp:
    """Wait for the first samples (two: CPU% needs a delta)."""
    app = pilot.app
    assert isinstance(app, PidtopApp)
    await wait_for(pilot, lambda: app.samples_merged >= samples)
    await pilot.pause()
    return app


def pids(app: PidtopApp) -> list[int]:
    return [r.info.pid for r in app.table.rows]


def cursor_pid(app: PidtopApp) -> int:
    row = app.view.cursor_row
    assert row is not None
    return row.info.pid


# ---------------------------------------------------------------------------------- sorting
@pytest.mark.parametrize(
    ("key", "column", "reverse"),
    [("P", "cpu", True), ("M", "mem", True), ("T", "time", True), ("N", "pid", False)],
)
async def test_sort_keys(key: str, column: str, reverse: bool) -> None:
    app = make_app(sort_column="s")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press(key)
        assert (app.table.sort_column, app.table.sort_reverse) == (column, reverse)
        if column == "pid":
            assert pids(app) == sorted(pids(app))
        if column == "mem":
            mems = [r.mem for r in app.table.rows]
            assert mems == sorted(mems, reverse=True)
        await pilot.press("I")
        assert app.table.sort_reverse is not reverse


async def test_sort_step_and_chooser() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("greater_than_sign")
        assert app.table.sort_column == "mem"
        await pilot.press("less_than_sign", "less_than_sign")
        assert app.table.sort_column == "s"
        await pilot.press("f6")
        assert isinstance(app.screen, SortScreen)
        await pilot.press("home", "enter")
        await pilot.pause()
        assert not isinstance(app.screen, SortScreen)
        assert app.table.sort_column == "pid"
        await pilot.press("f6", "escape")
        assert app.table.sort_column == "pid"


async def test_header_click_sorts_and_inverts() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        view = app.view
        placed = {p.column.id: p for p in view._columns()}
        x = placed["mem"].x + 1
        await pilot.click(ProcessView, offset=(x, 0))
        assert (app.table.sort_column, app.table.sort_reverse) == ("mem", True)
        await pilot.click(ProcessView, offset=(x, 0))
        assert (app.table.sort_column, app.table.sort_reverse) == ("mem", False)
        await pilot.click(ProcessView, offset=(placed["pid"].x + 2, 0))
        assert app.table.sort_column == "pid"


def test_resolve_sort_key() -> None:
    assert resolve_sort_key("PERCENT_MEM") == "mem"
    assert resolve_sort_key("CPU%") == "cpu"
    assert resolve_sort_key("pid") == "pid"
    assert resolve_sort_key("nonsense") is None
    assert find_css() is not None


# ---------------------------------------------------------------------------------- cursor
async def test_cursor_follows_process_across_resort_and_refresh() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("down", "down", "down")
        view = app.view
        key = view.cursor_key
        assert key is not None and view.cursor_index == 3
        for k in ("N", "M", "I", "t", "t"):
            await pilot.press(k)
            assert view.cursor_key == key
            assert app.table.rows[view.cursor_index].key == key
        await resample(pilot)
        await resample(pilot)
        assert view.cursor_key == key
        assert app.table.rows[view.cursor_index].key == key


async def test_cursor_moves_to_neighbour_when_process_exits() -> None:
    source = ScriptedSource()
    app = make_app(source, sort_column="pid")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await started(pilot)
        view = app.view
        await resample(pilot)  # the scripted new process (1213) appears in this one
        assert view.set_cursor_key(source.key_of(1430))
        source.exit(1430)
        await resample(pilot)  # still shown, dimmed (dying)
        assert cursor_pid(app) == 1430
        index = view.cursor_index
        assert app.table.rows[index].status == "dying"
        await resample(pilot)  # gone
        assert cursor_pid(app) == 1440
        assert view.cursor_index == index
        messages = [n.message for n in app._notifications]
        assert "PID 1430 exited; cursor moved to PID 1440" in messages


async def test_scrolling_keys_and_mouse() -> None:
    app = make_app(sort_column="pid")
    async with app.run_test(size=(100, 24)) as pilot:
        await started(pilot)
        view = app.view
        page = view.body_height - 1
        await pilot.press("pagedown")
        assert view.cursor_index == page
        await pilot.press("pagedown")
        assert view.cursor_index == 2 * page
        assert view.scroll_offset.y > 0
        await pilot.press("end")
        assert view.cursor_index == len(app.table.rows) - 1
        assert view.scroll_offset.y + view.body_height >= len(app.table.rows)
        await pilot.press("pageup", "home")
        assert view.cursor_index == 0 and view.scroll_offset.y == 0
        await pilot.press("down", "up", "down")
        assert view.cursor_index == 1
        await pilot.click(ProcessView, offset=(10, 4))
        assert view.cursor_index == 3
        for _ in range(3):  # mouse wheel
            await pilot._post_mouse_events([events.MouseScrollDown], ProcessView, (10, 5))
        await pilot.pause()
        assert view.scroll_offset.y > 0
        assert view.cursor_index == 3


# ---------------------------------------------------------------------------------- search
async def test_search_incremental_and_next() -> None:
    app = make_app(sort_column="pid")
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        prompt = app.query_one(PromptBar)
        await pilot.press("slash")
        assert prompt.is_open
        await pilot.press(*"postgres:")
        first = cursor_pid(app)
        assert first == 701
        await pilot.press("f3")
        assert cursor_pid(app) == 702
        await pilot.press("enter")
        assert not prompt.is_open
        assert app.view.has_focus
        await pilot.press("n")
        assert cursor_pid(app) == 703
        await pilot.press("f3")  # as in htop: the next match, the prompt stays closed
        assert not prompt.is_open
        assert cursor_pid(app) == 704
        await pilot.press("escape")
        assert not prompt.is_open
        await pilot.press("slash", *"#~#")
        assert prompt.has_class("-nomatch")
        assert cursor_pid(app) == 704
        await pilot.press("escape")


# ---------------------------------------------------------------------------------- filters
async def test_filter_bar_and_escape() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        bar = app.query_one(FilterBar)
        assert not bar.display
        await pilot.press("backslash", *"nginx")
        assert app.table.filter_text == "nginx"
        assert pids(app) and all("nginx" in r.info.command for r in app.table.rows)
        await pilot.press("enter")
        assert bar.display and ("Filter", "nginx") in bar.parts
        await resample(pilot)
        assert all("nginx" in r.info.command for r in app.table.rows)
        await pilot.press("escape")
        assert app.table.filter_text == "" and not bar.display
        assert len(app.table.rows) > 40
        # F4 then Esc in the prompt clears too
        await pilot.press("f4", *"cc1", "escape")
        assert app.table.filter_text == ""


async def test_user_filter() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("u")
        assert isinstance(app.screen, UserScreen)
        options = app.screen.query_one(OptionList)
        labels = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert labels == ["All users", "alice", "bob", "postgres", "root", "www-data"]
        await pilot.press("home", "down", "down", "enter")
        await pilot.pause()
        assert app.table.user_filter == "bob"
        assert {r.info.user for r in app.table.rows} == {"bob"}
        assert ("User", "bob") in app.query_one(FilterBar).parts
        await pilot.press("u", "home", "enter")
        await pilot.pause()
        assert app.table.user_filter is None


async def test_pid_filter_from_the_command_line_survives_escape() -> None:
    """htop keeps -p on Esc; pidtop too (Esc clears what was typed: text and user filters),
    and the cursor stays on its process (it jumped to the top row)."""
    app = make_app(pids=frozenset({1, 700}))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert sorted(pids(app)) == [1, 700]
        await pilot.press("escape")
        assert app.table.pid_filter == {1, 700} and sorted(pids(app)) == [1, 700]
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("backslash", *"python", "enter")  # a filter typed in the session
        await pilot.pause()
        few = len(pids(app))
        await pilot.press("end")
        bottom = cursor_pid(app)
        await pilot.press("escape")
        await pilot.pause()
        assert app.table.filter_text == "" and len(pids(app)) > few
        assert cursor_pid(app) == bottom and app.view.cursor_index > 0


# ---------------------------------------------------------------------------------- tree
async def test_tree_collapse_kept_across_refreshes() -> None:
    source = ScriptedSource()
    app = make_app(source)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("t")
        assert app.table.tree
        await pilot.press("f5")
        assert not app.table.tree
        await pilot.press("f5")
        assert app.view.set_cursor_key(source.key_of(1306))
        assert 1400 in pids(app)
        await pilot.press("minus")
        assert 1400 not in pids(app) and cursor_pid(app) == 1306
        await resample(pilot)
        assert 1400 not in pids(app) and cursor_pid(app) == 1306
        await pilot.press("plus")
        assert 1400 in pids(app)


# ---------------------------------------------------------------------------------- threads
async def test_thread_toggles() -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        assert not any(r.info.is_thread for r in app.table.rows)
        before = app.samples_merged
        await pilot.press("H")
        assert app.table.show_threads
        await wait_for(pilot, lambda: app.samples_merged > before)
        assert any(r.info.is_thread for r in app.table.rows)
        assert not any(r.info.is_kernel_thread for r in app.table.rows)  # hidden, as in htop
        await pilot.press("K")
        assert any(r.info.is_kernel_thread for r in app.table.rows)
        await pilot.press("K", "H")
        assert not any(r.info.is_thread for r in app.table.rows)
        assert not any(r.info.is_kernel_thread for r in app.table.rows)


# ---------------------------------------------------------------------------------- pause & delay
async def test_pause_stops_sampling() -> None:
    app = make_app(delay=0.1)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, 3)
        await pilot.press("Z")
        assert app.paused
        assert "PAUSED" in str(app.query_one(Meters).render())
        frozen = app.samples_merged
        # a sample already running may finish (and is not merged); after that nothing is
        # armed: no timer, no worker, so no sample can come (no fixed sleep needed to see it)
        await wait_for(pilot, lambda: not app._sampling)
        assert app._timer is None and app.samples_merged == frozen
        await pilot.press("Z")
        assert not app.paused
        await wait_for(pilot, lambda: app.samples_merged > frozen)


async def test_delay_changes_at_runtime() -> None:
    app = make_app(delay=1.5)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("right_curly_bracket")
        assert app.delay == 2.0
        await pilot.press("left_curly_bracket", "left_curly_bracket")
        assert app.delay == 1.0
        await pilot.press("full_stop")  # htop's ".": the sort column, never the delay
        assert isinstance(app.screen, SortScreen) and app.delay == 1.0
        await pilot.press("escape", "comma")
        assert isinstance(app.screen, SortScreen) and app.delay == 1.0
        await pilot.press("escape")
        await pilot.press("d")
        assert isinstance(app.screen, DelayScreen)
        await pilot.press(*"0.2", "enter")
        await pilot.pause()
        assert app.delay == 0.2
        count = app.samples_merged
        await wait_for(pilot, lambda: app.samples_merged >= count + 2)
        assert any("Delay: 0.2s" in part for part in app.query_one(Meters).status)


# ------------------------------------------------------------------ quit, help, palette
@pytest.mark.parametrize("key", ["q", "f10"])
async def test_quit(key: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press(key)
        await pilot.pause()
    assert app.return_code == 0
    assert not app.is_running


@pytest.mark.parametrize("key", ["question_mark", "f1"])
async def test_help_screen(key: str) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press(key)
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


def test_every_binding_comes_from_the_action_table_once() -> None:
    """BINDINGS of the app and the view are generated: one Binding per action, with its id (the
    digits' PID search: one per digit)."""
    from pidtop.ui.widgets.process_view import ProcessView

    bound = [b.id for cls in (PidtopApp, ProcessView) for b in cls.BINDINGS]  # type: ignore[union-attr]
    expected = [
        a.id for a in actions.ACTIONS if a.scope != "info" for _ in range(a.keys.count(",") + 1)
        if "{key}" in a.action or _ == 0
    ]  # fmt: skip
    assert sorted(bound) == sorted(expected)
    for a in actions.ACTIONS:
        name = a.action.removeprefix("app.").split("(")[0]
        if a.scope == "app" or a.action.startswith("app."):
            assert callable(getattr(PidtopApp, f"action_{name}", None)), a.id


async def test_help_lists_every_action_once() -> None:
    """The help screen is generated from the table: each action's description once, with the
    keys bound now (a keymap override shows its new keys)."""
    app = make_app(keymap={"kill": "f9,ctrl+k"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("f1")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        rows = list(actions.help_rows(app.options.keymap))
        assert len(rows) == len(actions.ACTIONS)
        assert sorted(d for _, _, d in rows) == sorted(a.description for a in actions.ACTIONS)
        assert ("F9 or ctrl+k", actions.ACTION_BY_ID["kill"].description) in [
            (k, d) for _, k, d in rows
        ]
        from pidtop.ui.screens.help import KeyTable

        drawn = "\n".join(t.plain for t in app.screen.query_one(KeyTable).lines(200))
        for a in actions.ACTIONS:  # what the screen draws: each description once
            assert drawn.count(a.description) == 1, a.id
        assert "F9 or ctrl+k" in drawn


@pytest.mark.parametrize(
    ("query", "check"),
    [
        ("Toggle tree view", lambda app: app.table.tree),
        ("Pause / resume", lambda app: app.paused),
        ("Sort by MEM%", lambda app: app.table.sort_column == "mem"),
        ("Filter processes", lambda app: app.query_one(PromptBar).is_open),
    ],
)
async def test_command_palette(query: str, check: Callable[[PidtopApp], bool]) -> None:
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*query)

        def offered() -> bool:  # the search has run and offers the command first
            palette = app.screen
            if not isinstance(palette, CommandPalette):
                return False
            options = palette.query_one(CommandList)
            return options.option_count > 0 and query in str(options.get_option_at_index(0).prompt)

        await wait_for(pilot, offered)
        await pilot.press("enter")
        await wait_for(pilot, lambda: check(app))


# ---------------------------------------------------------------------------------- entry point
def test_options_from_the_command_line() -> None:
    """The command line overlays the options it names and keeps the others (defaults / file)."""
    from pidtop.cli.main import build_tui_parser
    from pidtop.settings.options import from_args
    from pidtop.ui.startup import build_app

    args = build_tui_parser().parse_args(["--demo", "-d", "5", "-p", "1,700", "-s", "PERCENT_MEM"])
    app = build_app(from_args(args))
    assert app.delay == 0.5
    assert app.table.pid_filter == frozenset({1, 700})
    assert app.table.sort_column == "mem"
    base = Options(delay=3.0, tree=True, sort_column="pid")
    kept = from_args(build_tui_parser().parse_args(["--demo"]), base)
    assert (kept.delay, kept.tree, kept.sort_column) == (3.0, True, "pid")
    bare = build_app(Options(demo=True))
    assert bare.delay == 1.5 and bare.table.sort_column == "cpu" and not bare.table.tree


def test_run_tui_refuses_without_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from pidtop.ui.startup import run_tui

    assert run_tui(Options(demo=True)) == 2  # pytest captures stdout: not a tty
    assert "needs a terminal" in capsys.readouterr().err


async def test_many_cpus_use_two_meter_columns() -> None:
    app = make_app(ScriptedSource(ncpu=16))
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        lines = str(app.query_one(Meters).render()).splitlines()
        assert lines[0].lstrip().startswith("0[") and " 8[" in lines[0]
        assert lines[8].lstrip().startswith("Mem[")  # 8 rows of CPU pairs, then Mem and Swp
        assert "Tasks:" in lines[8]


# ------------------------------------------------------------------ event log, bulk
async def test_event_log_renders_only_what_is_visible() -> None:
    """13,154 entries (a bulk kill of 3,000 pins makes that many): ``l`` renders the visible
    lines only (a RichLog rendered all 10,000 kept ones, twice: 2.4 s here), ends on the
    newest entry, and the title counts every entry, not the 10,000 kept in memory."""
    from pidtop.ui.screens.eventlog import EventLogScreen, EventLogView

    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        for i in range(13_154):
            app.events.add("signal", f"{1000 + i}:77", f"entry number {i}")
        await pilot.press("L")
        await wait_for(pilot, lambda: isinstance(app.screen, EventLogScreen))
        view = app.screen.query_one(EventLogView)
        last = lambda: " ".join(view.line_text(y) for y in range(view.size.height))  # noqa: E731
        await wait_for(pilot, lambda: "entry number 13153" in last())
        title = str(app.screen.query_one("#log-title").render())
        assert "13154 entries" in title and "last 10000" in title
        assert len(view._strips) <= 2 * view.size.height  # only what was on screen
        await pilot.press("home")
        await wait_for(pilot, lambda: "entry number 3154 " in last() + " ")  # oldest kept
        await pilot.press("pagedown")
        await wait_for(pilot, lambda: "entry number 3154 " not in last() + " ")
        top = view.line_text(0)
        app.events.add("exit", "1:1", "a new one")  # drops the oldest; the view stays put
        await pilot.pause()
        assert view.line_text(0) == top
        await pilot.press("end")
        await wait_for(pilot, lambda: "a new one" in last())


# ------------------------------------------------------------------ kill picker keys
async def test_enter_on_the_reclaim_checkbox_sends_and_space_toggles() -> None:
    """The hint says "Enter sends": Enter on the checkbox sends (with the box as it is),
    Space toggles it."""
    from textual.app import App
    from textual.widgets import Checkbox

    from pidtop.ui.screens.signals import SignalChoice, SignalScreen

    results: list[SignalChoice | None] = []

    class Host(App[None]):
        def on_mount(self) -> None:
            self.push_screen(SignalScreen([("123:456", "sleep 100")]), results.append)

    app = Host()
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        box = app.screen.query_one("#signal-reclaim", Checkbox)
        box.focus()
        await pilot.press("space")
        assert box.value is True and not results
        await pilot.press("enter")
        await wait_for(pilot, lambda: bool(results))
        assert results == [SignalChoice(15, False, 5.0, True)]


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_help_scrolls_to_its_last_entry(size: tuple[int, int]) -> None:
    """The help is taller than 40 (and 24) lines: its box takes the focus and scrolls with
    the keys (End, Down) and the wheel until the last entry (q or F10) is visible."""
    from textual.containers import ScrollableContainer

    app = make_app()
    async with app.run_test(size=size) as pilot:
        await started(pilot)
        await pilot.press("question_mark")
        await wait_for(pilot, lambda: isinstance(app.screen, HelpScreen))
        box = app.screen.query_one("#help-box", ScrollableContainer)
        table = app.screen.query_one("#help-table")

        def last_visible() -> bool:
            bottom = box.scroll_offset.y + box.scrollable_content_region.height
            return table.virtual_region.bottom <= bottom

        await pilot.pause()
        assert not last_visible() and box.has_focus
        await pilot.press("end")
        await wait_for(pilot, last_visible)
        await pilot.press("home")
        await wait_for(pilot, lambda: box.scroll_offset.y == 0)
        for _ in range(table.virtual_region.height):  # one line a Down: enough for all of it
            await pilot.press("down")
        await wait_for(pilot, last_visible)
        await pilot.press("home")
        await wait_for(pilot, lambda: box.scroll_offset.y == 0)
        for _ in range(table.virtual_region.height):  # the mouse wheel over the box
            await pilot._post_mouse_events([events.MouseScrollDown], box, (2, 2))
        await wait_for(pilot, last_visible)


async def test_keymap_override_rebinds_an_action() -> None:
    """``keymap={"tree": "ctrl+t"}``: ctrl+t toggles the tree, t and F5 no longer do; the
    footer shows the new key; other actions keep theirs."""
    from pidtop.ui.widgets.footer import KeyFooter

    app = make_app(keymap={"tree": "ctrl+t", "sort_mem": "m"})
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("t", "f5")
        assert not app.table.tree
        await pilot.press("ctrl+t")
        assert app.table.tree
        await pilot.press("m")
        assert app.table.sort_column == "mem"
        await pilot.press("P")  # not remapped
        assert app.table.sort_column == "cpu"
        await pilot.pause()
        footer = app.query_one(KeyFooter).plain
        assert "^tTree" in footer and "F5Tree" not in footer, footer


async def test_palette_lists_every_action_once() -> None:
    """The command palette is generated from the table: each palette action once (by title,
    with its keys in the help text), then one "Sort by" per column not already an action."""
    app = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for action in actions.palette_actions():
            assert titles.count(action.title) == 1, action.title
        assert len(titles) == len(set(titles))
        assert {f"Sort by {c.title}" for c in COLUMNS} <= set(titles)


async def test_a_keymap_cannot_take_ctrl_c_or_print_escapes() -> None:
    """A keymap from anywhere (not only the config file, which refuses them with a warning):
    ctrl+c bound to kill, ESC sequences as key names. ctrl+c still quits (130); the footer and
    the help never carry the raw ESC; the entries that are fine still apply."""
    from pidtop.ui.widgets.footer import KeyFooter

    hostile = {"kill": "ctrl+c", "tree": "\x1b[2J", "sort_mem": "m"}
    assert len(actions.check_keymap(hostile)) == 2
    app = make_app(keymap=hostile)
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot)
        await pilot.press("m")
        assert app.table.sort_column == "mem"
        footer = app.query_one(KeyFooter).plain
        assert "\x1b" not in footer and "F5Tree" in footer, footer
        assert "\x1b" not in "".join(k for _, k, _ in actions.help_rows(hostile))
        await pilot.press("ctrl+c")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 130
