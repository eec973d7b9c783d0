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


def test_mark_all_is_drained_once_beside_the_per_pid_marks() -> None:
    feed = ChangeFeed()
    assert feed.drain_all() == 0
    feed.mark(10, COMMAND)
    feed.mark_all()
    assert feed.drain() == {10: COMMAND}
    assert feed.drain_all() == OWNER | COMMAND
    assert feed.drain_all() == 0


def test_the_sampler_reads_every_owner_again_after_a_loss() -> None:
    """A real child drops root (needs root) while the feed is live and nobody marks it: the
    event was among those lost. The sampler keeps the old owner (no refresh turn comes: its
    period is set out of reach) until ``mark_all``, then reads the new one at its next pass."""
    import os
    import pwd

    import pytest
    from test_sample import find
    from test_sample_current import Chatty, _tell

    from pidtop.sampling.sampler import ProcSampler
    from pidtop.sampling.snapshot import Snapshot

    if os.geteuid() != 0:
        pytest.skip("needs root to change a child's uid")

    def user(snap: Snapshot, pid: int) -> str:
        info = find(snap, pid)
        assert info is not None
        return info.user

    feed = ChangeFeed()
    feed.live = True  # the connector "runs": owners come as events only
    sampler = ProcSampler(feed=feed)
    sampler.refresh_ticks = 1_000_000
    child = Chatty("import os", "os.setresuid(65534, 65534, 65534); return 'DONE'")
    try:
        assert user(sampler.sample(), child.pid) == "root"
        assert _tell(child, "go") == "DONE"
        for _ in range(3):  # the lost UID event: the old owner stays
            assert user(sampler.sample(), child.pid) == "root"
        feed.mark_all()
        assert user(sampler.sample(), child.pid) == pwd.getpwuid(65534).pw_name
    finally:
        child.proc.kill()
        child.proc.wait()
        sampler.close()
