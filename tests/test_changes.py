"""The event spine's feed: marks merge per PID, a drain empties it, two threads can share it."""

from __future__ import annotations

import threading

from pidtop.sampling.changes import COMMAND, OWNER, ChangeFeed


def test_marks_merge_per_pid_and_drain_forgets() -> None:
    feed = ChangeFeed()
    feed.mark(10, OWNER)
    feed.mark(10, COMMAND)
    feed.mark(11, COMMAND)
    assert feed.drain() == {10: OWNER | COMMAND, 11: COMMAND}
    assert feed.drain() == {}


def test_a_writer_thread_loses_no_mark() -> None:
    feed = ChangeFeed()
    seen: dict[int, int] = {}

    def write() -> None:
        for pid in range(20_000):
            feed.mark(pid, OWNER)

    t = threading.Thread(target=write)
    t.start()
    while t.is_alive():
        seen.update(feed.drain())
    t.join()
    seen.update(feed.drain())
    assert len(seen) == 20_000
