"""The pre-frame (:mod:`pidtop.ui.preframe`) in a real terminal: painted before Textual is
imported, drawn over by Textual's first frame with no blank screen between, keys typed in the
gap reach the app without being echoed, and the terminal comes back from every way out.

The gap is held open deterministically: a wrapper blocks ``import textual`` until the test
writes to a FIFO (nothing in pidtop knows about it). While it is held, Textual has not started:
no mouse tracking (tmux's ``mouse_any_flag``) and no Textual module imported.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_ui_terminal import RESTORED, assert_restored
from tmuxterm import TMUX, WAIT, Term, program_pid

needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")


def held_code(fifo: Path, *args: str, before: str = "") -> str:
    """Python running pidtop with ``import textual`` blocked until ``fifo`` is written;
    ``before`` runs first."""
    return (
        "import sys\n"
        f"{before}"
        "class Hold:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name == 'textual':\n"
        "            sys.meta_path.remove(self)\n"
        f"            open({str(fifo.with_suffix('.held'))!r}, 'w').close()\n"
        f"            open({str(fifo)!r}).read()\n"
        "        return None\n"
        "sys.meta_path.insert(0, Hold())\n"
        "from pidtop.cli.main import main\n"
        f"raise SystemExit(main({list(args)!r}))\n"
    )


def held_line(fifo: Path, *args: str) -> str:
    """pidtop with ``import textual`` blocked until ``fifo`` is written (:func:`held_code`);
    the terminal's attributes before and after are written next to it (``stty -g``)."""
    code = held_code(fifo, *args)
    before, after = fifo.with_suffix(".before"), fifo.with_suffix(".after")
    run = shlex.join([sys.executable, "-c", code])
    # the shell as an interactive one is: ctrl+c (SIGINT to the foreground group) ends pidtop
    return f"trap true INT; stty -g > {before}; {run}; s=$?; stty -g > {after}; (exit $s)"


def release(fifo: Path) -> None:
    with open(fifo, "w") as f:
        f.write("go")


def wait_flag(term: Term, flag: str, value: str) -> None:
    deadline = time.monotonic() + WAIT
    while term.flags()[flag] != value:
        assert time.monotonic() < deadline, term.flags()
        time.sleep(0.02)


def held(fifo: Path) -> None:
    """Until pidtop is about to import Textual (and blocked there)."""
    deadline = time.monotonic() + WAIT
    while not fifo.with_suffix(".held").exists():
        assert time.monotonic() < deadline, "pidtop never reached import textual"
        time.sleep(0.02)


def tty_modes(term: Term) -> list[str]:
    """``stty -a`` of the pane's terminal, word by word."""
    tty = term.run("display-message", "-p", "-t", "t", "#{pane_tty}").strip()
    done = subprocess.run(["stty", "-a", "-F", tty], capture_output=True, text=True, check=True)
    return done.stdout.split()


def in_gap(term: Term, fifo: Path) -> str:
    """The pre-frame, with Textual held: the table on the alternate screen, no echo, no
    canonical mode, signals on; the screen."""
    held(fifo)
    shown = term.wait("Command")
    modes = tty_modes(term)
    assert {"-echo", "-icanon", "isig", "-ixon"} <= set(modes), modes
    flags = term.flags()
    assert flags["alternate_on"] == "1" and flags["cursor_flag"] == "0", flags
    assert flags["mouse_any_flag"] == "0", flags  # Textual has not started
    return shown


def same_stty(fifo: Path) -> None:
    before = fifo.with_suffix(".before").read_text()
    assert before and fifo.with_suffix(".after").read_text() == before


