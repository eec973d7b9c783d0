"""Signal names and numbers: ``TERM``, ``SIGTERM``, ``15``, ``RTMIN+3``, ``0``.

Real-time signals use the C library's SIGRTMIN/SIGRTMAX (glibc reserves 32 and 33), the same
numbering as util-linux ``kill``.
"""

from __future__ import annotations

import re
import signal

_RTMIN = int(signal.SIGRTMIN)
_RTMAX = int(signal.SIGRTMAX)
# Canonical names; where the OS has aliases (SIGIOT/SIGABRT, SIGPOLL/SIGIO) the enum picks one.
_NAMES: dict[int, str] = {
    int(s): s.name for s in signal.Signals if not _RTMIN <= s <= _RTMAX and s.name.startswith("SIG")
}


def signal_name(number: int) -> str:
    """``SIGTERM``, ``SIGRTMIN+3``, ``SIGRTMAX``; ``0`` for the null signal; ``SIG32`` otherwise."""
    if number == 0:
        return "0"
    if number in _NAMES:
        return _NAMES[number]
    if number == _RTMAX:
        return "SIGRTMAX"
    if _RTMIN <= number < _RTMAX:
        return "SIGRTMIN" if number == _RTMIN else f"SIGRTMIN+{number - _RTMIN}"
    return f"SIG{number}"


def _ranges(numbers: list[int]) -> str:
    """``[0, 1, 2, 5, 6]`` -> ``0-2, 5-6``."""
    parts: list[str] = []
    start = prev = numbers[0]
    for n in [*numbers[1:], None]:
        if n is not None and n == prev + 1:
            prev = n
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if n is not None:
            start = prev = n
    return ", ".join(parts)


_VALID = sorted({0, *_NAMES, *range(_RTMIN, _RTMAX + 1)})
_DIGITS = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() and int() also take "١٢٣", "²"
_RT_OFFSET = re.compile(r"([+-])([0-9]+)")


def parse_signal(text: str) -> int:
    """Signal number for a name or number (case-insensitive, ``SIG`` optional).

    Accepts ``TERM``, ``SIGTERM``, ``15``, ``0``, ``RTMIN``, ``RTMIN+3``, ``SIGRTMAX-1``.
    Numbers are ASCII digits only (no sign, space or underscore). Raises ValueError with a
    one-line message for anything else.
    """
    word = text.upper()
    err = ValueError(
        f"unknown signal {text!r} (try a name like TERM or a number: {_ranges(_VALID)})"
    )
    if not text.isascii():  # U+0131 (dotless i): "K\u0131LL".upper() == "KILL"
        raise err
    if _DIGITS.fullmatch(word):
        number = int(word)
        if number in _VALID:
            return number
        raise err
    name = word.removeprefix("SIG")
    for base, value, sign in (("RTMIN", _RTMIN, "+"), ("RTMAX", _RTMAX, "-")):
        if name.startswith(base):
            rest = name[len(base) :]
            if not rest:
                return value
            m = _RT_OFFSET.fullmatch(rest)
            if m and m[1] == sign:
                number = value + int(m[2]) if sign == "+" else value - int(m[2])
                if _RTMIN <= number <= _RTMAX:
                    return number
            raise err
    member = signal.Signals.__members__.get("SIG" + name)
    if member is None or _RTMIN <= member <= _RTMAX:
        raise err
    return int(member)


def list_signals() -> list[tuple[int, str]]:
    """Every deliverable signal as (number, name), by number, for a picker."""
    numbers = sorted(set(_NAMES) | set(range(_RTMIN, _RTMAX + 1)))
    return [(n, signal_name(n)) for n in numbers]
