"""``pidtop kill``, ``pidtop wait``, ``pidtop id``: exact processes through pidfds."""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Sequence

from pidtop.actions.escalate import run_blocking, run_escalation
from pidtop.cli.args import nonneg_float, usage_error
from pidtop.cli.output import say
from pidtop.exitcodes import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_TIMEOUT,
    EXIT_UNSUPPORTED,
    SIGNAL_CODES,
    status_for,
)
from pidtop.kernel.errors import (
    HandleError,
)
from pidtop.kernel.handle import Handle, ProcessHandle
from pidtop.kernel.identity import Identity, format_identity
from pidtop.kernel.signals import list_signals, parse_signal, signal_name
from pidtop.kernel.watch import REAP_GRACE, ExitEvent, wait_all

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
            say(f"{label}: {message}", error=True)
            status = status or status_for(e)
            continue
        key = (handle.pid, handle.inode, handle.starttime)
        if key in seen:
            handle.close()
            continue
        seen.add(key)
        if handle.degraded and not handles:
            say(f"pidtop: warning: {_DEGRADED_NOTE}", error=True)
        handles.append(handle)
        opened.append(label)
    return handles, opened, status


def _label(handle: Handle) -> str:
    return format_identity(handle.identity)


def list_signal_names(which: str | None) -> int:
    """``pidtop kill -l [SIGNAL]`` as util-linux prints it: every name without ``SIG``, by
    number, in lines of at most 80 columns; with SIGNAL, its name (for a number) or its
    number (for a name)."""
    if which is not None:
        try:
            number = parse_signal(which)
        except ValueError as e:
            return usage_error("pidtop kill", str(e))
        say(signal_name(number).removeprefix("SIG") if which.isdigit() else str(number))
        return EXIT_OK
    names = [name.removeprefix("SIG") for _n, name in list_signals() if "SIGRT" not in name]
    line = ""
    for name in names:
        if line and len(line) + 1 + len(name) > 79:
            say(line)
            line = ""
        line = f"{line} {name}" if line else name
    say(line)
    return EXIT_OK


def cmd_kill(args: argparse.Namespace) -> int:
    if args.list is not False:
        if args.targets:
            return usage_error("pidtop kill", "-l takes at most one SIGNAL, no TARGET")
        return list_signal_names(args.list)
    if not args.targets:
        return usage_error("pidtop kill", "the following arguments are required: TARGET")
    steps: list[tuple[float, int]] = []
    for ms_text, sig_text in args.timeout or []:
        try:
            steps.append((nonneg_float(ms_text) / 1000, parse_signal(sig_text)))
        except ValueError as e:
            return usage_error("pidtop kill", str(e))
    if args.reclaim and 9 not in (args.signal, *(s for _, s in steps)):
        return usage_error("pidtop kill", "--reclaim needs SIGKILL (-s KILL or --timeout MS KILL)")
    if args.method != "auto" and not args.tree:
        return usage_error("pidtop kill", "--method needs --tree")
    if args.method == "cgroup" and 9 not in (args.signal, *(s for _, s in steps)):
        return usage_error(
            "pidtop kill", "--method cgroup needs SIGKILL (cgroup.kill sends only that)"
        )
    if args.tree:
        if args.reclaim:
            return usage_error("pidtop kill", "--reclaim does not go with --tree")
        from pidtop.cli.tree import run  # the tree kill lives in its own module

        return run(args, steps)
    handles, _labels, status = _open(args.targets, [str(t) for t in args.targets])

    def send(alive: list[ProcessHandle], sig: int, _after: float | None) -> list[ProcessHandle]:
        """One signal to each, said; the first failure sets the status; returns those it was
        delivered to (with ``--reclaim``, a SIGKILL's memory is reclaimed at once)."""
        nonlocal status
        still: list[ProcessHandle] = []
        for handle in alive:
            result = handle.send_signal(sig)
            say(result.describe(), error=not result.ok)
            if not result.ok and status == EXIT_OK:
                status = SIGNAL_CODES.get(result.outcome, EXIT_FAILURE)
            if result.outcome == "delivered":
                still.append(handle)
                if sig == 9 and args.reclaim:
                    reclaimed = handle.reclaim()
                    say(reclaimed.describe(), error=not reclaimed.ok)
        return still

    async def wait(alive: list[ProcessHandle], seconds: float) -> list[ProcessHandle]:
        """On readiness, in a loop of its own (blocking: see run_blocking); says who exited."""
        exited = asyncio.run(wait_all(alive, timeout=seconds))
        for event in exited:
            say(f"{_label(event.handle)}: exited ({event.status.describe()})")
        gone = {e.handle for e in exited}
        return [h for h in alive if h not in gone]

    try:
        run_blocking(run_escalation(handles, args.signal, steps, send=send, wait=wait))
    finally:
        for handle in handles:
            handle.close()
    return status


def cmd_wait(args: argparse.Namespace) -> int:
    if args.timeout is not None and not (math.isfinite(args.timeout) and args.timeout >= 0):
        return usage_error("pidtop wait", "timeout must be a finite number >= 0")
    handles, _labels, status = _open(args.targets, [str(t) for t in args.targets])
    try:
        if status != EXIT_OK:
            return status

        def on_exit(event: ExitEvent) -> None:
            if not args.quiet:
                lived = event.lived_seconds
                note = "" if lived is None else f" (lived {lived:.2f} s)"
                say(f"{_label(event.handle)}: {event.status.describe()}{note}")

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
                    say(f"{_label(handle)}: still running (timeout)", error=True)
        return EXIT_TIMEOUT
    finally:
        for handle in handles:
            handle.close()


def cmd_id(args: argparse.Namespace) -> int:
    pids = list(dict.fromkeys(args.pids))
    handles, _labels, status = _open(
        [Identity(p) for p in pids], [str(p) for p in pids], allow_exited=False
    )
    for handle in handles:
        with handle:
            if handle.inode is None:
                say(f"{handle.pid}: this kernel has no pidfs inodes (Linux < 6.9)", error=True)
                status = status or EXIT_UNSUPPORTED
            else:
                say(_label(handle))
    return status
