"""The one cell layout (pidtop.sampling.layout) that the monitor and ``pidtop snapshot`` share:
the width rule, cutting to cells, and the identity column that batch text never drops."""

from __future__ import annotations

from pidtop.sampling.columns import COLUMN_BY_ID, DEFAULT_COLUMNS
from pidtop.sampling.layout import cell_width, cut_cells, fit_cell, layout_columns, pad_cells


def test_cell_width_is_wcwidths() -> None:
    assert cell_width("top") == 3
    assert cell_width("山田") == 4 and cell_width("ａｂ") == 4  # wide and full-width: two
    assert cell_width("e\u0301") == 1  # a combining mark: none
    assert cell_width("a\u200bb\ufe0f") == 2  # zero-width space, variation selector: none
    assert cell_width("\u1100\u1161\u11a8") == 2  # a Hangul syllable in parts: its lead only
    assert cell_width("│  ├─ caf\ufffd …") == 12  # tree lines, U+FFFD, the ellipsis: one


def test_cut_keeps_the_longest_start_and_never_half_a_wide_character() -> None:
    assert cut_cells("山田太郎", 5) == "山田" and cut_cells("山田太郎", 4) == "山田"
    assert cut_cells("e\u0301" * 10, 3) == "e\u0301" * 3  # marks stay with their letter
    assert cut_cells("abc", 0) == "" and cut_cells("山", 1) == ""
    assert fit_cell("/a/b/c.service", 8, "left") == "…service"
    assert fit_cell("abcdefgh", 5, ellipsis=True) == "abcd…"
    assert fit_cell("abcdefgh", 5) == "abcde" and fit_cell("abc", 5) == "abc"
    assert pad_cells("山", 4, "right") == "  山" and pad_cells("山", 4) == "山  "


def test_keep_never_drops_a_column() -> None:
    cols = [COLUMN_BY_ID[i] for i in DEFAULT_COLUMNS]
    assert [p.column.id for p in layout_columns(cols, 10)] == ["command"]
    kept = layout_columns(cols, 10, keep=("pid",), widths={"pid": 12})
    assert [(p.column.id, p.width) for p in kept] == [("pid", 12), ("command", 0)]


class _CountingStr(str):
    """A string that counts the characters read through iteration."""

    read = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for ch in str.__iter__(self):
            _CountingStr.read += 1
            yield ch


def test_cutting_reads_each_character_at_most_once() -> None:
    """Issue 18: ``cut_cells`` was quadratic (76 µs per ASCII cell). Cutting reads no character
    past the cut, and measuring a text reads each character once."""
    for text, width, start in [
        ("漢" * 50_000, 10, "漢" * 5),
        ("e\u0301x" * 30_000, 7, "e\u0301x" * 3 + "e\u0301"),
    ]:
        _CountingStr.read = 0
        assert cut_cells(_CountingStr(text), width) == start
        assert _CountingStr.read <= len(start) + 1
    text = _CountingStr("山田" * 20_000 + "!")  # a text not measured before (the cache)
    _CountingStr.read = 0
    assert cell_width(text) == 80_001 and _CountingStr.read == len(text)
