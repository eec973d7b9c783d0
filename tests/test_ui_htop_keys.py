"""Every key of htop 3.2.2's F1 help, pressed in pidtop: it does what the README's table of
htop keys says (the same as htop, or what pidtop does instead), never nothing.

The table is read from the README (between the ``htop-keys`` marker and the next blank line):
a key added to it is walked too, a key left out fails :func:`test_readme_lists_every_htop_key`.
Keys are pressed with Pilot on the scripted source, and once as a burst in a real terminal.
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import pytest
from procs import ROOT
from tmuxterm import TMUX, Term, pidtop_line
from uitools import wait_for as wait_for_condition

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.details import DetailsScreen
from pidtop.ui.screens.dialogs import SortScreen, TextScreen
from pidtop.ui.widgets.meters import Meters

SIZE = (120, 40)
wait_for = partial(wait_for_condition, timeout=5.0)
needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")

#: htop 3.2.2's F1 help, every key as it prints them (htop -> F1 on this machine's htop)
HTOP_HELP = (
    "#", "Tab", "S-Tab", "Space", "Arrows", "c", "Digits", "U", "F3 /", "F9 k", "F4 \\",
    "F7 ]", "F5 t", "F8 [", "p", "a", "m", "e", "Z", "i", "u", "l", "H", "x", "K", "s", "F",
    "w", "+ - *", "F2 C S", "F1 h ?", "N P M T", "F10 q", "I", "F6 > .",
)  # fmt: skip

#: how a README key is pressed (Textual key names)
_NAMES = {
    "Tab": "tab", "S-Tab": "shift+tab", "Space": "space", "Arrows": "down", "Digits": "digits",
    "/": "slash", "\\": "backslash", "]": "right_square_bracket", "[": "left_square_bracket",
    "+": "plus", "-": "minus", "*": "asterisk", "?": "question_mark", ">": "greater_than_sign",
    ".": "full_stop", "#": "number_sign", "<": "less_than_sign", ",": "comma",
}  # fmt: skip


def readme_table() -> dict[str, tuple[str, str]]:
    """htop key cell -> (htop's words, pidtop's words), from the README."""
    text = (Path(ROOT) / "README.md").read_text()
    block = text.split("<!-- htop-keys", 1)[1].split("\n\n", 1)[0]
    rows = {}
    for line in block.splitlines()[3:]:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        rows[cells[0].replace("`", "")] = (cells[1], cells[2])
    return rows


def test_readme_lists_every_htop_key() -> None:
    """Every line of htop's help is a row, with what pidtop does; no row left blank."""
    rows = readme_table()
    assert sorted(rows) == sorted(HTOP_HELP)
    for key, (htop, pidtop) in rows.items():
        assert htop and pidtop, key
        if not pidtop.startswith("same"):
            assert len(pidtop) > 20, f"{key}: say what pidtop does instead, and why"


def keys_of(cell: str) -> list[str]:
    return [_NAMES.get(k, k.lower() if k[:1] == "F" and k[1:].isdigit() else k) for k in
            cell.split()]  # fmt: skip


def fingerprint(app: PidtopApp) -> tuple[object, ...]:
    """What a key can change that a user sees."""
    t = app.table
    return (
        type(app.screen).__name__, t.sort_column, t.sort_reverse, t.tree, t.show_threads,
        t.show_kernel_threads, t.filter_text, t.user_filter, app.view.cursor_key, len(app.pins),
        app.paused, app.query_one(Meters).has_class("-hidden"), app.view.program_path,
        app.delay, type(app.focused).__name__, app.prompt.display,
        tuple(r.collapsed for r in t.rows), tuple(r.info.nice for r in t.rows),
    )  # fmt: skip


def _key_cases() -> list[tuple[str, str]]:
    return [(cell, key) for cell in HTOP_HELP for key in keys_of(cell)]


