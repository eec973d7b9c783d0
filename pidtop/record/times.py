"""The times, ages and sizes users type: ``2026-12-06T03:12``, ``03:12``, ``-30m``,
``yesterday 14:00``, ``now``; ``7d``; ``1G``. Plain functions, local time, no I/O."""

from __future__ import annotations

import datetime as dt
import re

__all__ = ["TIME_HELP", "parse_age", "parse_size", "parse_time", "stamp"]

TIME_HELP = (
    "TIME is ISO (2026-12-06 03:12:10, 2026-12-06T03:12), a time of day (03:12, 03:12:10: "
    "today, or yesterday when that is still to come), relative (-30m, -2h, -1d, 90s ago), "
    "'yesterday 14:00', 'today 09:00' or 'now'; local time"
)

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_AGE = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d|w)?", re.ASCII)
_CLOCK = re.compile(r"(\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?", re.ASCII)
_SIZE = re.compile(r"(\d+(?:\.\d+)?)\s*([kmgt]?)(?:i?b)?", re.ASCII | re.IGNORECASE)


def parse_age(text: str) -> float:
    """``7d``, ``12h``, ``30m``, ``90s``, ``2w`` (a bare number is seconds) -> seconds > 0."""
    m = _AGE.fullmatch(text.strip().lower())
    if m is None or float(m.group(1)) <= 0:
        raise ValueError(f"expected an age like 7d, 12h, 30m, 90s, not {text!r}")
    return float(m.group(1)) * _UNITS[(m.group(2) or "s")[0]]


def parse_size(text: str) -> int:
    """``1G``, ``500M``, ``64k``, ``1GiB`` (powers of 1024; a bare number is bytes) -> bytes."""
    m = _SIZE.fullmatch(text.strip())
    if m is None or float(m.group(1)) <= 0:
        raise ValueError(f"expected a size like 1G, 500M, 64k, not {text!r}")
    power = " kmgt".index(m.group(2).lower() or " ")
    return int(float(m.group(1)) * 1024**power)


def _clock(text: str) -> dt.time | None:
    m = _CLOCK.fullmatch(text)
    if m is None:
        return None
    h, mi, s = int(m.group(1)), int(m.group(2)), int(m.group(3) or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"no such time of day: {text!r}")
    micro = int((m.group(4) or "0")[:6].ljust(6, "0"))
    return dt.time(h, mi, s, micro)


def parse_time(text: str, now: float) -> float:
    """A moment as epoch seconds, ``now`` (epoch seconds) being the reference; see
    :data:`TIME_HELP`. Raises ValueError with the accepted forms."""
    raw = text.strip().lower()
    here = dt.datetime.fromtimestamp(now).astimezone()
    if raw == "now":
        return now
    if raw.startswith("-") or raw.endswith(" ago"):
        age = raw.removeprefix("-").removesuffix(" ago").strip()
        try:
            return now - parse_age(age)
        except ValueError:
            raise ValueError(f"bad relative time {text!r}: {TIME_HELP}") from None
    day: dt.date | None = None
    for word, offset in (("yesterday", 1), ("today", 0)):
        if raw == word or raw.startswith(word + " "):
            day = here.date() - dt.timedelta(days=offset)
            raw = raw.removeprefix(word).strip() or "00:00"
            break
    try:
        clock = _clock(raw)
    except ValueError as e:
        raise ValueError(f"{e}: {TIME_HELP}") from None
    if clock is not None:
        when = dt.datetime.combine(day or here.date(), clock).astimezone()
        if day is None and when.timestamp() > now:
            when -= dt.timedelta(days=1)  # 23:50 typed at 00:10 is last night
        return when.timestamp()
    if day is None:
        try:
            parsed = dt.datetime.fromisoformat(text.strip())
        except ValueError:
            pass
        else:
            if parsed.tzinfo is None:
                parsed = parsed.astimezone()
            return parsed.timestamp()
    raise ValueError(f"bad time {text!r}: {TIME_HELP}")


def stamp(wall: float) -> str:
    """``2026-12-06 03:12:10`` (local time): how a recorded moment is named."""
    return dt.datetime.fromtimestamp(wall).strftime("%Y-%m-%d %H:%M:%S")
