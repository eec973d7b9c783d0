"""Pure formatting helpers."""

import unicodedata

import pytest

from pidtop.sampling.fmt import (
    format_duration,
    format_time_plus,
    human_bytes,
    sanitize,
    truncate_plus,
)


@pytest.mark.parametrize(
    ("n", "text"),
    [
        (None, "-"),
        (0, "0"),
        (512, "0.5K"),  # below htop's resolution (it counts KiB): one decimal
        (640 * 1024, "640K"),
        (999 * 1024, "999K"),
        (1000 * 1024, "1000K"),  # htop's meters: K up to 1023K
        (1023 * 1024, "1023K"),
        (1024 * 1024, "1.00M"),
        (512 * 1024**2, "512M"),
        (379 * 1024**2 + 300 * 1024, "379M"),
        (int(1.5 * 1024**3), "1.50G"),  # htop: two decimals below 10, one below 100
        (12 * 1024**3, "12.0G"),
        (24684092 * 1024, "23.5G"),  # MemTotal of the QA machine: htop 23.5G (was 24G)
        (int(99.96 * 1024**3), "100G"),  # rounds up to the next precision, never 6 wide
        (int(9.996 * 1024**3), "10.0G"),
        (int(1023.6 * 1024**2), "1.00G"),
        (3 * 1024**4, "3.00T"),
    ],
)
def test_human_bytes(n: int | None, text: str) -> None:
    """htop's Meter_humanUnit (Meter.c): K whole, then 2/1/0 decimals below 10/100/1024."""
    assert human_bytes(n) == text


def test_human_bytes_fits_five_columns() -> None:
    for exp in range(10, 60):
        for mant in (1, 3, 7, 9.99, 9.995, 9.999, 10, 99.9, 99.95, 99.99, 100, 999, 1000, 1023,
                     1023.49, 1023.5, 1023.99):  # fmt: skip
            assert len(human_bytes(int(mant * 2**exp))) <= 5


def test_truncate_plus() -> None:
    assert truncate_plus("root", 9) == "root"
    assert truncate_plus("123456789", 9) == "123456789"
    assert truncate_plus("4000000000", 9) == "40000000+"
    assert truncate_plus("4000000000", 8) == "4000000+"  # ps's USER column
    assert truncate_plus("x", 0) == ""


@pytest.mark.parametrize(
    ("ticks", "tck", "text"),
    [
        (None, 100, "-"),
        (0, 100, "0:00.00"),
        (8345, 100, "1:23.45"),
        (8345 * 10, 1000, "1:23.45"),
        ((12 * 3600 + 34 * 60 + 56) * 100, 100, "12h34:56"),
        ((3 * 86400 + 4 * 3600 + 5 * 60) * 100, 100, "3d04h05m"),
        ((123 * 86400 + 4 * 3600) * 100, 100, "123d04h"),
        ((2 * 365 + 123) * 86400 * 100, 100, "2y123d"),
    ],
)
def test_format_time_plus(ticks: int | None, tck: int, text: str) -> None:
    assert format_time_plus(ticks, tck) == text


@pytest.mark.parametrize(
    ("sec", "text"),
    [
        (0, "0.0s"),
        (0.44, "0.4s"),
        (9.94, "9.9s"),
        (9.97, "10s"),
        (45.9, "45s"),
        (192, "3m12s"),
        (2 * 3600 + 300, "2h05m"),
        (3 * 86400 + 4 * 3600, "3d04h"),
    ],
)
def test_format_duration(sec: float, text: str) -> None:
    assert format_duration(sec) == text


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("plain text", "plain text"),
        ("\x1b[31mred", "^[[31mred"),
        ("\x1b]0;title\x07", "^[]0;title^G"),
        ("a\nb\tc\x7f", "a^Jb^Ic^?"),
        ("csi\x9b31m", "csi\ufffd31m"),
        ("line\u2028sep\u2029", "line\ufffdsep\ufffd"),
        ("bidi\u202eevil", "bidi\ufffdevil"),
        ("surrogate\udcff", "surrogate\ufffd"),
        ("[bold red]pwned[/]", "[bold red]pwned[/]"),  # markup is the UI's job (rich Text)
        ("caf\u00e9 \u65e5\u672c", "caf\u00e9 \u65e5\u672c"),
        # invisible format characters: zero-width space, RLM, Arabic letter mark, BOM
        ("a\u200bb\u200fc\u061cd\ufeffe", "a\ufffdb\ufffdc\ufffdd\ufffde"),
        ("join\u200dx\u2060y", "join\ufffdx\ufffdy"),
        ("e\u0301 ok", "e\u0301 ok"),  # a mark on its letter stays
        ("\u0301\u0301x", "\u25cc\u0301\u0301x"),  # alone at the start: on a dotted circle
        ("\x1b\u0301", "^[\u0301"),  # after caret notation it has a base again
        ("nbsp\u00a0\u3000", "nbsp\u00a0\u3000"),  # spaces that take a cell stay
    ],
)
def test_sanitize(raw: str, safe: str) -> None:
    assert sanitize(raw) == safe


def test_sanitize_output_has_no_control_characters() -> None:
    every = "".join(chr(c) for c in range(0x3000) if not 0xD800 <= c < 0xE000) + "\udc80"
    out = sanitize(every)
    bad = [c for c in out if ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 or c in "\u2028\u2029"]
    assert bad == []
    invisible = [c for c in out if unicodedata.category(c) in ("Cf", "Cc", "Cs", "Cn")]
    assert invisible == []  # nothing that takes no cell without being a mark on a letter
    out.encode("utf-8")  # no lone surrogates left
