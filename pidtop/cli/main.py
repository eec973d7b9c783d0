"""Command line: ``pidtop`` (the TUI), ``pidtop kill``, ``wait``, ``id``, ``journal``, ``snapshot``.

Importing this module never imports Textual; the TUI is imported only when it is run.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pidtop import __version__
from pidtop.cli.args import (
    Parser,
    add_tui_arguments,
    arg_type,
    batch_argv,
    kill_argv,
    nonneg_float,
    positive_int,
    target_arg,
)
from pidtop.cli.output import Output, say, silence_stdout
from pidtop.exitcodes import EXIT_CODES_HELP, EXIT_FAILURE, EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from pidtop.kernel.signals import parse_signal

if TYPE_CHECKING:
    from pidtop.ui.preframe import PreFrame

COMMANDS = ("kill", "wait", "id", "journal", "snapshot", "record")


def build_tui_parser() -> argparse.ArgumentParser:
    parser = Parser(
        prog="pidtop",
        description="A terminal process monitor that acts on processes, not PID numbers.",
        epilog="commands (see pidtop COMMAND --help):\n"
        "  pidtop kill [-s SIGNAL] [--timeout MS SIGNAL]... [--reclaim] TARGET...\n"
        "  pidtop kill --tree [-s SIGNAL] [--timeout MS SIGNAL]... TARGET...\n"
        "  pidtop wait [--timeout SECONDS] [--any] [--quiet] TARGET...\n"
        "  pidtop id PID...\n"
        "  pidtop journal [--json] [--failed] [--user USER] [--command REGEX] ...\n"
        "  pidtop snapshot [-n N] [--json|--csv] [-d -u -p -t -s --filter TEXT]  (also -b)\n"
        "  pidtop record [--interval S] [--keep 7d] [--max-size 1G]; pidtop --replay [TIME]\n\n"
        + EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-V", "--version", action="version", version=f"pidtop {__version__}")
    add_tui_arguments(parser)
    from pidtop.cli.record import add_replay_arguments

    add_replay_arguments(parser)
    return parser


def build_command_parser() -> argparse.ArgumentParser:
    from pidtop.cli.process import cmd_id, cmd_kill, cmd_wait  # not for the monitor
    from pidtop.kernel.watch import REAP_GRACE

    parser = Parser(prog="pidtop", formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    common = {"formatter_class": argparse.RawDescriptionHelpFormatter, "epilog": EXIT_CODES_HELP}
    signal_type = arg_type(parse_signal, "SIGNAL")

    kill = sub.add_parser("kill", help="signal exact processes", **common)  # type: ignore[arg-type]
    kill.description = (
        "Open every TARGET first, then send SIGNAL through its pidfd (-s KILL, or as kill(1): "
        "-9, -KILL, -SIGKILL). With --timeout, wait up to "
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
    kill.add_argument(
        "-l", "--list", nargs="?", default=False, metavar="SIGNAL",
        help="list the signal names (as util-linux kill -l); with SIGNAL, its name or number",
    )  # fmt: skip
    kill.add_argument("targets", nargs="*", type=target_arg, metavar="TARGET")
    kill.set_defaults(func=cmd_kill)

    wait = sub.add_parser("wait", help="wait for processes to exit", **common)  # type: ignore[arg-type]
    wait.description = (
        "Wait for every TARGET (or any, with --any) to exit; children or not. Each exit is "
        "printed with its exit code or signal when known, and how long the process lived. "
        "The status of a process that is not our child is known only once its parent reaps it; "
        f"pidtop waits up to {REAP_GRACE:g} s for that before printing 'unknown'."
    )
    wait.add_argument(
        "--timeout", type=arg_type(nonneg_float, "SECONDS"), metavar="SECONDS",
        help="give up after SECONDS (exit status 6)",
    )  # fmt: skip
    wait.add_argument("--any", action="store_true", help="return when any one target exits")
    wait.add_argument("--quiet", action="store_true", help="print nothing")
    wait.add_argument("targets", nargs="+", type=target_arg, metavar="TARGET")
    wait.set_defaults(func=cmd_wait)

    ident = sub.add_parser("id", help="print PID:INODE of live processes", **common)  # type: ignore[arg-type]
    ident.description = (
        "Print PID:INODE (the pidfs inode, unique per boot) for each live process. A zombie "
        "(exited, not yet reaped) is refused with 'has already exited' (exit status 3), as is "
        "a thread ID."
    )
    ident.add_argument("pids", nargs="+", type=arg_type(positive_int, "PID"), metavar="PID")
    ident.set_defaults(func=cmd_id)

    from pidtop.cli import journal as journal_cli

    journal_cli.add_parser(sub, formatter_class=argparse.RawDescriptionHelpFormatter)

    from pidtop.cli.snapshot import add_snapshot_parser  # it imports this module

    add_snapshot_parser(sub, common)

    from pidtop.cli.record import add_record_parser

    add_record_parser(sub, common)
    return parser


def _parse_command(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """Parse a command line; a word the command does not take is reported by the command's own
    parser (``pidtop kill: unrecognized arguments: ...``), not by ``pidtop``'s."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                action.choices[args.command].error(f"unrecognized arguments: {' '.join(extra)}")
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def _run_tui(args: argparse.Namespace) -> int:
    from pidtop.ui.gcpolicy import hold_collector, release_collector

    hold_collector()  # no garbage collection in the imports below (pidtop.ui.startup)
    try:
        return _start_tui(args)
    finally:
        release_collector()


