"""The documented exit statuses of every pidtop command, in one place (the CLI and the monitor both
import it).
"""

from __future__ import annotations

from pidtop.kernel.errors import (
    FdLimit,
    HandleError,
    IdentityMismatch,
    NotPermitted,
    ProcessGone,
    Unsupported,
)

EXIT_OK = 0


EXIT_FAILURE = 1


EXIT_USAGE = 2


EXIT_NO_PROCESS = 3


EXIT_NOT_PERMITTED = 4


EXIT_MISMATCH = 5


EXIT_TIMEOUT = 6


EXIT_UNSUPPORTED = 7


EXIT_INTERRUPTED = 130


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


ERROR_CODES: tuple[tuple[type[HandleError], int], ...] = (
    (ProcessGone, EXIT_NO_PROCESS),
    (NotPermitted, EXIT_NOT_PERMITTED),
    (IdentityMismatch, EXIT_MISMATCH),
    (Unsupported, EXIT_UNSUPPORTED),
    (FdLimit, EXIT_FAILURE),
)


SIGNAL_CODES = {"gone": EXIT_NO_PROCESS, "not_permitted": EXIT_NOT_PERMITTED}


def status_for(error: HandleError) -> int:
    """The exit status documented for ``error`` (the table in ``--help``)."""
    return next((c for t, c in ERROR_CODES if isinstance(error, t)), EXIT_FAILURE)
