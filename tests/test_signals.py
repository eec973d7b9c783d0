"""Signal names and numbers, as typed on the command line and shown in the picker."""

import signal

import pytest

from pidtop.kernel.signals import list_signals, parse_signal, signal_name


@pytest.mark.parametrize(
    ("text", "number"),
    [
        ("TERM", 15),
        ("SIGTERM", 15),
        ("sigterm", 15),
        ("15", 15),
        ("064", 64),
        ("0", 0),
        ("KILL", 9),
        ("IOT", 6),  # alias of SIGABRT
        ("RTMIN", int(signal.SIGRTMIN)),
        ("RTMIN+3", int(signal.SIGRTMIN) + 3),
        ("SIGRTMAX-1", int(signal.SIGRTMAX) - 1),
        ("RTMAX", int(signal.SIGRTMAX)),
    ],
)
def test_parse_signal(text: str, number: int) -> None:
    assert parse_signal(text) == number


@pytest.mark.parametrize(
    "text",
    [
        *("", "FOO", "SIGFOO", "65", "-1", "32", "33", "RTMIN+99", "RTMIN-1", "1.5"),
        # int() / str.isdigit() / str.upper() accept these; a signal number is ASCII digits
        *(" 15 ", "+9", "1_5", "\u0669", "\u00b2", "RTMIN+\u0663", "RTMIN+ 3", "RTMIN++3"),
        "K\u0131LL",  # U+0131 dotless i: upper() turns it into "KILL"
    ],
)
def test_parse_signal_rejects_unknown(text: str) -> None:
    with pytest.raises(ValueError, match="unknown signal") as info:
        parse_signal(text)
    assert "\n" not in str(info.value)
    assert str(info.value).endswith("or a number: 0-31, 34-64)")  # 32, 33: glibc's own


def test_signal_names() -> None:
    assert signal_name(15) == "SIGTERM"
    assert signal_name(6) == "SIGABRT"
    assert signal_name(int(signal.SIGRTMIN) + 3) == "SIGRTMIN+3"
    assert signal_name(int(signal.SIGRTMAX)) == "SIGRTMAX"
    assert signal_name(0) == "0"


def test_list_signals_round_trips() -> None:
    signals = list_signals()
    numbers = [n for n, _ in signals]
    assert numbers == sorted(set(numbers))
    assert (9, "SIGKILL") in signals and (15, "SIGTERM") in signals
    assert 0 not in numbers and 32 not in numbers  # null signal; glibc-reserved
    for number, name in signals:
        assert parse_signal(name) == number
        assert parse_signal(name.removeprefix("SIG")) == number
