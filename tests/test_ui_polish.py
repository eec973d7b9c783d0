"""UI polish: kill target lists, the USER cell, bad CLI values, the cursor-exit message after
PID reuse and the refresh-delay bounds."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from functools import partial

from textual.geometry import Region
from textual.widget import Widget
from uitools import resample as resample_app
from uitools import wait_for as wait_for_condition

from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen
from pidtop.ui.widgets.process_view import ProcessView

TARGETS_SHOWN = 8  # the first eight, then "… and N more"


def make_app(source: ScriptedSource | None = None, **kwargs: object) -> PidtopApp:
    kwargs.setdefault("delay", 3600.0)
    return PidtopApp(source or ScriptedSource(), **kwargs)  # type: ignore[arg-type]


wait_for = partial(wait_for_condition, timeout=5.0)
resample = partial(resample_app, timeout=5.0)


def drawn(widget: Widget) -> list[str]:
    """The lines ``widget`` draws now (its content region)."""
    size = widget.size
    return [s.text.rstrip() for s in widget.render_lines(Region(0, 0, size.width, size.height))]


LONG = "/process_api --firecracker-init --addr 0.0.0.0:2024 --max-ws-buffer-size 1048576 [red]x"


def _targets(n: int) -> list[tuple[str, str]]:
    return [(f"{100 + i}:{2000 + i}", f"{LONG} #{i}") for i in range(n)]


async def _check_target_list(screen_factory: Callable[[], object], widget_id: str, n: int) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(screen_factory())  # type: ignore[arg-type]
        await wait_for(pilot, lambda: isinstance(app.screen, (SignalScreen, ConfirmScreen)))
        await pilot.pause()
        widget = app.screen.query_one(f"#{widget_id}")
        lines = [line for line in drawn(widget) if line]
        shown = min(n, TARGETS_SHOWN) if n > TARGETS_SHOWN + 1 else n
        assert len(lines) == shown + (1 if shown < n else 0), lines
        for i, line in enumerate(lines[:shown]):
            assert line.startswith(f"{100 + i}:{2000 + i}  /process_api --firecracker-init"), line
            assert line.endswith("…"), line  # cut at the width, marked: never wrapped mid-word
        if shown < n:
            assert lines[-1] == f"… and {n - shown} more"


async def test_picker_lists_one_line_per_target_cut_with_ellipsis() -> None:
    targets = _targets(20)
    await _check_target_list(lambda: SignalScreen(targets), "signal-targets", 20)


async def test_picker_few_targets_all_listed() -> None:
    targets = _targets(2)
    await _check_target_list(lambda: SignalScreen(targets), "signal-targets", 2)


async def test_confirm_lists_one_line_per_target_cut_with_ellipsis() -> None:
    targets = _targets(30)
    await _check_target_list(
        lambda: ConfirmScreen("Send SIGTERM", targets, ["more than 5 processes"]),
        "confirm-targets",
        30,
    )


async def test_target_text_is_not_markup() -> None:
    targets = [("1:2", "[bold red]evil[/] \x1b[31m")]
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.push_screen(SignalScreen(targets))
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        await pilot.pause()
        (line,) = [x for x in drawn(app.screen.query_one("#signal-targets")) if x]
        assert line.startswith("1:2  [bold red]evil[/]"), line
        assert "\x1b" not in line


# --------------------------------------------------------------------------- USER column


def _line_of(app: PidtopApp, pid: int) -> str:
    lines = [line for line in drawn(app.query_one(ProcessView)) if line.split()[:1] == [str(pid)]]
    assert lines, f"PID {pid} not drawn"
    return lines[0]


async def test_long_user_name_ends_in_plus() -> None:
    source = ScriptedSource()
    app = make_app(source, pids=frozenset({4242, 4243}))
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        source.spawn(4242, 1, "longuid", "/usr/bin/longuid", user="4000000000")
        source.spawn(4243, 1, "fits", "/usr/bin/fits", user="exactly9c")
        await resample(pilot)
        assert _line_of(app, 4242).split()[1] == "40000000+"  # never the valid-looking 400000000
        assert _line_of(app, 4243).split()[1] == "exactly9c"


# --------------------------------------------------------------------------- bad CLI values


def _run_pidtop(*args: str) -> subprocess.CompletedProcess[str]:
    """``python -m pidtop ARGS`` without a terminal (a usage error must come before that check)."""
    return subprocess.run(
        [sys.executable, "-m", "pidtop", *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_unknown_user_is_a_usage_error() -> None:
    out = _run_pidtop("-u", "nosuchuser")
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "pidtop: argument -u/--user: unknown user 'nosuchuser' (see --help)"
    ]


def test_unknown_sort_column_is_a_usage_error() -> None:
    out = _run_pidtop("-s", "FOO")
    assert out.returncode == 2
    (line,) = out.stderr.strip().splitlines()
    assert "unknown sort column 'FOO'" in line
    assert "CPU%" in line and "PID" in line  # the valid columns are listed


def test_known_user_uid_and_sort_names_accepted() -> None:
    from pidtop.cli.main import build_tui_parser

    args = build_tui_parser().parse_args(["-u", "0", "-s", "PERCENT_CPU"])
    assert (args.user, args.sort_key) == ("root", "cpu")  # uid 0 is filtered by its name
    args = build_tui_parser().parse_args(["-u", "root", "-s", "MEM%"])
    assert (args.user, args.sort_key) == ("root", "mem")
    args = build_tui_parser().parse_args(["-u", "4000000000"])  # a uid without a name
    assert args.user == "4000000000"


# --------------------------------------------------------------------------- cursor after PID reuse


async def test_cursor_message_after_pid_reuse() -> None:
    source = ScriptedSource()
    app = make_app(source, sort_column="pid")
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        view = app.query_one(ProcessView)
        old_key = source.key_of(1430)
        assert view.set_cursor_key(old_key)
        source.exit(1430)
        await resample(pilot)  # still shown, dimmed (dying)
        new_key = source.spawn(1430, 1, "reused", "/usr/bin/reused")
        assert new_key != old_key
        await resample(pilot)  # the old one is gone; the newcomer has its PID (and its row)
        assert view.cursor_key == new_key
        messages = [n.message for n in app._notifications]
        assert "PID 1430 exited; a new process now has PID 1430" in messages
        assert not any("cursor moved to PID 1430" in m for m in messages)


# --------------------------------------------------------------------------- refresh delay bounds


def test_delay_bounds_agree_everywhere() -> None:
    from pidtop.cli.args import MAX_DELAY_TENTHS
    from pidtop.cli.main import build_tui_parser
    from pidtop.settings.options import DELAY_STEPS
    from pidtop.ui.screens.dialogs import MAX_DELAY, MIN_DELAY

    assert (DELAY_STEPS[0], DELAY_STEPS[-1]) == (MIN_DELAY, MAX_DELAY) == (0.1, 60.0)
    assert MAX_DELAY_TENTHS / 10 == MAX_DELAY
    assert build_tui_parser().parse_args(["-d", "600"]).delay == 600
    out = _run_pidtop("-d", "601")
    assert out.returncode == 2 and "1-600 (0.1-60 s)" in out.stderr


async def test_delay_prompt_says_seconds_and_refuses_past_60() -> None:
    from textual.widgets import Input, Label

    from pidtop.ui.screens.dialogs import DelayScreen

    app = make_app(delay=1.5)
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        await pilot.press("d")
        await wait_for(pilot, lambda: isinstance(app.screen, DelayScreen))
        screen = app.screen
        texts = " ".join(str(label.render()) for label in screen.query(Label))
        assert "seconds" in texts and "60" in texts
        screen.query_one(Input).value = "61"
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, DelayScreen)  # refused, with the reason
        assert "from 0.1 to 60" in str(screen.query_one("#delay-error", Label).render())
        screen.query_one(Input).value = "60"
        await pilot.press("enter")
        await wait_for(pilot, lambda: not isinstance(app.screen, DelayScreen))
        assert app.delay == 60.0
        await pilot.press("full_stop")  # already the largest step: stays
        assert app.delay == 60.0
        app.set_delay(3600)
        assert app.delay == 60.0


async def test_picker_on_a_short_terminal_lists_fewer_targets() -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        app.push_screen(SignalScreen(_targets(12)))
        await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
        await pilot.pause()
        lines = [x for x in drawn(app.screen.query_one("#signal-targets")) if x]
        assert len(lines) == 2 and lines[0].endswith("…") and lines[1] == "… and 11 more"
