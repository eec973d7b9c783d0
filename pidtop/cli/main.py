"""Command line: ``pidtop`` (the TUI), ``pidtop kill``, ``wait``, ``id``, ``journal``, ``snapshot``.

Importing this module never imports Textual; the TUI is imported only when it is run.
"""

from __future__ import annotations

import argparse
import asyncio
import errno
import math
import os
import pwd
import re
import sys
from collections.abc import Sequence

from pidtop import __version__
from pidtop.kernel.errors import (
    FdLimit,
    HandleError,
    IdentityMismatch,
    NotPermitted,
    ProcessGone,
    Unsupported,
)
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import PID_MAX, Identity, format_identity, parse_number, parse_target
from pidtop.kernel.signals import parse_signal
from pidtop.kernel.watch import REAP_GRACE, ExitEvent, wait_all

EXIT_OK = 0
EXIT_FAILURE = 1
EXIT_USAGE = 2
EXIT_NO_PROCESS = 3
EXIT_NOT_PERMITTED = 4
EXIT_MISMATCH = 5
EXIT_TIMEOUT = 6
EXIT_UNSUPPORTED = 7
EXIT_INTERRUPTED = 130

COMMANDS = ("kill", "wait", "id", "journal", "snapshot")

EXIT_CODES_HELP = f"""\
exit status:
  {EXIT_OK}  success (the kernel accepted every signal / the targets exited / every id printed);
     a zombie (exited, not yet reaped) accepts signals: reported "already exited", still 0
  {EXIT_FAILURE}  other failure (a signal failed with another error, out of fds, the TUI not
     installed, or the output could not be written: stdout closed, or a closed pipe (then
     silently))
  {EXIT_USAGE}  bad command line: malformed TARGET, unknown signal, negative or infinite timeout;
     the monitor without a terminal (stdin, stdout and stderr must all be one)
  {EXIT_NO_PROCESS}  no such process (it does not exist, exited before it was signalled, or the
     PID is a thread ID: only processes are targets)
  {EXIT_NOT_PERMITTED}  operation not permitted
  {EXIT_MISMATCH}  PID is now another process (PID:INODE names a process that is gone)
  {EXIT_TIMEOUT}  wait: the timeout expired before the targets exited
  {EXIT_UNSUPPORTED}  the kernel cannot do it (PID:INODE needs unique pidfs inodes, Linux >= 6.9),
     or /proc belongs to another PID namespace (its PIDs are not pidtop's: nothing is sent)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C, SIGINT); the monitor: also ctrl+c typed in it
  129, 143  the monitor was ended by SIGHUP / SIGTERM (it restores the terminal first)
With several targets the status is that of the first target that failed.
TARGET is PID or PID:INODE (the util-linux >= 2.42 notation; see `pidtop id`), digits 0-9 only.
A process named twice (PID and PID:INODE, or the same PID) is acted on once."""

_ERROR_CODES: tuple[tuple[type[HandleError], int], ...] = (
    (ProcessGone, EXIT_NO_PROCESS),
    (NotPermitted, EXIT_NOT_PERMITTED),
    (IdentityMismatch, EXIT_MISMATCH),
    (Unsupported, EXIT_UNSUPPORTED),
    (FdLimit, EXIT_FAILURE),
)
_SIGNAL_CODES = {"gone": EXIT_NO_PROCESS, "not_permitted": EXIT_NOT_PERMITTED}


def status_for(error: HandleError) -> int:
    """The exit status documented for ``error`` (the table in ``--help``)."""
    return next((c for t, c in _ERROR_CODES if isinstance(error, t)), EXIT_FAILURE)


