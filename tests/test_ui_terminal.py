"""The terminal always comes back (issue 7, items 9 and 10), checked on the real app in tmux.

Signals end pidtop like ``q`` (status 128+N, no traceback), ctrl+c quits as in htop, a crash
restores the terminal before its one line, and ``2>/dev/null`` is refused. After pidtop the
pane is back at the shell; tmux's own flags say whether the alternate screen, a hidden cursor
or mouse tracking were left behind.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest
from procs import spawn
from tmuxterm import TMUX, WAIT, Term, pidtop_line, program_pid
from uitools import wait_for

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen
from pidtop.ui.terminal import FORCE_AFTER

needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")

#: the pane's flags while a program is in Textual's application mode...
APP_MODE = {"alternate_on": "1", "cursor_flag": "0", "mouse_any_flag": "1"}
#: ...and once the terminal is restored
RESTORED = {
    "alternate_on": "0",
    "cursor_flag": "1",
    "mouse_any_flag": "0",
    "mouse_button_flag": "0",
    "mouse_sgr_flag": "0",
}


def started(term: Term) -> None:
    """Until Textual runs: the table is on screen and the app's modes are on (the table shows
    first in the pre-frame, :mod:`pidtop.ui.preframe`, before Textual has started)."""
    term.wait("PID")
    deadline = time.monotonic() + WAIT
    while {k: (flags := term.flags())[k] for k in APP_MODE} != APP_MODE:
        assert time.monotonic() < deadline, flags
        time.sleep(0.02)


def assert_restored(term: Term) -> str:
    assert term.flags() == RESTORED
    shown = term.screen()
    assert "Traceback" not in shown
    return shown


@needs_tmux
@pytest.mark.parametrize(
    ("sig", "status"), [(signal.SIGTERM, 143), (signal.SIGHUP, 129), (signal.SIGINT, 130)]
)
def test_signal_quits_and_restores_the_terminal(sig: int, status: int) -> None:
    """SIGTERM/SIGHUP/SIGINT: the terminal as before, status 128+N (SIGTERM left the
    alternate screen, a hidden cursor and mouse tracking; SIGINT exited 0)."""
    with Term(pidtop_line("-d", "10")) as term:
        started(term)
        os.kill(program_pid(term), sig)
        assert term.exit_status() == status
        assert_restored(term)


@needs_tmux
def test_ctrl_c_quits_with_130() -> None:
    """ctrl+c quits as in htop (Textual only said "press ctrl+q"), status 130 as for SIGINT."""
    with Term(pidtop_line("-d", "10")) as term:
        started(term)
        term.send("C-c")
        assert term.exit_status() == 130
        assert_restored(term)


@needs_tmux
def test_crash_restores_the_terminal_then_prints_one_line(tmp_path: Path) -> None:
    """An exception in the app: the terminal first, then one line naming the crash file (in
    $XDG_STATE_HOME/pidtop) that holds the traceback; status 1."""
    boom = (
        "import pidtop.ui.app as a\n"
        "def boom(self): raise ZeroDivisionError('boom in help')\n"
        "a.PidtopApp.action_help = boom\n"
        "from pidtop.cli.main import main\n"
        "raise SystemExit(main(['-d', '10']))\n"
    )
    line = shlex.join([sys.executable, "-c", boom])
    with Term(line, env={"XDG_STATE_HOME": str(tmp_path)}, size=(300, 30)) as term:
        started(term)
        term.send("F1")
        assert term.exit_status() == 1
        shown = assert_restored(term)
        said = [ln for ln in shown.splitlines() if ln.startswith("pidtop:")]
        assert len(said) == 1, shown
        assert "ZeroDivisionError: boom in help" in said[0]
        match = re.search(r"details in (\S+\.txt)", said[0])
        assert match, said[0]
        crash = Path(match.group(1))
        assert crash.parent == tmp_path / "pidtop"
        text = crash.read_text()
        assert "Traceback" in text and "boom in help" in text
        assert crash.stat().st_mode & 0o777 == 0o600


@needs_tmux
def test_stderr_not_a_terminal_is_refused() -> None:
    """``pidtop 2>/dev/null`` (Textual draws on stderr) is refused like ``>/dev/null``, and
    the reason is shown on stdout, the terminal."""
    with Term(pidtop_line("-d", "10") + " 2>/dev/null") as term:
        assert term.exit_status() == 2
        shown = term.screen()
        assert "needs a terminal" in shown and "stderr" in shown
        assert term.flags() == RESTORED


@needs_tmux
def test_sigterm_to_a_stuck_app_still_restores_the_terminal() -> None:
    """The UI loop blocked (an action that never returns): SIGTERM cannot be handled by the app,
    so after FORCE_AFTER seconds the terminal is restored by hand and the status is 143."""
    stuck = (
        "import time, pidtop.ui.app as a\n"
        "a.PidtopApp.action_help = lambda self: time.sleep(3600)\n"
        "from pidtop.cli.main import main\n"
        "raise SystemExit(main(['-d', '10']))\n"
    )
    with Term(shlex.join([sys.executable, "-c", stuck])) as term:
        started(term)
        term.send("F1")
        pid = program_pid(term)
        os.kill(pid, signal.SIGTERM)
        assert term.exit_status(timeout=FORCE_AFTER + 10) == 143
        assert_restored(term)


async def test_ctrl_c_with_an_escalation_pending_asks_then_quits() -> None:
    """ctrl+c asks as q does while a SIGKILL is still to come; ctrl+c again quits (130)."""
    with spawn(ignore_term=True) as t:
        app = PidtopApp(ProcSampler(), delay=0.5, pids=frozenset({t.pid}))
        app.escalate_after = 30
        async with app.run_test(size=(120, 30)) as pilot:
            await wait_for(pilot, lambda: app.view.cursor_row is not None)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press(*"escalate", "enter")
            await wait_for(pilot, lambda: len(app.pins.pending_actions) == 1)
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            assert app.is_running
            await pilot.press("ctrl+c")
            await wait_for(pilot, lambda: not app.is_running)
        assert app.return_code == 130


async def test_ctrl_c_quits_at_once_otherwise() -> None:
    """Nothing pending: ctrl+c quits with 130, also from inside a prompt or a picker."""
    for keys in (("ctrl+c",), ("slash", "ctrl+c"), ("k", "ctrl+c")):
        with spawn() as t:
            app = PidtopApp(ProcSampler(), delay=0.5, pids=frozenset({t.pid}))
            async with app.run_test(size=(120, 30)) as pilot:
                await wait_for(pilot, lambda: app.view.cursor_row is not None)  # noqa: B023
                await pilot.press(*keys)
                await wait_for(pilot, lambda: not app.is_running)  # noqa: B023
            assert app.return_code == 130, keys
