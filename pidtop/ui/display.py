"""What the terminal can show: colours and characters (issue 7, item 12).

Textual draws Unicode box drawing, block elements and arrows, and colours: 24-bit when the
terminal's colour system is unknown (``TERM=dumb`` got truecolor codes). This module decides
from the environment what the terminal can show (:func:`display_profile`) and adapts the
app's *output* to it, so every widget (pidtop's and Textual's own) follows:

* no colour (``NO_COLOR`` set, or a terminal whose terminfo has fewer than 8 colours:
  ``dumb``, ``vt100``, ``vt220``, which get ASCII too): no colour codes at all (Textual's
  ``NoColor`` line filter instead of its grey ``Monochrome``); the cursor row, highlighted
  choices and checked boxes are drawn in reverse video (class ``-no-color`` on the app, rules
  in the stylesheet);
* 8/16 colours (``xterm``, ``linux``, ``screen``): Textual already downgrades to them;
* a locale that is not UTF-8 (``LANG=C``, ``LC_ALL=POSIX``, ``en_US.ISO-8859-1``): every
  character that is not ASCII is replaced cell for cell on its way out (:class:`AsciiFilter`:
  ``├─`` → ``|-``, ``▼`` → ``v``, ``…`` → ``.``, borders ``+-|``), so the layout is unchanged.
"""

from __future__ import annotations

import contextlib
import os
import sys
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from rich.cells import cell_len
from rich.segment import Segment
from textual.app import App
from textual.color import Color
from textual.filter import LineFilter, Monochrome, NoColor

#: the app's class while there is no colour (the stylesheet draws highlights in reverse)
NO_COLOR_CLASS = "-no-color"
#: the app's class while only ASCII is drawn
ASCII_CLASS = "-ascii"


@dataclass(frozen=True, slots=True)
class DisplayProfile:
    """What pidtop may send to the terminal."""

    color: bool = True
    unicode: bool = True


def display_profile(
    environ: Mapping[str, str] | None = None,
    *,
    utf8_mode: bool | None = None,
    colors: int | None = -99,
) -> DisplayProfile:
    """The profile for this environment (``TERM``, ``NO_COLOR``, the locale variables).
    ``colors`` stands in for the terminfo lookup of ``TERM`` (None: unknown terminal)."""
    env = os.environ if environ is None else environ
    mode = bool(sys.flags.utf8_mode) if utf8_mode is None else utf8_mode
    if colors == -99:
        colors = terminfo_colors(env.get("TERM", ""))
    # a terminal without colours (dumb, vt100, vt220) is one from before Unicode, too
    old_terminal = colors is not None and colors < 8
    return DisplayProfile(
        color=not old_terminal and "NO_COLOR" not in env,  # NO_COLOR as Textual reads it
        unicode=not old_terminal and _wants_unicode(env, mode),
    )


#: where ncurses looks for compiled terminfo entries after ``$TERMINFO``, ``~/.terminfo`` and
#: ``$TERMINFO_DIRS`` (``infocmp -D``; the last two: other distributions' defaults)
TERMINFO_DIRS = ("/etc/terminfo", "/lib/terminfo", "/usr/share/terminfo", "/usr/lib/terminfo",
                 "/usr/share/lib/terminfo")  # fmt: skip
#: ``max_colors`` is the 14th number of a compiled entry (term(5), ``Caps``)
_MAX_COLORS = 13


def terminfo_colors(term: str, environ: Mapping[str, str] | None = None) -> int | None:
    """``colors`` from the terminfo entry of ``term`` (-1: none); None when it is unknown.

    Read from the compiled entry itself (term(5)), found where ncurses looks: not through
    ``curses``, whose import and ``setupterm`` cost ~0.5 MiB of RSS for the rest of the run
    (its module, ``libncurses``/``libtinfo``), for one number."""
    if not term:
        return None
    if term in ("dumb", "unknown"):
        return -1
    if "/" in term or term.startswith("."):
        return None
    data = _terminfo_entry(term, os.environ if environ is None else environ)
    if data is None or len(data) < 12:
        return None
    magic, names, bools, nums = (int.from_bytes(data[i : i + 2], "little") for i in (0, 2, 4, 6))
    width = {0o432: 2, 0o1036: 4}.get(magic)
    if width is None:
        return None
    if nums <= _MAX_COLORS:
        return -1
    at = 12 + names + bools
    at += at % 2  # the numbers start on an even byte
    at += _MAX_COLORS * width
    if len(data) < at + width:
        return None
    colors = int.from_bytes(data[at : at + width], "little", signed=True)
    return colors if colors >= 0 else -1  # -1 absent, -2 cancelled