class _Parser(argparse.ArgumentParser):
    """argparse with a one-line error and our usage exit status."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see --help)\n")


def _arg_type(func: object, name: str) -> object:
    """Wrap a parser so argparse shows its ValueError message rather than a generic one."""

    def convert(text: str) -> object:
        try:
            return func(text)  # type: ignore[operator]
        except ValueError as e:
            raise argparse.ArgumentTypeError(str(e)) from None

    convert.__name__ = name
    return convert


#: ASCII digits with an optional fraction and exponent; no sign, no "inf"/"nan", no "1_0"
_DECIMAL = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def _nonneg_float(text: str) -> float:
    """A finite number >= 0 (``1e30`` included: "wait practically forever"); never inf/nan."""
    value = float(text) if _DECIMAL.fullmatch(text) else math.nan
    if not math.isfinite(value):  # "inf", "nan", "1e999" (overflows to inf)
        raise ValueError(f"timeout must be a finite number >= 0, not {text!r}")
    return value


def _positive_int(text: str) -> int:
    value = parse_number(text, PID_MAX)
    if not value:
        raise ValueError(f"expected a positive whole number up to {PID_MAX}, not {text!r}")
    return value


def _pid_list(text: str) -> list[int]:
    pids = [_positive_int(p) for p in text.split(",") if p.strip()]
    if not pids:  # "-p ,," would show every process: the opposite of what was asked
        raise ValueError(f"expected PIDs separated by commas, not {text!r}")
    return pids


_target = _arg_type(parse_target, "TARGET")


class _Output:
    """Whether writing to stdout failed (closed stdout, closed pipe): the run then fails."""

    failed = False


def _say(line: str, *, error: bool = False) -> None:
    """Print one line. A failed stdout write does not stop the command (the signals still go
    out); it is remembered and makes the exit status 1 (see :func:`main`)."""
    stream = sys.stderr if error else sys.stdout
    if stream is None:  # started with the fd closed (pidtop id 1 >&-)
        if not error and not _Output.failed:
            _Output.failed = True
            _say("pidtop: cannot write to stdout: it is closed", error=True)
        return
    try:
        print(line, file=stream, flush=True)
    except OSError as e:
        if error:
            return
        if not _Output.failed:
            _Output.failed = True
            if e.errno != errno.EPIPE:  # a closed pipe is the reader's choice: stay quiet
                _say(f"pidtop: cannot write to stdout: {e.strerror or e}", error=True)
        _silence_stdout()


def _silence_stdout() -> None:
    """Point fd 1 at /dev/null so the interpreter's final flush cannot fail with a traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
    except OSError:
        return
    try:
        os.dup2(devnull, 1)
    except OSError:
        pass
    finally:
        os.close(devnull)


_DEGRADED_NOTE = (
    "no pidfd support here: a process is re-checked by its start time right before kill(2), "
    "which leaves a small race"
)


def _open(
    targets: Sequence[Identity], labels: Sequence[str], *, allow_exited: bool = True
) -> tuple[list[ProcessHandle], list[str], int]:
    """Open every target; report failures; return handles, labels, status.

    A process named twice (``P P``, ``P P:INO``) gets one handle: it is signalled once.
    """
    handles: list[ProcessHandle] = []
    opened: list[str] = []
    seen: set[tuple[int, int | None, int | None]] = set()
    status = EXIT_OK
    for ident, label in zip(targets, labels, strict=True):
        try:
            handle = ProcessHandle.open(ident.pid, inode=ident.inode, allow_exited=allow_exited)
        except HandleError as e:
            message = str(e).removeprefix(f"PID {ident.pid}: ")  # the label names it already
            _say(f"{label}: {message}", error=True)
            status = status or status_for(e)
            continue
        key = (handle.pid, handle.inode, handle.starttime)
        if key in seen:
            handle.close()
            continue
        seen.add(key)
        if handle.degraded and not handles:
            _say(f"pidtop: warning: {_DEGRADED_NOTE}", error=True)
        handles.append(handle)
        opened.append(label)
    return handles, opened, status


def _label(handle: ProcessHandle) -> str:
    return format_identity(handle.identity)


# --------------------------------------------------------------------------- kill


def _cmd_kill(args: argparse.Namespace) -> int:
    steps: list[tuple[float, int]] = []
    for ms_text, sig_text in args.timeout or []:
        try:
            steps.append((_nonneg_float(ms_text) / 1000, parse_signal(sig_text)))
        except ValueError as e:
            return _usage("pidtop kill", str(e))
    if args.reclaim and 9 not in (args.signal, *(s for _, s in steps)):
        return _usage("pidtop kill", "--reclaim needs SIGKILL (-s KILL or --timeout MS KILL)")
    if args.method != "auto" and not args.tree:
        return _usage("pidtop kill", "--method needs --tree")
    if args.method == "cgroup" and 9 not in (args.signal, *(s for _, s in steps)):
        return _usage("pidtop kill", "--method cgroup needs SIGKILL (cgroup.kill sends only that)")
    if args.tree:
        if args.reclaim:
            return _usage("pidtop kill", "--reclaim does not go with --tree")
        from pidtop.cli.tree import run  # the tree kill lives in its own module

        return run(args, steps)
    handles, _labels, status = _open(args.targets, [str(t) for t in args.targets])
    try:
        alive = handles
        signals = [(0.0, args.signal), *steps]
        for i, (seconds, sig) in enumerate(signals):
            if i and alive:  # wait on readiness, then signal only those still alive
                exited = asyncio.run(wait_all(alive, timeout=seconds))
                for event in exited:
                    _say(f"{_label(event.handle)}: exited ({event.status.describe()})")
                gone = {e.handle for e in exited}
                alive = [h for h in alive if h not in gone]
            still: list[ProcessHandle] = []
            for handle in alive:
                result = handle.send_signal(sig)
                _say(result.describe(), error=not result.ok)
                if not result.ok and status == EXIT_OK:
                    status = _SIGNAL_CODES.get(result.outcome, EXIT_FAILURE)
                if result.outcome == "delivered":
                    still.append(handle)
                    if sig == 9 and args.reclaim:
                        reclaimed = handle.reclaim()
                        _say(reclaimed.describe(), error=not reclaimed.ok)
            alive = still
    finally:
        for handle in handles:
            handle.close()
    return status


