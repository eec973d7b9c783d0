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

__all__ = ["opens_screen"]

P = ParamSpec("P")
_NO_FDS = (errno.EMFILE, errno.ENFILE)


class _Notifies(Protocol):
    def notify(
        self, message: str, *, title: str = ..., severity: Any = ..., markup: bool = ...
    ) -> Any: ...


def opens_screen(
    what: str,
) -> Callable[[Callable[Concatenate[Any, P], None]], Callable[Concatenate[Any, P], None]]:
    """Decorate an app method that imports and pushes the screen ``what`` ("the Exits
    screen"): an import that fails (out of fds, or a broken install) is said, never a crash."""

    def wrap(method: Callable[Concatenate[Any, P], None]) -> Callable[Concatenate[Any, P], None]:
        @functools.wraps(method)
        def run(self: _Notifies, /, *args: P.args, **kwargs: P.kwargs) -> None:
            try:
                method(self, *args, **kwargs)
            except (ImportError, OSError) as e:
                if isinstance(e, OSError) and e.errno not in _NO_FDS:
                    raise
                why = (
                    "out of file descriptors (raise ulimit -n)"
                    if isinstance(e, OSError)
                    else f"{type(e).__name__}: {e}"
                )
                self.notify(
                    f"Cannot open {what}: {why}", title="Not opened", severity="error", markup=False
                )

        return run

    return wrap
