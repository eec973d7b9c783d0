"""Left running, left stopped, terminal left broken (issue 17), on the real app in tmux.

* A hangup or a SIGCONT during a slow quit: pidtop still ends, within a bound, and never
  enters application mode again (Textual's SIGCONT handler did, and shutdown then waited on
  its threads: the orphan spun, or the alternate screen came back until a key).
* SIGQUIT, SIGUSR1, SIGUSR2, SIGALRM restore the terminal like SIGTERM.
* After ctrl+z and ``fg`` the header and footer are painted at once.
* A whole-tree kill in the monitor (a worker thread) signalled or suspended during its freeze:
  nothing of the tree is left stopped (:mod:`test_treekill_exits` has the slow tree).

A slow quit is made deterministic by a wrapper that sleeps in ``save_settings`` (as a 50 MB
config did); the pane flags are tmux's, as in :mod:`test_ui_terminal`.
"""

from __future__ import annotations

import os
import shlex
import signal
import sys
import time
from pathlib import Path

import pytest
from test_treekill_exits import slow_tree, state, vfork_prog, wait_for
from test_ui_terminal import RESTORED, assert_restored, started
from tmuxterm import TMUX, Term, pidtop_line, program_pid

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.terminal import FORCE_AFTER

__all__ = ["vfork_prog"]  # the fixture, used by name

needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")


def slow_quit_line(seconds: float) -> str:
    code = (
        "import time, pidtop.ui.settings_actions as s\n"
        "orig = s.SettingsActions.save_settings\n"
        "def slow(self, *a, **k):\n"
        f"    time.sleep({seconds})\n"
        "    return orig(self, *a, **k)\n"
        "s.SettingsActions.save_settings = slow\n"
        "from pidtop.cli.main import main\n"
        "raise SystemExit(main(['-d', '10', '--no-config']))\n"
    )
    return shlex.join([sys.executable, "-c", code])


def gone(pid: int) -> bool:
    return state(pid) in (None, "Z")


@needs_tmux
def test_the_pane_closed_during_a_slow_quit_ends_pidtop() -> None:
    """q, then the pane is closed while the settings are still being saved (no signal reaches
    pidtop under ``sh -c``: only the terminal's hangup): gone within FORCE_AFTER, not after the
    30 s save (it used to outlive its terminal)."""
    term = Term(slow_quit_line(30))
    try:
        started(term)
        pid = program_pid(term)
        term.send("q")
        time.sleep(0.5)  # quitting: in the slow save
        assert not gone(pid)
        term.run("kill-pane", "-t", "t")
        wait_for(lambda: gone(pid), timeout=FORCE_AFTER + 7, what="pidtop to end")
    finally:
        term.close()


@needs_tmux
def test_sigcont_during_a_slow_quit_does_not_come_back() -> None:
    """SIGCONT while quitting (``fg``, or what a hangup sends): the quit finishes by itself, the
    terminal restored (it used to re-enter the alternate screen and wait for a key)."""
    with Term(slow_quit_line(2)) as term:
        started(term)
        pid = program_pid(term)
        term.send("q")
        time.sleep(0.5)
        os.kill(pid, signal.SIGCONT)
        assert term.exit_status(timeout=15) == 0
        assert_restored(term)


@needs_tmux
@pytest.mark.parametrize("sig", [signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM])
def test_other_fatal_signals_restore_the_terminal(sig: int) -> None:
    """Their default action left the alternate screen and mouse tracking on."""
    with Term(pidtop_line("-d", "10")) as term:
        started(term)
        os.kill(program_pid(term), sig)
        assert term.exit_status() == 128 + sig
        assert term.flags() == RESTORED


@needs_tmux
def test_back_from_ctrl_z_the_whole_screen_is_painted_at_once() -> None:
    """ctrl+z, then SIGCONT (what ``fg`` sends; ``sh -c`` has no job control): the meters, the
    header and the column titles are back at once, not at the next sample (5 s here)."""
    with Term(pidtop_line("-d", "50")) as term:  # 5 s between samples
        started(term)
        pid = program_pid(term)
        chrome = ("Tasks:", "Load average:", "Sort:", "PID USER")  # header, meters, columns
        term.wait("Sort:")
        term.send("C-z")
        wait_for(lambda: state(pid) == "T", what="pidtop to stop")
        os.kill(pid, signal.SIGCONT)
        deadline = time.monotonic() + 1.5
        while True:
            shown = term.screen()
            if all(text in shown for text in chrome):
                break
            assert time.monotonic() < deadline, shown
            time.sleep(0.05)
        term.send("q")
        assert term.exit_status() == 0


async def test_strace_on_pidtops_own_row_is_refused() -> None:
    """``s`` on pidtop itself would trace the tracer's own output (a flood): refused, said."""
    app = PidtopApp(ProcSampler(), delay=0.5, pids=frozenset({os.getpid()}))
    async with app.run_test(size=(120, 30), notifications=True) as pilot:
        for _ in range(500):
            if app.view.cursor_row is not None:
                break
            await pilot.pause(0.02)
        await pilot.press("s")
        for _ in range(250):
            if app._notifications:
                break
            await pilot.pause(0.02)
        said = [str(n.message) for n in app._notifications]
        assert any("pidtop itself: not traced" in m for m in said), said
        assert app.screen is app.screen_stack[0]


def tree_kill_in_monitor(term: Term, root: int, child: int) -> int:
    """Start a whole-tree SIGTERM of ``root`` in the monitor; return pidtop's PID once the
    freeze has stopped the child (the root, in vfork, holds the freeze for 2 s)."""
    started(term)
    term.wait(str(child))
    pid = program_pid(term)
    term.send("k")
    term.wait("whole tree")
    term.send("C-t")
    term.send("Enter")
    wait_for(lambda: state(child) == "T", what="the freeze to stop the child")
    return pid


@needs_tmux
@pytest.mark.parametrize("forced", [False, True])
def test_a_signal_during_a_monitor_tree_kill_leaves_nothing_stopped(
    vfork_prog: Path, forced: bool
) -> None:
    """SIGTERM during the monitor's freeze (a worker thread: signals cannot be held back
    there); ``forced``: a second SIGTERM at once, the forced exit. The tree runs again."""
    with slow_tree(vfork_prog) as (root, child):
        line = pidtop_line("-d", "10", "--no-config", "-s", "PID", "-p", f"{root},{child}")
        with Term(line) as term:
            pid = tree_kill_in_monitor(term, root, child)
            os.kill(pid, signal.SIGTERM)
            if forced:
                os.kill(pid, signal.SIGTERM)
            assert term.exit_status(timeout=FORCE_AFTER + 10) == 143
            assert term.flags() == RESTORED
            wait_for(lambda: state(child) != "T", timeout=5, what="the child to run again")


@needs_tmux
def test_ctrl_z_during_a_monitor_tree_kill_continues_the_tree(vfork_prog: Path) -> None:
    with slow_tree(vfork_prog) as (root, child):
        line = pidtop_line("-d", "10", "--no-config", "-s", "PID", "-p", f"{root},{child}")
        with Term(line) as term:
            pid = tree_kill_in_monitor(term, root, child)
            term.send("C-z")
            wait_for(lambda: state(pid) == "T", what="pidtop to stop")
            wait_for(lambda: state(child) != "T", timeout=5, what="the child to run again")
            os.kill(pid, signal.SIGCONT)
            term.wait("interrupted")
            term.send("q")
            assert term.exit_status() == 0