# --------------------------------------------------------------------------- wait


def _cmd_wait(args: argparse.Namespace) -> int:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout >= 0):
        return _usage("pidtop wait", "timeout must be a finite number >= 0")
    handles, _labels, status = _open(args.targets, [str(t) for t in args.targets])
    try:
        if status != EXIT_OK:
            return status

        def on_exit(event: ExitEvent) -> None:
            if not args.quiet:
                lived = event.lived_seconds
                note = "" if lived is None else f" (lived {lived:.2f} s)"
                _say(f"{_label(event.handle)}: {event.status.describe()}{note}")

        grace = REAP_GRACE if args.timeout is None else min(REAP_GRACE, args.timeout)
        exited = asyncio.run(
            wait_all(handles, args.any, args.timeout, reap_grace=grace, on_exit=on_exit)
        )
        if (args.any and exited) or len(exited) == len(handles):
            return EXIT_OK
        if not args.quiet:
            gone = {e.handle for e in exited}
            for handle in handles:
                if handle not in gone:
                    _say(f"{_label(handle)}: still running (timeout)", error=True)
        return EXIT_TIMEOUT
    finally:
        for handle in handles:
            handle.close()


# --------------------------------------------------------------------------- id


def _cmd_id(args: argparse.Namespace) -> int:
    pids = list(dict.fromkeys(args.pids))
    handles, _labels, status = _open(
        [Identity(p) for p in pids], [str(p) for p in pids], allow_exited=False
    )
    for handle in handles:
        with handle:
            if handle.inode is None:
                _say(f"{handle.pid}: this kernel has no pidfs inodes (Linux < 6.9)", error=True)
                status = status or EXIT_UNSUPPORTED
            else:
                _say(_label(handle))
    return status


def _usage(prog: str, message: str) -> int:
    _say(f"{prog}: {message} (see --help)", error=True)
    return EXIT_USAGE


# --------------------------------------------------------------------------- parsers


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
    from pidtop.sampling.table import COLUMNS, resolve_sort_key

    column = resolve_sort_key(text)
    if column is None:
        names = ", ".join(c.title for c in COLUMNS)
        raise ValueError(f"unknown sort column {text!r} (one of: {names})")
    return column


def add_view_arguments(parser: argparse.ArgumentParser, *, delay: int) -> None:
    """What to show and how often: shared by the monitor and ``pidtop snapshot``."""
    parser.add_argument(
        "-d", "--delay", type=_arg_type(_tui_delay, "TENTHS"), default=delay, metavar="TENTHS",
        help=f"delay between updates, in tenths of seconds: 1-600 (default: {delay})",
    )  # fmt: skip
    parser.add_argument(
        "-u", "--user", type=_arg_type(_tui_user, "USER"), metavar="USER",
        help="show only processes of USER (a name or a numeric uid)",
    )  # fmt: skip
    parser.add_argument(
        "-p", "--pid", type=_arg_type(_pid_list, "PID,PID..."), metavar="PID,PID...",
        help="show only the given PIDs",
    )  # fmt: skip
    parser.add_argument("-t", "--tree", action="store_true", help="show the process tree")
    parser.add_argument(
        "-s", "--sort-key", type=_arg_type(_tui_sort_key, "COLUMN"), metavar="COLUMN",
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
        "--pin", type=_target, action="append", default=[], metavar="TARGET",
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
        "--no-journal", action="store_true",
        help="do not record process exits (E, and the header's exit counters)",
    )  # fmt: skip
    parser.add_argument(
        "--exits-keep", type=_arg_type(_exits_keep, "N"), metavar="N",
        help="exits kept in memory for E (default: 10000; 1-1000000)",
    )  # fmt: skip


def build_tui_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="pidtop",
        description="A terminal process monitor that acts on processes, not PID numbers.",
        epilog="commands (see pidtop COMMAND --help):\n"
        "  pidtop kill [-s SIGNAL] [--timeout MS SIGNAL]... [--reclaim] TARGET...\n"
        "  pidtop kill --tree [-s SIGNAL] [--timeout MS SIGNAL]... TARGET...\n"
        "  pidtop wait [--timeout SECONDS] [--any] [--quiet] TARGET...\n"
        "  pidtop id PID...\n"
        "  pidtop journal [--json] [--failed] [--user USER] [--command REGEX] ...\n"
        "  pidtop snapshot [-n N] [--json|--csv] [-d -u -p -t -s --filter TEXT]  (also -b)\n\n"
        + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"pidtop {__version__}")
    add_tui_arguments(parser)
    return parser


