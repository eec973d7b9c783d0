"""``pidtop record``, and the recorded side of ``snapshot --at`` and ``journal --since/--until``.

The work is in :mod:`pidtop.record`; this module parses arguments, opens the store and says
what went wrong in one line.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pidtop.cli.args import arg_type
from pidtop.cli.output import say
from pidtop.exitcodes import EXIT_FAILURE, EXIT_OK, EXIT_USAGE
from pidtop.record.store import StoreError, default_path
from pidtop.record.times import TIME_HELP, parse_age, parse_size, parse_time, stamp

__all__ = [
    "add_record_parser",
    "add_replay_arguments",
    "add_store_argument",
    "journal_window",
    "open_replay",
    "replay_source",
    "snapshot_at",
]

DESCRIPTION = (
    "Record the process table every --interval seconds (the monitor's sampler and columns, "
    "identities PID:INODE included; only what changed since the previous sample is stored) "
    "and every process exit as it happens (the exit journal: even a process that lived 5 ms, "
    "with its exit status), into an SQLite store. Replay it with `pidtop --replay TIME`, "
    "`pidtop snapshot --at TIME`, `pidtop journal --since T --until T`. Where the kernel "
    "refuses the proc connector (some kernels, to users other than root), samples are "
    "recorded and the store says that exits between them may be missing. Runs until SIGINT "
    "or SIGTERM. One recorder per store; the store never holds environments or open files; "
    "its mode is 0644 (0600 when /proc is mounted with hidepid)."
)


#: the options that take a TIME (which may be relative: ``-30m``)
TIME_OPTIONS = ("--at", "--since", "--until", "--replay")
_RELATIVE = re.compile(r"-\d+(?:\.\d+)?\s*[a-z]*", re.ASCII)


def join_time_args(argv: list[str]) -> list[str]:
    """``--at -30m`` as ``--at=-30m`` (argparse would take ``-30m`` for an option)."""
    out: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            out.extend(argv[i:])
            break
        if arg in TIME_OPTIONS and i + 1 < len(argv) and _RELATIVE.fullmatch(argv[i + 1]):
            out.append(f"{arg}={argv[i + 1]}")
            i += 2
            continue
        out.append(arg)
        i += 1
    return out


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.5 <= value <= 3600:
        raise ValueError(f"interval is 0.5-3600 seconds, not {text!r}")
    return value


def _keep(text: str) -> float | None:
    return None if text in ("0", "forever") else parse_age(text)


def _max_size(text: str) -> int | None:
    return None if text in ("0", "none") else parse_size(text)


def add_store_argument(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``: the store (default: the recorder's)."""
    parser.add_argument(
        "--db", type=Path, metavar="PATH",
        help=f"the recording (default: {default_path()})",
    )  # fmt: skip


def add_record_parser(sub: Any, common: dict[str, Any]) -> None:
    """Register ``pidtop record``."""
    import textwrap  # not for the monitor's own parser (its --replay): before its first frame

    p = sub.add_parser("record", help="record processes and exits for replay", **common)
    p.description = textwrap.fill(DESCRIPTION, 78)
    p.epilog = (
        "exit status: 0 after SIGINT/SIGTERM; 1 the store failed (a full disk: recording\n"
        "stops, what was stored is kept) or another recorder holds it; 2 bad command line"
    )
    p.add_argument(
        "--interval", type=arg_type(_interval, "SECONDS"), default=10.0, metavar="SECONDS",
        help="seconds between samples of the process table (default: 10)",
    )  # fmt: skip
    p.add_argument(
        "--keep", type=arg_type(_keep, "AGE"), default=7 * 86400.0, metavar="AGE",
        help="forget what is older than AGE: 7d, 12h, 30m (default: 7d; 0: keep all)",
    )  # fmt: skip
    p.add_argument(
        "--max-size", type=arg_type(_max_size, "SIZE"), default=1 << 30, metavar="SIZE",
        help="forget the oldest samples while the store is over SIZE: 1G, 500M (default: 1G; "
        "0: no limit)",
    )  # fmt: skip
    p.add_argument(
        "--no-connector", action="store_true",
        help="do not use the proc connector (exits between samples are then missing)",
    )  # fmt: skip
    add_store_argument(p)
    p.set_defaults(func=cmd_record)


def cmd_record(args: argparse.Namespace) -> int:
    from pidtop.record.recorder import Recorder, RecordFailed, RecordOptions, install_signals

    opts = RecordOptions(
        path=args.db or default_path(),
        interval=args.interval,
        keep=args.keep,
        max_bytes=args.max_size,
        use_connector=not args.no_connector,
    )
    recorder = Recorder(opts, lambda line: say(line, error=True))
    install_signals(recorder)
    say(f"pidtop record: recording to {opts.path} every {opts.interval:g} s", error=True)
    try:
        recorder.run()
    except (StoreError, RecordFailed) as e:
        say(f"pidtop record: {e}", error=True)
        return EXIT_FAILURE
    return EXIT_OK


