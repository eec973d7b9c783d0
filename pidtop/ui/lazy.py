"""Screens imported when first opened, and what happens when that import cannot happen.

A screen's module is imported the first time its key is pressed (the first frame does not wait
for it). Importing opens files: out of fds (``ulimit -n 8``, or every fd held) the import
raises, and an action that raises ends the app. :func:`opens_screen` wraps such an action: the
failure becomes a notification and the monitor goes on; the next press tries again (a failed
import leaves nothing half-imported behind).
"""

from __future__ import annotations

import errno
import functools
from collections.abc import Callable
from typing import Any, Concatenate, ParamSpec, Protocol

__all__ = ["opens_screen", "said_cannot_open"]

P = ParamSpec("P")
_NO_FDS = (errno.EMFILE, errno.ENFILE)


class _Notifies(Protocol):
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., markup: bool = ...
    ) -> Any: ...


def said_cannot_open(app: _Notifies, what: str, error: ImportError | OSError) -> bool:
    """Say that ``what`` could not be opened because of ``error`` (out of fds, or a broken
    install); False, and nothing said, for any other OSError (the caller re-raises it)."""
    if isinstance(error, OSError) and error.errno not in _NO_FDS:
        return False
    why = (
        "out of file descriptors (raise ulimit -n)"
        if isinstance(error, OSError)
        else f"{type(error).__name__}: {error}"
    )
    app.notify(f"Cannot open {what}: {why}", title="Not opened", severity="error", markup=False)
    return True


def opens_screen(
    what: str,
) -> Callable[[Callable[Concatenate[Any, P], None]], Callable[Concatenate[Any, P], None]]:
    """Decorate an app method that imports and pushes the screen ``what`` ("the Exits
    screen"): an import that fails (out of fds, or a broken install) is said, never a crash.
    A method that holds something before its import (pinned targets) catches the error itself,
    lets go of what it holds and calls :func:`said_cannot_open`."""

    def wrap(method: Callable[Concatenate[Any, P], None]) -> Callable[Concatenate[Any, P], None]:
        @functools.wraps(method)
        def run(self: _Notifies, /, *args: P.args, **kwargs: P.kwargs) -> None:
            try:
                method(self, *args, **kwargs)
            except (ImportError, OSError) as e:
                if not said_cannot_open(self, what, e):
                    raise

        return run

    return wrap