def build_command_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="pidtop", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = {"formatter_class": argparse.RawDescriptionHelpFormatter, "epilog": EXIT_CODES_HELP}
    signal_type = _arg_type(parse_signal, "SIGNAL")

    kill = sub.add_parser("kill", help="signal exact processes", **common)  # type: ignore[arg-type]
    kill.description = (
        "Open every TARGET first, then send SIGNAL through its pidfd. With --timeout, wait up to "
        "MS milliseconds for each target to exit, then send the next SIGNAL to the same process "
        "if it is still running (repeatable, like util-linux kill --timeout)."
    )
    kill.add_argument(
        "-s", "--signal", type=signal_type, default=15, metavar="SIGNAL",
        help="signal name or number: TERM, SIGTERM, 15, RTMIN+3, 0 (default: TERM)",
    )  # fmt: skip
    kill.add_argument(
        "--timeout", nargs=2, action="append", metavar=("MS", "SIGNAL"),
        help="after MS milliseconds, send SIGNAL if the target is still running",
    )  # fmt: skip
    kill.add_argument(
        "--reclaim", action="store_true",
        help="after SIGKILL, free the memory at once with process_mrelease (Linux >= 5.15)",
    )  # fmt: skip
    kill.add_argument(
        "--tree", action="store_true",
        help="the target and every descendant, also those forked meanwhile: the tree is "
        "stopped (SIGSTOP through pidfds) until no new process appears, signalled, continued",
    )  # fmt: skip
    kill.add_argument(
        "--method", choices=("auto", "freeze", "cgroup"), default="auto",
        help="with --tree and SIGKILL: cgroup.kill where the tree is exactly a writable cgroup "
        "v2 (auto, the default); on the target's cgroup whatever else it holds, such as "
        "processes that escaped the tree by a double fork (cgroup); or never (freeze)",
    )  # fmt: skip
    kill.add_argument("targets", nargs="+", type=_target, metavar="TARGET")
    kill.set_defaults(func=_cmd_kill)

    wait = sub.add_parser("wait", help="wait for processes to exit", **common)  # type: ignore[arg-type]
    wait.description = (
        "Wait for every TARGET (or any, with --any) to exit; children or not. Each exit is "
        "printed with its exit code or signal when known, and how long the process lived. "
        "The status of a process that is not our child is known only once its parent reaps it; "
        f"pidtop waits up to {REAP_GRACE:g} s for that before printing 'unknown'."
    )
    wait.add_argument(
        "--timeout", type=_arg_type(_nonneg_float, "SECONDS"), metavar="SECONDS",
        help="give up after SECONDS (exit status 6)",
    )  # fmt: skip
    wait.add_argument("--any", action="store_true", help="return when any one target exits")
    wait.add_argument("--quiet", action="store_true", help="print nothing")
    wait.add_argument("targets", nargs="+", type=_target, metavar="TARGET")
    wait.set_defaults(func=_cmd_wait)

    ident = sub.add_parser("id", help="print PID:INODE of live processes", **common)  # type: ignore[arg-type]
    ident.description = (
        "Print PID:INODE (the pidfs inode, unique per boot) for each live process. A zombie "
        "(exited, not yet reaped) is refused with 'has already exited' (exit status 3), as is "
        "a thread ID."
    )
    ident.add_argument("pids", nargs="+", type=_arg_type(_positive_int, "PID"), metavar="PID")
    ident.set_defaults(func=_cmd_id)

    from pidtop.cli import journal as journal_cli

    journal_cli.add_parser(sub, formatter_class=argparse.RawDescriptionHelpFormatter)

    from pidtop.cli.snapshot import add_snapshot_parser  # it imports this module

    add_snapshot_parser(sub, common)
    return parser


def _run_tui(args: argparse.Namespace) -> int:
    try:
        import textual  # noqa: F401

        from pidtop.ui.startup import resolve_options, run_tui
    except ImportError as e:
        _say(f"pidtop: the terminal UI is not available ({e}); use pidtop kill|wait|id", error=True)
        return EXIT_FAILURE
    return run_tui(*resolve_options(args))


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: a command (kill, wait, id, snapshot) or, without one, the monitor."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _Output.failed = False
    try:
        from pidtop.cli.snapshot import batch_argv

        argv = batch_argv(argv) or argv  # pidtop -b/--batch is pidtop snapshot
        if argv and argv[0] in COMMANDS:
            args = build_command_parser().parse_args(argv)
            status = int(args.func(args))
            return status or (EXIT_FAILURE if _Output.failed else EXIT_OK)
        args = build_tui_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # --help into a closed pipe
        _silence_stdout()
        return EXIT_FAILURE
    return _run_tui(args)