@needs_tmux
def test_the_table_shows_before_textual_and_a_key_typed_then_reaches_the_app(fifo: Path) -> None:
    """The pre-frame has the header and the table; F1 pressed in the gap is not echoed and
    opens the help once Textual runs; q then restores the terminal exactly."""
    with Term(held_line(fifo, "--no-config", "-d", "10"), size=(120, 30)) as term:
        shown = in_gap(term, fifo)
        assert "Load average:" in shown and "PID USER" in shown
        rows = shown.split("PID USER", 1)[1].splitlines()[1:6]
        assert rows and all(Path(f"/proc/{r.split()[0]}").exists() for r in rows)  # real
        term.send("F1")  # queued in the tty, not echoed (in_gap: -echo -icanon)
        release(fifo)
        term.wait("move the cursor up")
        wait_flag(term, "mouse_any_flag", "1")
        term.send("Escape")
        term.wait_gone("move the cursor up")
        term.send("q")
        assert term.exit_status() == 0
        assert_restored(term)
        same_stty(fifo)


@needs_tmux
@pytest.mark.parametrize(("key", "sig", "status"), [("C-c", None, 130), (None, "TERM", 143)])
def test_interrupted_in_the_gap_restores_the_terminal(
    fifo: Path, key: str | None, sig: str | None, status: int
) -> None:
    """ctrl+c (SIGINT) or SIGTERM while the pre-frame is up: 128+N, no traceback, the main
    screen, the cursor and the original terminal attributes back."""
    with Term(held_line(fifo, "--no-config"), size=(120, 30)) as term:
        in_gap(term, fifo)
        if key is not None:
            term.send(key)
        else:
            os.kill(program_pid(term), getattr(signal, f"SIG{sig}"))
        assert term.exit_status() == status
        assert term.flags() == RESTORED
        assert "Traceback" not in term.screen()
        same_stty(fifo)


@needs_tmux
def test_a_start_up_error_after_the_pre_frame_is_printed_on_the_restored_terminal(
    fifo: Path,
) -> None:
    """``--pin`` of a process that does not exist fails once the app is built, after the
    pre-frame: the message is on the main screen, status 3, the terminal as before."""
    pid = 4_000_000  # above pid_max: never a process
    with Term(held_line(fifo, "--no-config", "--pin", str(pid)), size=(120, 30)) as term:
        in_gap(term, fifo)
        release(fifo)
        assert term.exit_status() == 3
        shown = assert_restored(term)
        assert f"--pin {pid}" in shown
        same_stty(fifo)


@needs_tmux
@pytest.mark.parametrize(
    ("args", "env", "size"),
    [
        (("--no-preframe",), {}, (120, 30)),
        ((), {"PIDTOP_NO_PREFRAME": "1"}, (120, 30)),
        (("--replay",), {}, (120, 30)),
        ((), {}, (120, 19)),  # the app's header is compact below 20 lines: not drawn here
        ((), {}, (59, 30)),
    ],
)
def test_no_pre_frame_when_turned_off_too_small_or_not_the_live_monitor(
    fifo: Path, args: tuple[str, ...], env: dict[str, str], size: tuple[int, int]
) -> None:
    """Nothing is drawn while Textual is held; the terminal is as it was."""
    line = held_line(fifo, "--no-config", *args)
    with Term(line, size=size, env={"XDG_STATE_HOME": str(fifo.parent), **env}) as term:
        held(fifo)
        assert term.screen().strip() == "" and term.flags()["alternate_on"] == "0"
        assert "-echo" not in tty_modes(term)
        release(fifo)
        term.send("q")
        term.exit_status()


def test_the_pre_frame_imports_neither_textual_nor_rich() -> None:
    """Its point is to draw before they load."""
    code = "import sys, pidtop.ui.preframe; print(sorted({'textual', 'rich'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


@pytest.mark.parametrize(
    ("env", "mode"),
    [
        ({"LANG": "C.UTF-8", "TERM": "xterm-256color"}, False),
        ({"LANG": "en_US.UTF-8", "TERM": "xterm", "COLORTERM": "truecolor"}, True),
        ({"LANG": "C.UTF-8", "TERM": "xterm"}, None),  # 8/16 colours: drawn otherwise
        ({"LANG": "C", "TERM": "xterm-256color"}, None),  # ASCII only
        ({"LANG": "C.UTF-8", "TERM": "xterm-256color", "NO_COLOR": "1"}, None),
    ],
)
def test_only_terminals_drawn_in_the_default_colours_get_one(
    env: dict[str, str], mode: bool | None
) -> None:
    from pidtop.ui.preframe import _colour_mode

    assert _colour_mode(env) == mode


