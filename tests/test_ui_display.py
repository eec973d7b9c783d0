"""What the terminal can show (issue 7, item 12): TERM=dumb/vt100, NO_COLOR and a locale that
is not UTF-8 get a usable screen: ASCII only, no colour codes where there are no colours, the
cursor row in reverse video. Checked on the real app in tmux, on what the pane received."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from rich.cells import cell_len
from tmuxterm import TMUX, Term, pidtop_line

from pidtop.ui.display import DisplayProfile, ascii_text, display_profile, terminfo_colors

COLOUR_256_OR_RGB = re.compile(r"\x1b\[[0-9;]*[34]8;[25];")
#: a foreground or background colour (39/49, the default colours, are not colours)
ANY_COLOUR = re.compile(r"\x1b\[(?:[0-9;]*;)?(?:3[0-8]|4[0-8]|9[0-7]|10[0-7])(?:[;m])")
REVERSE = re.compile(r"\x1b\[(?:[0-9;]*;)?7[;m]")


XTERM256 = {"TERM": "xterm-256color"}


@pytest.mark.parametrize(
    ("env", "colors", "expected"),
    [
        ({**XTERM256, "LANG": "C.UTF-8"}, 256, DisplayProfile(True, True)),
        ({"TERM": "xterm", "LANG": "en_US.UTF-8"}, 8, DisplayProfile(True, True)),
        ({**XTERM256, "LANG": "C.UTF-8", "NO_COLOR": "1"}, 256, DisplayProfile(False, True)),
        ({"TERM": "dumb", "LANG": "C.UTF-8"}, -1, DisplayProfile(False, False)),
        ({"TERM": "vt100", "LANG": "C.UTF-8"}, -1, DisplayProfile(False, False)),
        ({"TERM": "nosuch", "LANG": "C.UTF-8"}, None, DisplayProfile(True, True)),
        ({**XTERM256, "LANG": "en_US.ISO-8859-1"}, 256, DisplayProfile(True, False)),
        ({**XTERM256, "LC_ALL": "POSIX", "LANG": "C.UTF-8"}, 256, DisplayProfile(True, False)),
        (XTERM256, 256, DisplayProfile(True, False)),  # no locale at all: C
        # LANG=C: Python itself sets LC_CTYPE=C.UTF-8 (PEP 538) and UTF-8 mode; not the user's
        ({**XTERM256, "LANG": "C", "LC_CTYPE": "C.UTF-8"}, 256, DisplayProfile(True, False)),
    ],
)
def test_profile_from_the_environment(
    env: dict[str, str], colors: int | None, expected: DisplayProfile
) -> None:
    coerced = env.get("LC_CTYPE") == "C.UTF-8"
    assert display_profile(env, utf8_mode=coerced, colors=colors) == expected


def test_user_set_lc_ctype_utf8_counts() -> None:
    """LC_CTYPE=C.UTF-8 set by the user (no coercion: UTF-8 mode off) is UTF-8."""
    env = {"TERM": "xterm", "LANG": "C", "LC_CTYPE": "C.UTF-8"}
    assert display_profile(env, utf8_mode=False, colors=8).unicode


@pytest.mark.parametrize(
    ("term", "colors"),
    [("dumb", -1), ("vt100", -1), ("xterm", 8), ("xterm-256color", 256), ("nosuch7", None)],
)
def test_terminfo_colours(term: str, colors: int | None) -> None:
    """From terminfo, in a fresh interpreter each (as the app reads it: once, at start)."""
    code = f"from pidtop.ui.display import terminfo_colors; print(terminfo_colors({term!r}))"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == str(colors)


def test_terminfo_without_curses() -> None:
    """The colours come from the compiled entry itself: ``curses`` (~0.5 MiB of RSS for the
    whole run: the module, libncurses, libtinfo) is never imported for them."""
    code = (
        "import sys; from pidtop.ui.display import terminfo_colors; "
        "print(terminfo_colors('xterm-256color'), 'curses' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.strip()
    assert out == "256 False"


@pytest.mark.parametrize(("magic", "width"), [(0o432, 2), (0o1036, 4)])
def test_terminfo_formats(tmp_path: Path, magic: int, width: int) -> None:
    """Both compiled formats (16-bit numbers; ncurses 6's 32-bit ones), found in
    ``$TERMINFO`` first; an odd names+booleans size is padded; -2 (cancelled) is none."""
    names, bools = b"t|a test\0", b"\x01\x00"  # 9 + 2 bytes: one pad byte
    colors = 1 << 24 if width == 4 else 256

    def entry(value: int) -> bytes:
        numbers = [-1] * 13 + [value]
        head = [magic, len(names), len(bools), len(numbers), 0, 0]
        return (
            b"".join(n.to_bytes(2, "little") for n in head)
            + names
            + bools
            + b"\0"
            + b"".join(n.to_bytes(width, "little", signed=True) for n in numbers)
        )

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "tdirect").write_bytes(entry(colors))
    (tmp_path / "t" / "tnone").write_bytes(entry(-2))
    env = {"TERMINFO": str(tmp_path)}
    assert terminfo_colors("tdirect", env) == colors
    assert terminfo_colors("tnone", env) == -1
    assert terminfo_colors("../t/tdirect", env) is None


@pytest.mark.parametrize(
    ("text", "ascii"),
    [
        ("│  ├─ bash", "|  |- bash"),
        ("└─ sleep", "`- sleep"),
        ("╭──╮", "+--+"),
        ("Sort: CPU%▼", "Sort: CPU%v"),
        ("Sampling…", "Sampling."),
        ("● alive · ✕ exited — see L", "* alive - x exited - see L"),
        ("café", "cafe"),
        ("日本", "????"),  # two cells each: the layout keeps its width
    ],
)
def test_ascii_text_keeps_the_width(text: str, ascii: str) -> None:
    assert ascii_text(text) == ascii
    assert cell_len(ascii_text(text)) == cell_len(text)


# ------------------------------------------------------------------ the real app in tmux
needs_tmux = pytest.mark.skipif(TMUX is None, reason="needs tmux")


def plain(shown: str) -> str:
    """``shown`` without its escape sequences."""
    return re.sub(r"\x1b\[[0-9;?]*[a-zA-Z]", "", shown)


def screens(env: str) -> tuple[str, str]:
    """The main screen and the signal picker (with escape codes), pidtop run under ``env``
    (``env`` in the command: tmux sets TERM itself in a pane). Only a sleep child is shown."""
    child = subprocess.Popen(["sleep", "600"])
    try:
        line = f"env {env} " + pidtop_line("-d", "10", "-p", str(child.pid))
        with Term(line, size=(100, 30)) as term:
            term.wait("sleep 600")
            main = term.escapes()
            term.send("k")
            term.wait("15 SIGTERM")
            picker = term.escapes()
            term.send("Escape")
            term.wait_gone("to filter")
            term.send("q")
            assert term.exit_status() == 0
            return main, picker
    finally:
        child.kill()
        child.wait()


@needs_tmux
@pytest.mark.parametrize("env", ["TERM=dumb", "TERM=vt100", "NO_COLOR=1"])
def test_no_colour_terminal(env: str) -> None:
    """No colour codes at all; the cursor row (and the picked signal) in reverse video."""
    main, picker = screens(env)
    for shown in (main, picker):
        assert not ANY_COLOUR.search(shown), ANY_COLOUR.search(shown)
    (cursor,) = [ln for ln in main.splitlines() if "sleep 600" in plain(ln)]
    assert REVERSE.search(cursor), cursor  # the only row: under the cursor
    (picked,) = [ln for ln in picker.splitlines() if "15 SIGTERM" in plain(ln)]
    assert REVERSE.search(picked), picked  # the highlighted signal


@needs_tmux
@pytest.mark.parametrize("env", ["TERM=dumb", "TERM=vt100", "LANG=C LC_ALL=", "LC_ALL=POSIX"])
def test_ascii_only(env: str) -> None:
    """Borders, bars, arrows and marks in ASCII: nothing else reaches the terminal."""
    for shown in screens(env):
        text = plain(shown)
        assert text.isascii(), sorted({c for c in text if not c.isascii()})
    assert "+-----" in text  # the picker's border


@needs_tmux
def test_eight_colour_terminal_gets_no_256_colour_codes() -> None:
    main, picker = screens("TERM=xterm")
    assert not COLOUR_256_OR_RGB.search(main + picker)
    assert ANY_COLOUR.search(main)  # but colours


@needs_tmux
def test_full_terminal_keeps_colour_and_unicode() -> None:
    """The control case: xterm-256color and UTF-8 get what they always got."""
    main, _ = screens("TERM=xterm-256color LANG=C.UTF-8")
    assert COLOUR_256_OR_RGB.search(main)
    assert not main.isascii()
