"""Argument types and the options shared by the monitor and ``pidtop snapshot``."""

from __future__ import annotations

import argparse
import math
import pwd
import re
from collections.abc import Callable
from typing import TypeVar

from pidtop.cli.output import say
from pidtop.exitcodes import EXIT_USAGE
from pidtop.kernel.identity import PID_MAX, parse_number, parse_target

T = TypeVar("T")


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error and our usage exit status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def arg_type(func: Callable[[str], T], name: str) -> Callable[[str], T]:
    """Wrap a parser so argparse shows its ValueError message rather than a generic one."""

    def convert(text: str) -> T:
        try:
            return func(text)
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = name
    return convert


#: ASCII digits with an optional fraction and exponent; no sign, no "inf"/"nan", no "1_0"
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def nonneg_float(text: str) -> float:
    """A finite number >= 0 (``1e30`` included: "wait practically forever"); never inf/nan."""
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(value):  # "inf", "nan", "1e999" (overflows to inf)
        raise ValueError(f"timeout must be a finite number >= 0, not {text!r}")
    return value


def positive_int(text: str) -> int:
    value = parse_number(text, PID_MAX)
    if not value:
        raise ValueError(f"expected a positive whole number up to {PID_MAX}, not {text!r}")
    return value


def pid_list(text: str) -> list[int]:
    pids = [positive_int(p) for p in text.split(",") if p.strip()]
    if not pids:  # "-p ,," would show every process: the opposite of what was asked
        raise ValueError(f"expected PIDs separated by commas, not {text!r}")
    return pids


target_arg = arg_type(parse_target, "TARGET")


def kill_argv(argv: list[str]) -> list[str]:
    """``pidtop kill -9 PID``, ``-KILL``, ``-SIGKILL``, ``-RTMIN+3`` as kill(1) takes them: a
    signal written as the first option becomes ``-s SIGNAL``; anything else is left to argparse
    (``-s``, ``-l``, ``--tree``...). ``argv`` starts at the word ``kill``."""
    from pidtop.kernel.signals import parse_signal

    if len(argv) > 1 and argv[1][:1] == "-" and argv[1][1:2] not in ("", "-"):
        word = argv[1][1:]
        try:
            parse_signal(word)
        except ValueError:
            if not (word[:1].isupper() or word[:1].isdigit()):  # -s, -l, -h, -sKILL: options
                return argv
        return [argv[0], "-s", word, *argv[2:]]  # -FOO: "unknown signal 'FOO'"
    return argv


def usage_error(prog: str, message: str) -> int:
    say(f"{prog}: {message} (see --help)", error=True)
    return EXIT_USAGE


#: ``-d`` in tenths of a second: 0.1-60 s, the bounds of ``d`` and ``,``/``.`` in the monitor
MAX_DELAY_TENTHS = 600


def _tui_delay(text: str) -> int:
    value = parse_number(text, PID_MAX)
    if not value or value > MAX_DELAY_TENTHS:
        raise ValueError(
            f"delay is in tenths of a second, 1-{MAX_DELAY_TENTHS} (0.1-60 s), not {text!r}"
        )
    return value


def _tui_user(text: str) -> str:
    """``-u``: an existing user name, or a numeric uid (shown by name when it has one).

    Checked before the monitor starts: an unknown name would open an empty table (htop says
    "Error: invalid user")."""
    try:
        return pwd.getpwnam(text).pw_name
    except KeyError:
        pass
    if text.isascii() and text.isdigit():
        try:
            return pwd.getpwuid(int(text)).pw_name
        except (KeyError, OverflowError):
            return str(int(text))  # a uid without a name is listed as its number
    raise ValueError(f"unknown user {text!r}")


def _tui_sort_key(text: str) -> str:
    """``-s``: a column (id, title, or htop name like PERCENT_CPU), checked before the monitor
    starts."""
    from pidtop.sampling.columns import COLUMNS, resolve_sort_key

    column = resolve_sort_key(text)
    if column is None:
        names = ", ".join(c.title for c in COLUMNS)
        raise ValueError(f"unknown sort column {text!r} (one of: {names})")
    return column


