"""Pure formatting helpers for the sampler, the table model and the UI (no Textual, no I/O)."""

from __future__ import annotations

import unicodedata

__all__ = ["format_duration", "format_time_plus", "human_bytes", "sanitize", "truncate_plus"]

_UNITS = "KMGTPE"


def human_bytes(n: int | None) -> str:
    """Bytes as htop's meters show them: ``"640K"``, ``"379M"``, ``"23.5G"``, ``"1.50G"``.

    htop's ``Meter_humanUnit``: whole KiB up to ``1023K``, then M, G, T... with two decimals
    below 10, one below 100 and none from 100 to 1023. Precision follows the *rounded*
    value (9.996G is ``"10.0G"``, 99.96G ``"100G"``, 1023.6M ``"1.00G"``), so the result is
    at most five characters wide (fits the VIRT/RES/SHR columns). ``None`` gives ``"-"``, 0
    gives ``"0"``, less than 1 KiB (htop counts KiB, so never shows it) one decimal: ``"0.5K"``.
    """
    if n is None:
        return "-"
    if n <= 0:
        return "0"
    value = n / 1024.0
    if value < 0.95:
        return f"{value:.1f}K"
    if value < 1023.5:
        return f"{value:.0f}K"
    for unit in _UNITS[1:]:
        value /= 1024.0
        if value < 9.995:
            return f"{value:.2f}{unit}"
        if value < 99.95:
            return f"{value:.1f}{unit}"
        if value < 1023.5 or unit == _UNITS[-1]:
            return f"{value:.0f}{unit}"
    raise AssertionError("unreachable")  # pragma: no cover


def truncate_plus(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters like ``ps`` cuts a user name: the last one kept
    becomes ``+`` (``"4000000000"`` in 9 columns is ``"40000000+"``, never the different,
    valid-looking ``"400000000"``). Text that fits is returned unchanged."""
    if len(text) <= width:
        return text
    return text[: width - 1] + "+" if width > 0 else ""


def format_time_plus(ticks: int | None, clk_tck: int = 100) -> str:
    """CPU time like htop's TIME+ column, without padding.

    ``"1:23.45"`` (under an hour: minutes:seconds.hundredths), ``"12h34:56"`` (under a day),
    ``"3d04h05m"`` (under ten days), ``"123d04h"`` (under a year), ``"2y123d"``.
    """
    if ticks is None:
        return "-"
    hundredths_total = ticks * 100 // clk_tck
    total_seconds, hundredths = divmod(hundredths_total, 100)
    minutes_total, seconds = divmod(total_seconds, 60)
    hours_total, minutes = divmod(minutes_total, 60)
    days_total, hours = divmod(hours_total, 24)
    if hours_total == 0:
        return f"{minutes}:{seconds:02d}.{hundredths:02d}"
    if days_total == 0:
        return f"{hours}h{minutes:02d}:{seconds:02d}"
    if days_total < 10:
        return f"{days_total}d{hours:02d}h{minutes:02d}m"
    if days_total < 365:
        return f"{days_total}d{hours:02d}h"
    years, days = divmod(days_total, 365)
    return f"{years}y{days:03d}d"


def format_duration(seconds: float | None) -> str:
    """A short human duration: ``"0.4s"``, ``"45s"``, ``"3m12s"``, ``"2h05m"``, ``"3d04h"``.

    Tenths below 10 s: short-lived processes are common among the ones pinned and waited for.
    """
    if seconds is None:
        return "-"
    if seconds < 9.95:  # would round to "10.0s"
        return f"{max(0.0, seconds):.1f}s"
    s = max(10, int(seconds))
    if s < 60:
        return f"{s}s"
    m, s = divmod(s, 60)
    if m < 60:
        return f"{m}m{s:02d}s"
    h, m = divmod(m, 60)
    if h < 24:
        return f"{h}h{m:02d}m"
    d, h = divmod(h, 24)
    return f"{d}d{h:02d}h"


def _build_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for c in range(0x20):  # C0: caret notation, like `cat -v` (ESC -> ^[, newline -> ^J)
        table[c] = "^" + chr(c + 0x40)
    table[0x7F] = "^?"
    return table


_SANITIZE = _build_table()
#: what may stay although ``str.isprintable`` says no: spaces other than " " (no-break
#: space, ideographic space: they take cells like any letter) and private-use characters
_KEPT_CATEGORIES = frozenset({"Zs", "Co"})
#: marks that combine with the character before them (they take no cell of their own)
_MARKS = frozenset({"Mn", "Me"})
#: the base a combining mark is shown on when nothing precedes it (Unicode's convention)
DOTTED_CIRCLE = "\u25cc"


def _visible(ch: str) -> str:
    if ch.isprintable() or unicodedata.category(ch) in _KEPT_CATEGORIES:
        return ch
    return "\ufffd"


def sanitize(text: str) -> str:
    """Make process-controlled text safe to print: no terminal escapes, no line breaks, nothing
    invisible.

    C0 controls and DEL become caret notation (``"\\x1b[31m"`` -> ``"^[[31m"``); every other
    character Python does not call printable becomes U+FFFD: C1 controls, U+2028/U+2029, format
    characters (bidi controls such as U+200F and U+061C, the zero-width space U+200B, U+FEFF,
    joiners, the soft hyphen), lone surrogates, unassigned code points. A combining mark at the
    start gets a dotted circle to sit on (alone, terminals disagree on its width: it could shift
    what follows, a dialog's border). Rich markup characters are left alone on purpose: the UI
    renders process text as ``rich.text.Text``, never as markup. Fast path: printable text is
    returned unchanged (the same object).
    """
    if text.isprintable():  # False for every C0/C1/Zl/Zp/Cf (bidi) character and surrogate
        if text and unicodedata.category(text[0]) in _MARKS:
            return DOTTED_CIRCLE + text
        return text
    text = "".join(map(_visible, text.translate(_SANITIZE)))
    if text and unicodedata.category(text[0]) in _MARKS:
        return DOTTED_CIRCLE + text
    return text