@pytest.mark.parametrize(("cell", "key"), _key_cases())
async def test_every_htop_key_does_something(cell: str, key: str) -> None:
    """Pressed on the main screen (after the cursor is moved off the top row, and with one pin
    for the keys that act on pins), each key changes what is shown or says something."""
    app = PidtopApp(ScriptedSource(), delay=3600.0)
    said: list[str] = []
    notify = app.notify

    def record(message: str, *args: object, **kwargs: object) -> None:
        said.append(message)
        notify(message, *args, **kwargs)  # type: ignore[arg-type]

    app.notify = record  # type: ignore[method-assign]
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.press("down", "down")
        if key in ("U", "w", "x", "tab", "shift+tab"):  # they act on pins: give them one
            await pilot.press("space", "up")
        if key in ("P", "M", "T", "N"):  # from another sort column
            await pilot.press("N" if key != "N" else "P")
        await pilot.pause()
        before, heard = fingerprint(app), len(said)
        if key == "digits":  # the first row's PID, typed
            await pilot.press(*str(app.table.rows[0].info.pid))
        else:
            await pilot.press(key)
        await pilot.pause()
        if key in ("q", "f10"):
            assert app.return_code == 0 and not app.is_running
            return
        assert fingerprint(app) != before or len(said) > heard, f"{cell}: {key} did nothing"


async def test_digits_go_to_the_pid_typed() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        target = app.table.rows[-1].info.pid
        await pilot.press(*str(target))
        assert app.view.cursor_row is not None and app.view.cursor_row.info.pid == target
        # a digit after the gap starts a new PID (the clock is moved back, not waited for)
        app._pid_typed = (app._pid_typed[0], time.monotonic() - 10)
        await pilot.press("1")
        assert app._pid_typed[0] == "1"


async def test_star_expands_and_collapses_all() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0, tree=True)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        shown = len(app.table.rows)
        await pilot.press("asterisk")
        assert len(app.table.rows) < shown and any(r.collapsed for r in app.table.rows)
        await pilot.press("asterisk")
        assert len(app.table.rows) == shown and not any(r.collapsed for r in app.table.rows)


async def test_hash_h_c_p_w_and_the_enter_in_details() -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        meters = app.query_one(Meters)
        await pilot.press("number_sign")
        assert not meters.display or meters.region.height == 0
        await pilot.press("number_sign")
        await pilot.pause()
        assert meters.region.height > 0
        await pilot.press("h")
        assert type(app.screen).__name__ == "HelpScreen"
        await pilot.press("escape", "C")
        assert type(app.screen).__name__ == "SetupScreen"
        await pilot.press("escape")
        row = next(r for r in app.table.rows if r.info.command.startswith("/"))
        app.view.set_cursor(app.table.index_of(row.key) or 0)
        await pilot.press("p")
        await pilot.pause()
        assert not app.view.program_path and "/" not in app.view._texts(row)[0].split(" ")[0]
        await pilot.press("p", "W")
        assert isinstance(app.screen, TextScreen)
        await pilot.press("escape", "enter")
        await wait_for(pilot, lambda: isinstance(app.screen, DetailsScreen))
        depth = len(app.screen_stack)
        await pilot.press("enter", "enter", "enter")
        assert len(app.screen_stack) == depth, "Enter opened another copy of the details"
        await pilot.press("escape")
        assert not isinstance(app.screen, DetailsScreen)


async def test_dot_and_comma_never_change_the_delay() -> None:
    app = PidtopApp(ScriptedSource(), delay=1.5)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        for key in ("full_stop", "comma"):
            await pilot.press(key)
            assert isinstance(app.screen, SortScreen) and app.delay == 1.5
            await pilot.press("escape")


@needs_tmux
def test_tmux_htop_keys_in_one_burst() -> None:
    """A fast htop hand in a real terminal, one ``send-keys``: ``.`` opens the sort menu,
    Escape closes it, ``h`` opens the help; nothing changes the delay."""
    line = pidtop_line("--demo", "--no-config", "-d", "15")
    with Term(line, size=(100, 30)) as term:
        term.wait("PID")
        term.send(".")
        term.wait("Sort by")
        term.send("Escape")  # alone: ESC then a key in one read is Alt+key to a terminal
        term.wait_gone("Sort by")
        term.send("#", "p", "h")
        term.wait("invert the sort order")
        term.send("Escape")
        term.wait_gone("invert the sort order")
        shown = term.screen()
        assert "Tasks:" not in shown, "# hid the meters"
        term.send("#")
        shown = term.wait("Delay: 1.5s")
        term.send("q")
        assert term.exit_status() == 0
