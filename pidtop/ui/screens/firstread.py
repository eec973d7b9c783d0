"""A screen's first read of a process: in a thread, waited for briefly so the first frame shows it.

Reading one process's /proc files takes 1-3 ms, but it can block (a process's memory lock). The
read runs in a thread of its own; the screen waits for it at most :data:`FIRST_WAIT` s while it
mounts, so its first frame shows the data, not "opening…" and a second layout. A read that takes
longer lands later (the screen posts itself a message from the future's callback).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import TypeVar

__all__ = ["FIRST_WAIT", "in_time", "read_in_thread"]

T = TypeVar("T")

#: seconds a screen waits for its first read while it mounts
FIRST_WAIT = 0.05


def read_in_thread(read: Callable[[], T]) -> Future[T]:
    """``read()`` in a daemon thread; its result, or what it raised, in the future."""
    done: Future[T] = Future()

    def run() -> None:
        try:
            done.set_result(read())
        except BaseException as e:  # handed to the loop by the future
            done.set_exception(e)

    threading.Thread(target=run, daemon=True).start()
    return done


def in_time(done: Future[T], wait: float | None = None) -> bool:
    """Whether ``done`` finished within ``wait`` (default :data:`FIRST_WAIT`) s (the GIL is
    released meanwhile: the reading thread runs)."""
    try:
        done.exception(FIRST_WAIT if wait is None else wait)
    except TimeoutError:
        return False
    return True
