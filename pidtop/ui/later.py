"""One-shot timers on the app's loop, called as a Textual timer calls its callback, without
its cost (``set_timer`` makes a Timer object and an asyncio task of its own each time): the
sample, journal-header and gc timers, which are armed again every tick."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio

    from textual.app import App


def call_later(
    app: App[Any], delay: float, callback: Callable[..., object], *args: Any
) -> asyncio.TimerHandle:
    """``callback(*args)`` in ``delay`` s, on the running loop: not after the app's end
    (Textual stops its own timers then), and an error is the app's, as in a Textual timer.
    ``.cancel()`` the handle to drop it."""
    # (asyncio not imported with this module: the CLI imports gcpolicy, so this, before
    # asyncio, which it imports without ssl)
    from asyncio import get_running_loop

    return get_running_loop().call_later(delay, _run, app, callback, args)


def _run(app: App[Any], callback: Callable[..., object], args: tuple[Any, ...]) -> None:
    if not app.is_running:
        return
    try:
        callback(*args)
    except Exception as error:
        app._handle_exception(error)