def _terminfo_entry(term: str, env: Mapping[str, str]) -> bytes | None:
    """The compiled entry of ``term``, searched in ncurses's order (terminfo(5)):
    ``$TERMINFO``, ``~/.terminfo``, ``$TERMINFO_DIRS`` (an empty element: the defaults), the
    defaults; ``x/xterm`` or (macOS) ``78/xterm`` in each."""
    dirs: list[str] = []
    if env.get("TERMINFO"):
        dirs.append(env["TERMINFO"])
    if env.get("HOME"):
        dirs.append(os.path.join(env["HOME"], ".terminfo"))
    if env.get("TERMINFO_DIRS"):
        for entry in env["TERMINFO_DIRS"].split(":"):
            dirs.extend([entry] if entry else TERMINFO_DIRS)
    dirs.extend(TERMINFO_DIRS)
    for folder in dirs:
        for sub in (term[0], f"{ord(term[0]):02x}"):
            with contextlib.suppress(OSError), open(os.path.join(folder, sub, term), "rb") as f:
                return f.read(1 << 16)
    return None


def _wants_unicode(env: Mapping[str, str], utf8_mode: bool) -> bool:
    """Whether the user's locale is UTF-8: the first of LC_ALL, LC_CTYPE, LANG that is set.

    In the C locale Python sets ``LC_CTYPE=C.UTF-8`` itself (PEP 538 coercion, which also
    turns on UTF-8 mode): that value is Python's, not the user's, and is skipped.
    """
    coerced = utf8_mode and env.get("LC_CTYPE") == "C.UTF-8" and not env.get("LC_ALL")
    for name in ("LC_ALL", "LC_CTYPE", "LANG"):
        if name == "LC_CTYPE" and coerced:
            continue
        value = env.get(name)
        if value:
            lowered = value.lower()
            return "utf-8" in lowered or "utf8" in lowered
    return False  # nothing set: the C locale


# ------------------------------------------------------------------ characters
_SPECIAL = {
    "├": "|", "┤": "|", "└": "`", "┘": "'", "┌": ",", "┐": ",", "│": "|", "─": "-",
    "╭": "+", "╮": "+", "╰": "+", "╯": "+",
    "▼": "v", "▲": "^", "▽": "v", "△": "^", "◀": "<", "▶": ">", "◂": "<", "▸": ">",
    "←": "<", "→": ">", "↑": "^", "↓": "v",
    "…": ".", "—": "-", "–": "-", "·": "-", "•": "*", "●": "*", "○": "o", "✕": "x",
    "✓": "v", "×": "x", "≤": "<", "≥": ">", "°": "o", "\u00a0": " ",
    "▔": "-", "▁": "_", "▂": "_", "▃": "=", "▄": "=", "▅": "#", "▆": "#", "▇": "#", "█": "#",
    "░": ":", "▒": "%", "▓": "#", "▀": "-",
}  # fmt: skip


@lru_cache(maxsize=4096)
def ascii_char(char: str) -> str:
    """One character as ASCII of the same width in cells (``?`` for what has no likeness)."""
    if char.isascii():
        return char
    if char in _SPECIAL:
        return _SPECIAL[char]
    width = cell_len(char)
    name = unicodedata.name(char, "")
    if name.startswith("BOX DRAWINGS"):
        horizontal, vertical = "HORIZONTAL" in name, "VERTICAL" in name
        return "-" if horizontal and not vertical else "|" if vertical and not horizontal else "+"
    if name.startswith(("LEFT", "RIGHT")) and "BLOCK" in name:
        return "|"
    if "BLOCK" in name:
        return "#"
    if unicodedata.combining(char) or width == 0:
        return ""
    decomposed = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if len(decomposed) == width and decomposed.isprintable():
        return decomposed  # é -> e, ﬁ -> fi only where the width matches
    return "?" * width


@lru_cache(maxsize=8192)
def ascii_text(text: str) -> str:
    """``text`` with every character replaced by :func:`ascii_char` (same width in cells)."""
    return text if text.isascii() else "".join(ascii_char(c) for c in text)


class AsciiFilter(LineFilter):
    """A line filter that leaves only ASCII in what is drawn, cell for cell."""

    def apply(self, segments: list[Segment], background: Color) -> list[Segment]:
        """Each segment's text through :func:`ascii_text`; styles and controls unchanged."""
        out: list[Segment] = []
        for seg in segments:
            text, style, control = seg
            if control or text.isascii():
                out.append(seg)
            else:
                out.append(Segment(ascii_text(text), style, control))
        return out


def apply_display_profile(app: App[Any], profile: DisplayProfile) -> None:
    """Fit ``app``'s output to ``profile`` (call before the app runs)."""
    filters: list[LineFilter] = app._filters
    if not profile.color:
        filters[:] = [f for f in filters if not isinstance(f, (Monochrome, NoColor))]
        filters.append(NoColor())
        with contextlib.suppress(Exception):
            app.no_color = True
    if not profile.unicode:
        filters.append(AsciiFilter())
    app.set_class(not profile.color, NO_COLOR_CLASS)
    app.set_class(not profile.unicode, ASCII_CLASS)
