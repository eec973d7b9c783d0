"""``pidtop kill --tree``: the target and every descendant, forks during the kill included.

The work is :func:`pidtop.actions.treekill.kill_tree` (shared with the monitor); this prints its
one summary line (and the processes that were not permitted or failed, on stderr) and maps the
outcome to ``pidtop kill``'s exit status.
"""

from __future__ import annotations

import argparse

from pidtop.actions.treekill import SUSPEND_SIGNALS, kill_tree, reraise, signals_continue_tree
from pidtop.cli.output import say
from pidtop.exitcodes import ERROR_CODES, EXIT_FAILURE, EXIT_NO_PROCESS, EXIT_NOT_PERMITTED, EXIT_OK
from pidtop.kernel.errors import FdLimit, raise_fd_limit

#: processes listed one per line on stderr (not permitted, failed) before "... and N more"
PROBLEMS_SHOWN = 10


def run(args: argparse.Namespace, steps: list[tuple[float, int]]) -> int:
    """Kill the trees of ``args.targets``; return the exit status."""
    raise_fd_limit()  # one pidfd per process of the tree
    with signals_continue_tree() as received:
        try:
            result = kill_tree(args.targets, args.signal, steps, method=args.method)
        except FdLimit as e:
            say(f"pidtop kill --tree: {e}", error=True)
            return EXIT_FAILURE
    if any(sig not in SUSPEND_SIGNALS for sig in received):
        # the tree was continued: what was sent is said, then the signal ends pidtop
        if result.roots:
            say(result.summary(), error=True)
        reraise(received)
    status = EXIT_OK
    for ident, error in result.root_errors:
        message = str(error).removeprefix(f"PID {ident.pid}: ")
        say(f"{ident}: {message}", error=True)
        code = next((c for t, c in ERROR_CODES if isinstance(error, t)), EXIT_FAILURE)
        status = status or code
    if not result.roots:
        return status or EXIT_NO_PROCESS
    problems = list(result.problems())
    for res in problems[:PROBLEMS_SHOWN]:
        say(res.describe(), error=True)
    if len(problems) > PROBLEMS_SHOWN:
        say(f"... and {len(problems) - PROBLEMS_SHOWN} more", error=True)
    say(result.summary())
    for root in result.roots:  # a root that was gone before its signal: as plain kill
        first = root.results[0] if root.results else None
        if first is not None and first.outcome == "gone":
            status = status or EXIT_NO_PROCESS
    if result.interrupted or result.unheld:  # ctrl+z; or out of fds: some not signalled
        status = status or EXIT_FAILURE
    if problems:
        worst = problems[0].outcome
        status = status or (EXIT_NOT_PERMITTED if worst == "not_permitted" else EXIT_FAILURE)
    return status
