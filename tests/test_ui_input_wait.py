"""The driver's input thread sleeps until there is something to do (``pidtop.ui.quit``): a key,
its stop flag (a quit, Ctrl+Z: the wake pipe) or a lone Esc's deadline; Textual's woke every
0.1 s. Keys, a lone Esc, and stopping and starting it again (a suspend and ``fg``) still work."""

from __future__ import annotations

import asyncio
import os
import pty
import selectors
import signal
import threading
import time
import tty
from typing import Any

import pytest
from textual import events
from textual.message import Message

from pidtop.ui.quit import QuickExitDriver


class _Driver(QuickExitDriver):
    """The real input loop on a pty, its messages collected instead of sent to an app."""

    def __init__(self, fd: int) -> None:
        super().__init__(app=None)  # type: ignore[arg-type]
        self.fileno = fd
        self.got: list[Message] = []

    def process_message(self, message: Message) -> None:
        self.got.append(message)


class _CountingSelector(selectors.SelectSelector):
    """Textual's input loop selects with this (pidtop's with the poll one): wake-ups counted."""

    waits = 0

    def select(self, timeout: float | None = None) -> Any:
        _CountingSelector.waits += 1
        return super().select(timeout)


class _CountingPoll(selectors.PollSelector):
    def select(self, timeout: float | None = None) -> Any:
        _CountingSelector.waits += 1
        return super().select(timeout)


def _keys(driver: _Driver) -> list[str]:
    return [m.key for m in driver.got if isinstance(m, events.Key)]


def _wait_for(predicate: Any, seconds: float = 3.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if predicate():
            return True
        time.sleep(0.01)
    return predicate()


async def _run() -> None:
    master, slave = pty.openpty()
    tty.setraw(slave)  # as the driver's application mode does: a key is readable at once
    saved = {sig: signal.getsignal(sig) for sig in (signal.SIGTSTP, signal.SIGCONT)}
    driver = _Driver(slave)
    try:
        for _round in range(2):  # the second: started again after a stop (suspend, fg)
            driver.got.clear()
            thread = threading.Thread(target=driver.run_input_thread, daemon=True)
            thread.start()
            os.write(master, b"a")
            assert _wait_for(lambda: _keys(driver) == ["a"])
            waits = _CountingSelector.waits
            time.sleep(0.6)  # idle: Textual's loop would have woken 6 times
            assert _CountingSelector.waits == waits
            os.write(master, b"\x1b")  # a lone Esc: a key once the parser's delay is over
            assert _wait_for(lambda: _keys(driver) == ["a", "escape"])
            assert _CountingSelector.waits - waits <= 3  # the key, the deadline (and a spare)
            driver.exit_event.set()  # the stop flag wakes it at once
            thread.join(1.0)
            assert not thread.is_alive()
            driver.exit_event.clear()  # as Textual's disable_input does after the join
            driver.close()  # a suspend closes the driver before it starts again
    finally:
        os.close(driver.exit_event.read_fd)
        os.close(driver.exit_event.write_fd)
        os.close(master)
        os.close(slave)
        for sig, handler in saved.items():
            signal.signal(sig, handler)


def test_input_thread_sleeps_until_a_key_its_stop_or_a_lone_escape(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(selectors, "SelectSelector", _CountingSelector)
    monkeypatch.setattr(selectors, "PollSelector", _CountingPoll)
    asyncio.run(_run())
