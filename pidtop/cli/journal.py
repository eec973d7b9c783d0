"""``pidtop journal``: one line (or JSON object) per process exit on the machine, as it happens.

Runs until SIGINT/SIGTERM, then drains what the kernel already sent, flushes and exits 0.
Each record is flushed as it is written; a closed pipe (``| head``) ends the command quietly.
Text mode sanitises process text and colours only on a terminal; ``--json`` writes the real text.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import pwd
import re
import signal
import sys
import textwrap
from typing import Any, TextIO

from pidtop.journal.records import HEADER, record_user, text_line
from pidtop.journal.service import Journal, LostRecord, RecordFilter
from pidtop.kernel.errors import raise_fd_limit

DESCRIPTION = (
    "Print every process that exits on this machine, as it exits (the kernel's proc connector: "
    "even a process that lived 1 ms), with its exit code or signal and how long it lived, until "
    "Ctrl-C or SIGTERM. Whether a user other than root may listen depends on the kernel "
    "build (Linux >= 6.6 allows it; some builds refuse it): pidtop asks it at start. Where the "
    "connector is refused or delivers nothing (a container's namespaces, an older kernel), "
    "the processes listed every --interval "
    "seconds are watched through pidfds instead, and a warning says exits between listings "
    "may be missed. Lost events are counted and reported in the stream, never hidden."
)
JSON_HELP = (
    "one JSON object per line. Exits: event='exit', time (epoch seconds), pid, ppid (parent at "
    "exit), uid (real uid), comm, cmdline (null: not captured), exit_code (null: killed by a "
    "signal), signal (null: exited), core_dumped, lifetime_s (seconds, null: unknown), inode "
    "(pidfs inode when pidtop held a pidfd, else null), lifetime_resolution_s (null: exact; "
    "0.01: from a /proc start time); exit_code, signal and core_dumped all null: status "
    "unknown. Losses: event='lost', time, lost_events, exits_missing_max (an upper bound), "
    "overflow"
)


def _uid_of(text: str) -> int:
    try:
        return pwd.getpwnam(text).pw_uid
    except KeyError:
        pass
    if text.isascii() and text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(f"unknown user {text!r}")


def _regex(text: str) -> re.Pattern[str]:
    try:
        return re.compile(text)
    except re.error as e:
        raise argparse.ArgumentTypeError(f"bad regular expression {text!r}: {e}") from None


def _pids(text: str) -> frozenset[int]:
    out = set()
    for part in text.split(","):
        part = part.strip()
        if not (part.isascii() and part.isdigit() and 0 < int(part) < 2**31):
            raise argparse.ArgumentTypeError(f"expected PID[,PID...], not {text!r}")
        out.add(int(part))
    return frozenset(out)


def _interval(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0.1 <= value <= 60:
        raise argparse.ArgumentTypeError(f"interval is 0.1-60 seconds, not {text!r}")
    return value


def add_parser(sub: argparse._SubParsersAction, **common: Any) -> None:  # type: ignore[type-arg]
    """Add ``journal`` to the command parsers."""
    p = sub.add_parser("journal", help="print every process exit as it happens", **common)
    p.description = textwrap.fill(DESCRIPTION, 78)
    p.epilog = (
        "exit status: 0 after Ctrl-C/SIGTERM (what the kernel had sent is written first) or\n"
        "when the reader closed the pipe (| head); 1 stdout closed or refused a write (a full\n"
        "disk); 2 bad command line"
    )
    p.add_argument("--json", action="store_true", help=JSON_HELP)
    p.add_argument("--failed", action="store_true", help="only non-zero exits and signals")
    p.add_argument(
        "--user", type=_uid_of, action="append", default=[], metavar="USER",
        help="only processes of USER (name or uid; repeatable)",
    )  # fmt: skip
    p.add_argument(
        "--command", type=_regex, metavar="REGEX",
        help="only commands matching REGEX (searched in comm and the command line)",
    )  # fmt: skip
    p.add_argument("--pid", type=_pids, metavar="PID,...", help="only these PIDs")
    p.add_argument("--ppid", type=_pids, metavar="PID,...", help="only children of these PIDs")
    p.add_argument(
        "--no-connector", action="store_true",
        help="do not use the proc connector: watch listed processes through pidfds (incomplete)",
    )  # fmt: skip
    p.add_argument(
        "--interval", type=_interval, default=1.0, metavar="SECONDS",
        help="without the connector: seconds between process listings (default: 1)",
    )  # fmt: skip
    from pidtop.cli.record import TIME_HELP, add_store_argument

    p.add_argument(
        "--since", metavar="TIME",
        help="print the recorded exits (pidtop record) from TIME, then exit. " + TIME_HELP,
    )  # fmt: skip
    p.add_argument("--until", metavar="TIME", help="the recorded exits up to TIME (default: now)")
    add_store_argument(p)
    p.set_defaults(func=run)


class _Stop:
    requested = False


class _WriteFailed(Exception):
    """stdout refused a write (a full disk, /dev/full, an I/O error): exit 1, one line."""


def _write(out: TextIO, line: str) -> bool:
    """Write and flush one line; False when the reader has gone (closed pipe); raises
    :class:`_WriteFailed` when the output refuses it."""
    from pidtop.cli.output import silence_stdout

    try:
        out.write(line + "\n")
        out.flush()
    except BrokenPipeError:
        silence_stdout()
        return False
    except OSError as e:
        silence_stdout()  # the unwritten buffer must not fail again at exit
        raise _WriteFailed(e.strerror or str(e)) from None
    return True


def run(args: argparse.Namespace) -> int:
    """Stream exits until SIGINT/SIGTERM (exit 0) or a closed pipe (exit 0, quietly); 1 when
    stdout refuses a write."""
    try:
        return _run(args)
    except _WriteFailed as e:
        print(f"pidtop journal: cannot write to stdout: {e}", file=sys.stderr)
        return 1


def _run(args: argparse.Namespace) -> int:
    out = sys.stdout
    if out is None:
        print("pidtop journal: cannot write to stdout: it is closed", file=sys.stderr)
        return 1
    keep = RecordFilter(
        failed=args.failed,
        uids=frozenset(args.user),
        command=args.command,
        pids=args.pid or frozenset(),
        ppids=args.ppid or frozenset(),
    )
    if args.since is not None or args.until is not None:  # the recording, not the kernel
        from pidtop.cli.record import journal_window

        return journal_window(args, keep)
    tty = out.isatty()
    color = tty and not os.environ.get("NO_COLOR") and not args.json
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    os.set_blocking(wake_r, False)
    _Stop.requested = False

    def stop(signum: int, frame: object) -> None:
        _Stop.requested = True

    old = {s: signal.signal(s, stop) for s in (signal.SIGINT, signal.SIGTERM)}
    old_wakeup = signal.set_wakeup_fd(wake_w)
    raise_fd_limit()  # the fallback holds one pidfd per listed process
    journal = Journal(keep=1, interval=args.interval)
    try:
        journal.start(use_connector=not args.no_connector)
        if not journal.complete:
            print(f"pidtop journal: warning: {journal.note}", file=sys.stderr, flush=True)
        if tty and not args.json and not _write(out, HEADER):
            return 0
        while True:
            stopping = _Stop.requested
            records = journal.pump(0 if stopping else 0.5, wake_r)
            for record in records:
                if not keep(record, record_user(record)):
                    continue
                if args.json:
                    line = record.to_json()
                else:
                    line = text_line(record)
                    if color and record.failed:
                        line = f"\x1b[31m{line}\x1b[0m"
                    elif color and isinstance(record, LostRecord):
                        line = f"\x1b[1;33m{line}\x1b[0m"
                if not _write(out, line):
                    return 0
            if stopping:
                return 0
            with contextlib.suppress(BlockingIOError):
                os.read(wake_r, 512)
    finally:
        journal.close()
        signal.set_wakeup_fd(old_wakeup)
        for s, handler in old.items():
            signal.signal(s, handler)
        os.close(wake_r)
        os.close(wake_w)