# --------------------------------------------------------------------------- reading


def add_replay_arguments(parser: argparse.ArgumentParser) -> None:
    """The monitor's ``--replay [TIME]`` and ``--db PATH``."""
    parser.add_argument(
        "--replay", nargs="?", const="", metavar="TIME",
        help="show the recording (pidtop record) at TIME (default: its latest sample); "
        "f/b step a sample, g goes to a time. " + TIME_HELP,
    )  # fmt: skip
    add_store_argument(parser)


def replay_source(args: argparse.Namespace) -> Any:
    """The replay source for ``pidtop --replay``, or the exit status after saying why not."""
    return _open_or_status(args.db, args.replay or None, "pidtop: --replay: ", "pidtop: --replay: ")


def _open_or_status(db: Path | None, at: str | None, bad_time: str, no_store: str) -> Any:
    """:func:`open_replay`, or the exit status after saying why not: a bad time (usage) after
    ``bad_time``, no usable recording (failure) after ``no_store``."""
    try:
        return open_replay(db, at)
    except ValueError as e:
        say(f"{bad_time}{e}", error=True)
        return EXIT_USAGE
    except (StoreError, LookupError) as e:
        say(f"{no_store}{e}", error=True)
        return EXIT_FAILURE


def open_replay(db: Path | None, at: str | None) -> Any:
    """A :class:`~pidtop.record.replay.ReplaySource` at ``at`` (None: the latest sample).
    Raises ValueError (bad time) or StoreError/LookupError (no usable recording)."""
    from pidtop.record.reader import Reader
    from pidtop.record.replay import ReplaySource

    reader = Reader(db or default_path())
    when = None if at is None else parse_time(at, time.time())
    source = ReplaySource(reader, when)
    if when is not None and when < reader.moments[0].wall:
        say(
            f"pidtop: the recording starts at {stamp(reader.moments[0].wall)}: showing that",
            error=True,
        )
    return source


def snapshot_at(args: argparse.Namespace, run: Callable[..., None], opts: Any, out: Any) -> int:
    """``pidtop snapshot --at TIME``: the recorded moment (and the ``-n`` after it) written by
    the batch writer, identities from the recording."""
    from pidtop.record.replay import PlaybackSource
    from pidtop.sampling.batch import RowIdentity
    from pidtop.sampling.rows import Row

    source = _open_or_status(args.db, args.at, "pidtop snapshot: --at: ", "pidtop snapshot: ")
    if isinstance(source, int):
        return source
    reader = source.reader
    first = source.index
    indexes = list(range(first, min(first + opts.samples, len(reader))))
    prev = reader.previous(first)
    snaps = []
    inodes: dict[tuple[int, int], int] = {}
    for i in ([prev] if prev is not None else [first]) + indexes:
        snap, ino = reader.snapshot(i)
        snaps.append(snap)
        inodes.update(ino)
    opts.samples = len(indexes)

    def ident(row: Row) -> RowIdentity:
        inode = inodes.get(row.key)
        pid = row.info.pid
        if inode is None:
            return RowIdentity(str(pid), "pid-only")
        return RowIdentity(f"{pid}:{inode}", "exact", inode)

    run(opts, out, PlaybackSource(snaps), lambda s: None, ident)
    return EXIT_OK


def journal_window(args: argparse.Namespace, keep: Callable[..., bool]) -> int:
    """``pidtop journal --since T --until T``: the recorded exits of a window (the live
    command's lines or JSON), and a warning for each stretch whose exits are not all there."""
    from pidtop.journal.records import HEADER, record_user, text_line
    from pidtop.record.reader import Reader

    now = time.time()
    try:
        since = parse_time(args.since, now) if args.since else None
        until = parse_time(args.until, now) if args.until else None
    except ValueError as e:
        say(f"pidtop journal: {e}", error=True)
        return EXIT_USAGE
    try:
        reader = Reader(args.db or default_path())
    except StoreError as e:
        say(f"pidtop journal: {e}", error=True)
        return EXIT_FAILURE
    lo = since if since is not None else (reader.moments[0].wall if reader.moments else now)
    for a, b in reader.gaps(lo, until if until is not None else now):
        say(
            f"pidtop journal: warning: exits from {stamp(a)} to {stamp(b)} may be missing "
            "(not recording, or the proc connector was refused)",
            error=True,
        )
    out = sys.stdout
    if out.isatty() and not args.json:
        say(HEADER)
    for record in reader.exits(since, until):
        if not keep(record, record_user(record)):
            continue
        say(record.to_json() if args.json else text_line(record))
    return EXIT_OK
