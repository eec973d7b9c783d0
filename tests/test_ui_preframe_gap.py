"""The pre-frame's gap (:mod:`pidtop.ui.preframe`), more: ctrl+z while it is up, and what is
imported before it is painted. Textual is held as in ``test_ui_preframe`` (its wrapper)."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ui_preframe import held, held_code, in_gap, release, tty_modes, wait_flag
from test_ui_terminal import assert_restored
from tmuxterm import TMUX, WAIT, Term

needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")


def state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]


@needs_tmux
def test_ctrl_z_in_the_gap_gives_the_terminal_back_and_fg_takes_it_again(fifo: Path) -> None:
    """ctrl+z while the pre-frame is up (a shell with job control): pidtop stops with the main
    screen, the cursor and the original attributes back; at ``fg`` the frame and the gap's
    modes are back, and Textual then starts over it as usual; q restores the terminal."""
    before, stopped, after = (fifo.with_suffix(s) for s in (".before", ".stopped", ".after"))
    go = fifo.with_suffix(".fg")
    os.mkfifo(go)
    pidfile = fifo.with_suffix(".pid")
    note_pid = f"import os\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n"
    code = held_code(fifo, "--no-config", "-d", "10", before=note_pid)
    run = shlex.join([sys.executable, "-c", code])
    script = (
        f"set -m; stty -g > {before}; {run}; stty -g > {stopped}.tmp; mv {stopped}.tmp {stopped}; "
        f"read _ < {go}; fg; s=$?; stty -g > {after}; exit $s"
    )
    with Term(shlex.join(["bash", "-c", script]), size=(120, 30)) as term:
        in_gap(term, fifo)
        pid = int(pidfile.read_text())
        term.send("C-z")
        deadline = time.monotonic() + WAIT
        while not stopped.exists():  # the shell has the terminal again
            assert time.monotonic() < deadline, term.screen()
            time.sleep(0.02)
        assert state(pid) == "T"
        assert stopped.read_text() == before.read_text()  # the attributes as before pidtop
        assert term.flags()["alternate_on"] == "0" and term.flags()["cursor_flag"] == "1"
        assert "Command" not in term.screen()
        with open(go, "w") as f:
            f.write("fg\n")
        wait_flag(term, "alternate_on", "1")
        shown = term.wait("Command")
        assert "Load average:" in shown and "PID USER" in shown
        assert {"-echo", "-icanon", "isig"} <= set(tty_modes(term))
        assert term.flags()["cursor_flag"] == "0"
        release(fifo)
        wait_flag(term, "mouse_any_flag", "1")  # Textual runs
        term.send("F1")
        term.wait("move the cursor up")
        term.send("Escape")
        term.wait_gone("move the cursor up")
        term.send("q")
        wait_flag(term, "alternate_on", "0")  # a row's command line may read "[exit 0]"
        assert term.exit_status() == 0
        assert_restored(term)
        assert after.read_text() == before.read_text()


def test_ctrl_z_after_the_gap_is_textuals_again() -> None:
    """Once Textual has the terminal (hand over) or the pre-frame is gone, SIGTSTP is no longer
    the pre-frame's."""
    code = (
        "import signal\n"
        "from pidtop.ui import preframe\n"
        "signal.signal(signal.SIGTSTP, preframe._suspend)\n"
        "preframe._release_signals()\n"
        "print(signal.getsignal(signal.SIGTSTP) is signal.SIG_DFL, preframe._gap)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True", "None"]


@needs_tmux
def test_nothing_the_pre_frame_does_not_draw_with_is_imported_before_it(fifo: Path) -> None:
    """When the frame is rendered, neither Textual nor asyncio (nor ssl), nor the app's
    start-up, the snapshot command or the kernel's process handles are imported yet."""
    mods = fifo.with_suffix(".mods")
    spy = (  # the frame's render notes what is imported
        "import pidtop.ui.preframe as pf\n"
        "real = pf.render\n"
        "def render(*a, **k):\n"
        f"    open({str(mods)!r}, 'w').write(' '.join(sorted(sys.modules)))\n"
        "    return real(*a, **k)\n"
        "pf.render = render\n"
    )
    code = held_code(fifo, "--no-config", "-d", "10", before=spy)
    line = shlex.join([sys.executable, "-c", code])
    with Term(line, size=(120, 30)) as term:
        held(fifo)
        term.wait("Command")
        loaded = set(mods.read_text().split())
        release(fifo)
        wait_flag(term, "mouse_any_flag", "1")
        term.send("q")
        wait_flag(term, "alternate_on", "0")
        assert term.exit_status() == 0
    assert "pidtop.sampling.sampler" in loaded  # the spy saw the pre-frame's imports
    unwanted = {"asyncio", "ssl", "textual", "rich", "pidtop.ui.startup", "pidtop.cli.snapshot",
                "pidtop.actions.targets", "pidtop.kernel.handle", "ctypes", "textwrap"}  # fmt: skip
    assert loaded.isdisjoint(unwanted), sorted(loaded & unwanted)


def test_the_pre_frame_lets_go_of_its_sample_once_textual_has_the_terminal() -> None:
    """The CLI holds the PreFrame until the app ends: once handed over, it no longer keeps the
    first sample (every record of it, also those the app has replaced since) alive."""
    import termios

    from pidtop.demo.source import ScriptedSource
    from pidtop.sampling.changes import ChangeFeed
    from pidtop.ui.preframe import PreFrame

    source = ScriptedSource()
    snap = source.sample()
    primary, secondary = os.openpty()
    try:
        attrs = termios.tcgetattr(secondary)
    finally:
        os.close(primary)
        os.close(secondary)
    pre = PreFrame(ChangeFeed(), source, snap, 1, attrs)
    assert pre.snapshot is snap
    pre.hand_over()  # what Textual's driver calls as it starts (stdin here: no terminal)
    assert pre.snapshot is None and pre.handed_over