def _start_tui(args: argparse.Namespace) -> int:
    from pidtop.ui import preframe

    try:
        pre = preframe.show(args)  # the first frame, before Textual is imported
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except preframe.Interrupted as e:
        return e.status
    try:
        return _start_app(args, pre)
    except KeyboardInterrupt:  # ctrl+c before Textual took the terminal
        return EXIT_INTERRUPTED
    except preframe.Interrupted as e:  # SIGTERM, SIGHUP, SIGQUIT likewise
        return e.status
    finally:
        if pre is not None:
            pre.close()  # no-op once Textual has the terminal


def _start_app(args: argparse.Namespace, pre: PreFrame | None) -> int:
    """Textual, the app, and its start (after the pre-frame: nothing of it is needed to
    paint that, and its imports are most of start-up's time)."""
    _import_asyncio_without_tls()  # first: Textual and pidtop.ui.startup import asyncio
    try:
        from pidtop.ui.startup import textual_timing

        textual_timing()  # before Textual reads its escape delay and frame rate
        import textual  # noqa: F401

        from pidtop.ui.startup import resolve_options, run_tui
    except ImportError as e:
        if pre is not None:
            pre.close()
        say(f"pidtop: the terminal UI is not available ({e}); use pidtop kill|wait|id", error=True)
        return EXIT_FAILURE
    replay = None
    if args.replay is not None:  # --replay [TIME]: the recording, not /proc
        from pidtop.cli.record import replay_source

        replay = replay_source(args)
        if isinstance(replay, int):
            return replay
    return run_tui(*resolve_options(args), replay=replay, pre=pre)


def _import_without(name: str, *left_out: str) -> None:
    """Import module ``name`` as if ``left_out`` were not installed: modules it imports only
    if they are there (``try: import x``), for features pidtop never uses. Only that import
    goes without them: a later ``import`` of one works as usual."""
    if name in sys.modules:
        return
    missing = [m for m in left_out if m not in sys.modules]
    for m in missing:
        sys.modules[m] = None  # type: ignore[assignment]  # ``import m`` raises ImportError
    try:
        __import__(name)
    finally:
        for m in missing:
            del sys.modules[m]


def _import_asyncio_without_tls() -> None:
    """Import asyncio (Textual's loop) without ``ssl``: pidtop opens no network connection, and
    asyncio imports ssl only for TLS transports, which it does without when ssl is missing.
    ssl loads OpenSSL's libraries: about 5 MiB of the monitor's RSS and 30-100 ms of its start."""
    if "ssl" not in sys.modules:
        _import_without("asyncio", "ssl")


def _import_shutil_without_compression() -> None:
    """Import shutil (argparse's help width, tempfile's, so Textual's) without ``zlib``,
    ``bz2`` and ``lzma``: shutil imports them only for its archive formats, which pidtop never
    makes or unpacks. Their modules and libraries were ~0.3 MiB of the monitor's RSS."""
    _import_without("shutil", "zlib", "bz2", "lzma")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: a command (kill, wait, id, snapshot) or, without one, the monitor."""
    argv = list(sys.argv[1:] if argv is None else argv)
    _import_shutil_without_compression()  # before the parser: argparse imports shutil
    Output.failed = False
    try:
        argv = batch_argv(argv) or argv  # pidtop -b/--batch is pidtop snapshot
        from pidtop.cli.record import join_time_args

        argv = join_time_args(argv)  # --at -30m
        if argv and argv[0] in COMMANDS:
            if argv[0] == "kill":
                argv = kill_argv(argv)
            args = _parse_command(build_command_parser(), argv)
            status = int(args.func(args))
            return status or (EXIT_FAILURE if Output.failed else EXIT_OK)
        args = build_tui_parser().parse_args(argv)
    except SystemExit as e:  # --help, --version, usage errors
        return e.code if isinstance(e.code, int) else EXIT_USAGE
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # --help into a closed pipe
        silence_stdout()
        return EXIT_FAILURE
    return _run_tui(args)