Cell = tuple[str, object, object, bool]


def cells(capture: str) -> list[list[Cell]]:
    """``capture-pane -e`` as cells (character, foreground, background, bold); tmux carries
    attributes from one line to the next, so the whole capture is read in order. A space's
    foreground is not seen: it is left out (None)."""
    grid: list[list[Cell]] = []
    fg: object = None
    bg: object = None
    bold = reverse = False
    for line in capture.split("\n"):
        row: list[Cell] = []
        for tok in re.split(r"(\x1b\[[0-9;]*m)", line):
            if not tok.startswith("\x1b["):
                for ch in tok:
                    f, b = (bg, fg) if reverse else (fg, bg)
                    row.append((ch, None if ch == " " else f, b, bold and ch != " "))
                continue
            ps = [int(x) if x else 0 for x in tok[2:-1].split(";")]
            i = 0
            while i < len(ps):
                p = ps[i]
                if p == 0:
                    fg = bg = None
                    bold = reverse = False
                elif p in (1, 22):
                    bold = p == 1
                elif p in (7, 27):
                    reverse = p == 7
                elif p in (39, 49):
                    fg, bg = (None, bg) if p == 39 else (fg, None)
                elif p in (38, 48):
                    n = 3 if ps[i + 1] == 5 else 5
                    value = tuple(ps[i + 2 : i + n])
                    fg, bg = (value, bg) if p == 38 else (fg, value)
                    i += n - 1
                i += 1
        grid.append(row)
    return grid


@needs_tmux
def test_the_pre_frame_draws_the_cells_textual_draws_over_it(fifo: Path) -> None:
    """The pre-frame copies the app's look (layout, theme colours): a drift guard. Textual's
    first frame merges the same sample, so the column header and the header's labels must be
    the same cells, text and colours (SGR as tmux reports them), in both; every table row the
    pre-frame drew must have the same text (the order and values of one sample)."""
    with Term(held_line(fifo, "--no-config", "-d", "100"), size=(120, 30)) as term:
        in_gap(term, fifo)
        before = term.escapes().splitlines()
        plain_before = term.screen().splitlines()
        release(fifo)
        wait_flag(term, "mouse_any_flag", "1")
        term.wait("F1")  # the footer's keys: Textual has drawn its own frame by then
        after = term.escapes().splitlines()
        plain_after = term.screen().splitlines()
        term.send("q")
        assert term.exit_status() == 0
    head = next(i for i, line in enumerate(plain_before) if "PID USER" in line)
    assert plain_after[head] == plain_before[head]
    cells_before, cells_after = cells("\n".join(before)), cells("\n".join(after))
    width = len(plain_before[head].rstrip())
    assert cells_after[head][:width] == cells_before[head][:width], "the column header's look"
    for i in range(head):  # meters: labels and brackets in the same places and colours
        for label in ("Mem[", "Swp[", "Tasks:", "Load average:", "Uptime:"):
            if label in plain_before[i]:
                j = plain_before[i].index(label)
                assert plain_after[i].index(label) == j, label
                assert cells_after[i][j : j + len(label)] == cells_before[i][j : j + len(label)]
    rows = [i for i in range(head + 1, len(plain_before) - 1) if plain_before[i].strip()]
    assert rows
    # a later sample (0.5 s after the first) may change CPU% and the order: compare the rows
    # only if the app has not merged a second one yet (its PIDs are still the pre-frame's)
    pids = [plain_before[i].split()[0] for i in rows]
    if [plain_after[i].split()[0] for i in rows] == pids:
        for i in rows:
            assert plain_after[i].split()[1:3] == plain_before[i].split()[1:3], i  # USER PRI
