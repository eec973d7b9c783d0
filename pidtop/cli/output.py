"""The commands' output: one line at a time; a failed write to stdout is remembered (exit status
1), never a traceback.
"""

from __future__ import annotations

import errno
import os
import sys


class Output:
    """Whether writing to stdout failed (closed stdout, closed pipe): the run then fails."""

    failed = False


def say(line: str, *, error: bool = False) -> None:
    """Print one line. A failed stdout write does not stop the command (the signals still go
    out); it is remembered and makes the exit status 1 (see :func:`main`)."""
    stream = sys.stderr if error else sys.stdout
    if stream is None:  # started with the fd closed (pidtop id 1 >&-)
        if not error and not Output.failed:
            Output.failed = True
            say("pidtop: cannot write to stdout: it is closed", error=True)
        return
    try:
        print(line, file=stream, flush=True)
    except OSError as e:
        if error:
            return
        if not Output.failed:
            Output.failed = True
            if e.errno != errno.EPIPE:  # a closed pipe is the reader's choice: stay quiet
                say(f"pidtop: cannot write to stdout: {e.strerror or e}", error=True)
        silence_stdout()


def silence_stdout() -> None:
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