def add_view_arguments(parser: argparse.ArgumentParser, *, delay: int) -> None:
    """What to show and how often: shared by the monitor and ``pidtop snapshot``."""
    parser.add_argument(
        "-d", "--delay", type=arg_type(_tui_delay, "TENTHS"), default=delay, metavar="TENTHS",
        help=f"delay between updates, in tenths of seconds: 1-600 (default: {delay})",
    )  # fmt: skip
    parser.add_argument(
        "-u", "--user", type=arg_type(_tui_user, "USER"), metavar="USER",
        help="show only processes of USER (a name or a numeric uid)",
    )  # fmt: skip
    parser.add_argument(
        "-p", "--pid", type=arg_type(pid_list, "PID,PID..."), metavar="PID,PID...",
        help="show only the given PIDs",
    )  # fmt: skip
    parser.add_argument("-t", "--tree", action="store_true", help="show the process tree")
    parser.add_argument(
        "-s", "--sort-key", type=arg_type(_tui_sort_key, "COLUMN"), metavar="COLUMN",
        help="sort by COLUMN (PID, USER, CPU%%, MEM%%, TIME+, ...)",
    )  # fmt: skip


def _exits_keep(text: str) -> int:
    value = parse_number(text, 1_000_000)
    if not value:
        raise ValueError(f"expected a number of exits, 1-1000000, not {text!r}")
    return value


def add_tui_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of the interactive monitor (``pidtop`` without a command)."""
    add_view_arguments(parser, delay=15)
    parser.set_defaults(delay=None)  # not given: the config file's delay, else 1.5 s
    parser.add_argument("--demo", action="store_true", help="show a scripted, fake process list")
    parser.add_argument(
        "--pin", type=target_arg, action="append", default=[], metavar="TARGET",
        help="pin and watch TARGET (PID or PID:INODE); repeatable",
    )  # fmt: skip
    parser.add_argument("--watch-all", action="store_true", help="watch every process for exit")
    parser.add_argument(
        "--exit-when-gone", action="store_true", help="quit once every pinned process has exited"
    )
    parser.add_argument(
        "--log", metavar="FILE", help="append the event log (pins, signals, exits) to FILE"
    )
    parser.add_argument(
        "--no-bell", action="store_true", help="no terminal bell when a waited process exits"
    )
    config = parser.add_mutually_exclusive_group()
    config.add_argument(
        "--config", metavar="PATH",
        help="settings file (default: $XDG_CONFIG_HOME/pidtop/config.toml, "
        "~/.config/pidtop/config.toml); saved when you change a setting",
    )  # fmt: skip
    config.add_argument(
        "--no-config", action="store_true", help="read no settings file and write none"
    )
    parser.add_argument(
        "--no-preframe", action="store_true",
        help="do not paint the first frame before the UI has loaded (also: PIDTOP_NO_PREFRAME=1)",
    )  # fmt: skip
    parser.add_argument(
        "--no-journal", action="store_true",
        help="do not record process exits (E, and the header's exit counters)",
    )  # fmt: skip
    parser.add_argument(
        "--exits-keep", type=arg_type(_exits_keep, "N"), metavar="N",
        help="exits kept in memory for E (default: 10000; 1-1000000)",
    )  # fmt: skip


#: ``pidtop -b`` and ``pidtop --batch`` are ``pidtop snapshot`` (as in top)
BATCH_FLAGS = ("-b", "--batch")


def batch_argv(argv: list[str]) -> list[str] | None:
    """``pidtop -b ...`` as ``pidtop snapshot ...`` arguments; None when not batch mode."""
    if argv and not argv[0].startswith("-"):  # a command (kill, wait, id, snapshot)
        return None
    head = argv[: argv.index("--")] if "--" in argv else argv
    if not any(a in BATCH_FLAGS for a in head):
        return None
    return ["snapshot", *(a for a in head if a not in BATCH_FLAGS), *argv[len(head) :]]
