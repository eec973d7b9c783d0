"""Signal names and numbers: ``TERM``, ``SIGTERM``, ``15``, ``RTMIN+3``, ``0``.

Real-time signals use the C library's SIGRTMIN/SIGRTMAX (glibc reserves 32 and 33), the same
numbering as util-linux ``kill``.
"""

from __future__ import annotations

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


def parse_signal(text: str) -> int:
    """Signal number for a name or number (case-insensitive, ``SIG`` optional).

    Accepts ``TERM``, ``SIGTERM``, ``15``, ``0``, ``RTMIN``, ``RTMIN+3``, ``SIGRTMAX-1``.
    Raises ValueError with a one-line message for anything else.
    """
    word = text.strip().upper()
    err = ValueError(f"unknown signal {text!r} (try a name like TERM or a number 0-{_RTMAX})")
    if word.isdigit():
        number = int(word)
        if number == 0 or number in _NAMES or _RTMIN <= number <= _RTMAX:
            return number
        raise err
    name = word.removeprefix("SIG")
    for base, value, sign in (("RTMIN", _RTMIN, 1), ("RTMAX", _RTMAX, -1)):
        if name.startswith(base):
            rest = name[len(base) :]
            if not rest:
                return value
            if rest[0] == ("+" if sign > 0 else "-") and rest[1:].isdigit():
                number = value + sign * int(rest[1:])
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
