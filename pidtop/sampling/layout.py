"""The process table's cell layout, for the monitor and ``pidtop snapshot`` text alike: how many
terminal cells text takes, cutting text to a number of cells, and placing columns in a line
(which columns go first when the line is too narrow). Pure: no Textual, no Rich, no I/O.

Cell width is ``wcwidth(3)``'s, from the Unicode database of Python's ``unicodedata``: East
Asian wide and full-width characters take two cells; combining marks (nonspacing and
enclosing), format characters (zero-width space and joiners, ...; not the soft hyphen) and the
Hangul vowels and final consonants that join a syllable (U+1160..U+11FF) take none; everything
else one. Each character counts on its own (an emoji joined by U+200D is as wide as its parts).
Text is expected sanitized (:func:`pidtop.sampling.fmt.sanitize`: no control characters).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from pidtop.sampling.columns import Column

__all__ = [
    "ESSENTIAL_COMMAND_WIDTH",
    "MIN_COMMAND_WIDTH",
    "PlacedColumn",
    "cell_width",
    "cut_cells",
    "fit_cell",
    "layout_columns",
    "pad_cells",
]

#: COMMAND keeps at least this many cells while a column that is not essential can go ...
MIN_COMMAND_WIDTH = 12
#: ... and is cut down to this many before an essential one (PID, CPU%, MEM%, TIME+) goes.
ESSENTIAL_COMMAND_WIDTH = 4

_ZERO_WIDTH_CATEGORIES = frozenset({"Mn", "Me", "Cf"})


@lru_cache(maxsize=4096)
def _char_width(ch: str) -> int:
    code = ord(ch)
    if (
        unicodedata.combining(ch)
        or (unicodedata.category(ch) in _ZERO_WIDTH_CATEGORIES and code != 0xAD)
        or 0x1160 <= code <= 0x11FF
    ):
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


@lru_cache(maxsize=4096)
def _text_width(text: str) -> int:
    return sum(map(_char_width, text))


def cell_width(text: str) -> int:
    """Terminal cells ``text`` takes (see the module docstring for the rule)."""
    if text.isascii():
        return len(text)
    return _text_width(text)


def cut_cells(text: str, width: int) -> str:
    """The longest start of ``text`` that takes at most ``width`` cells (a wide character that
    would straddle the edge goes whole)."""
    if text.isascii():
        return text[: max(0, width)]
    used = 0
    for i, ch in enumerate(text):
        used += _char_width(ch)
        if used > width:
            return text[:i]
    return text


def fit_cell(
    text: str, width: int, cut: Literal["left", "right"] = "right", *, ellipsis: bool = False
) -> str:
    """``text`` cut to at most ``width`` cells when it is wider; unchanged when it fits.

    ``cut="left"`` keeps the end behind a ``…`` (cgroup paths); ``ellipsis`` ends a right cut in
    ``…`` too (``pidtop snapshot``: the monitor's columns have no cell to spare)."""
    if cell_width(text) <= width:
        return text
    if cut == "left" and width > 1:
        return "…" + cut_cells(text[::-1], width - 1)[::-1]
    if ellipsis and width > 1:
        return cut_cells(text, width - 1) + "…"
    return cut_cells(text, width)


def pad_cells(text: str, width: int, align: Literal["left", "right"] = "left") -> str:
    """``text`` padded with spaces to ``width`` cells (on the left when ``align`` is right)."""
    pad = width - cell_width(text)
    if pad <= 0:
        return text
    return " " * pad + text if align == "right" else text + " " * pad


@dataclass(frozen=True, slots=True)
class PlacedColumn:
    """A column placed in a line: its x offset and width in cells."""

    column: Column
    x: int
    width: int


def layout_columns(
    columns: Sequence[Column],
    width: int,
    gutter: int = 0,
    *,
    widths: Mapping[str, int] | None = None,
    keep: Collection[str] = (),
) -> list[PlacedColumn]:
    """Place columns in ``width`` cells, one space between two, after a ``gutter``.

    While they do not fit, columns go in their ``drop`` order (highest first: PRI, NI, SHR,
    VIRT ... then S, USER, RES), COMMAND keeping at least ``MIN_COMMAND_WIDTH`` cells; the
    essential ones (PID, CPU%, MEM%, TIME+) go only after COMMAND is cut down to
    ``ESSENTIAL_COMMAND_WIDTH``. The columns whose id is in ``keep`` never go. A column is as
    wide as ``widths`` says (by id), else its registry width; the flexible one (width 0:
    COMMAND) takes the rest of the line."""

    def size(col: Column) -> int:
        return col.width if widths is None else widths.get(col.id, col.width)

    fixed = [c for c in columns if c.width > 0]
    flex_count = len(columns) - len(fixed)
    flexible = flex_count > 0
    used = gutter + sum(size(c) + 1 for c in fixed) - (0 if flexible else 1)
    kept = set(fixed)
    for col in sorted(fixed, key=lambda c: -c.drop):
        room = (ESSENTIAL_COMMAND_WIDTH if col.essential else MIN_COMMAND_WIDTH) * flexible
        if used + room <= width:
            break
        if col.id not in keep:
            kept.discard(col)
            used -= size(col) + 1
    rest = width - gutter - sum(size(c) + 1 for c in kept)
    flex_width = max(0, rest // flex_count) if flexible else 0
    placed: list[PlacedColumn] = []
    x = gutter
    for col in columns:
        if col.width == 0:
            placed.append(PlacedColumn(col, x, flex_width))
            x += flex_width + 1
        elif col in kept:
            placed.append(PlacedColumn(col, x, size(col)))
            x += size(col) + 1
    return placed
