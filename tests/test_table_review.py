"""ProcessTable review fixes: htop's "Tasks:" counts, and tree rows caught in a parent cycle."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time

import pytest

from pidtop.process.sample import ProcSampler
from pidtop.process.snapshot import ProcInfo, Snapshot, SystemInfo
from pidtop.process.table import ProcessTable, TaskCounts


def P(pid: int, ppid: int, *, start: int = 500, threads: int = 1, **kw: object) -> ProcInfo:
    return ProcInfo(
        pid=pid, tgid=int(kw.pop("tgid", pid)), ppid=ppid, starttime=start,  # type: ignore[call-overload]
        state=str(kw.pop("state", "S")),
        comm=f"p{pid}", cmdline=f"p{pid}", uid=0, user="root", priority=20, nice=0,
        num_threads=threads, vsize=0, rss=0, shared=0, utime=0, stime=0, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def snap(*procs: ProcInfo) -> Snapshot:
    return Snapshot(1.0, 1.0, procs, SystemInfo((0.0,), 1, 0, 0, 0, (0, 0, 0), 0, 1))


def test_task_counts_like_htop() -> None:
    """htop: processes exclude kernel threads; "thr" counts threads other than the leaders."""
    counts = TaskCounts.from_processes(
        [
            P(1, 0, threads=1),
            P(10, 1, threads=4),  # a leader and 3 more threads
            P(11, 10, tgid=10, is_thread=True, threads=4),  # thread rows are not processes
            P(20, 1, threads=2, state="Z"),
            P(2, 0, is_kernel_thread=True),
            P(3, 2, is_kernel_thread=True),
        ]
    )
    assert (counts.total, counts.threads, counts.kernel_threads) == (3, 4, 2)
    assert counts.zombie == 1
    # the state counts cover the same processes as the total (kernel threads are "kthr")
    assert counts.running + counts.sleeping + counts.stopped + counts.zombie == counts.total


def test_tree_keeps_rows_caught_in_a_parent_cycle() -> None:
    """100 and 200 name each other as parent (same start tick): no root reaches them. They
    and their descendants (300) must still be listed, once each."""
    t = ProcessTable()
    t.update(snap(P(1, 0, start=1), P(100, 200), P(200, 100), P(300, 200), P(400, 400, start=600)))
    flat = sorted(r.info.pid for r in t.rows)
    t.set_tree(True)
    pids = [r.info.pid for r in t.rows]
    assert sorted(pids) == flat == [1, 100, 200, 300, 400]
    depth = {r.info.pid: r.depth for r in t.rows}
    assert depth[1] == depth[400] == 0
    own_parent = next(r for r in t.rows if r.info.pid == 400)  # ppid 400: not its own child
    assert not own_parent.has_children and own_parent.tree_prefix == ""
    assert pids.index(300) > min(pids.index(100), pids.index(200))  # under its parent


def test_tree_cycle_rows_still_respect_collapse() -> None:
    t = ProcessTable()
    t.update(snap(P(1, 0, start=1), P(100, 200), P(200, 100), P(300, 200)))
    t.set_tree(True)
    top = t.rows[[r.info.pid for r in t.rows].index(100)]  # the cycle's first row is its root
    assert top.depth == 0
    t.set_collapsed(top.key, True)
    assert [r.info.pid for r in t.rows] == [1, 100]


def _htop_counts() -> tuple[int, int, int]:
    """Start htop in a private tmux server and read its Tasks line (bounded wait)."""
    sock = f"pidtop-test-{os.getpid()}"
    tmux = ["tmux", "-L", sock]
    subprocess.run([*tmux, "new-session", "-d", "-x", "200", "-y", "50", "htop"], check=True)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            screen = subprocess.run(
                [*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=True
            ).stdout
            m = re.search(r"Tasks: (\d+), (\d+) thr, (\d+) kthr", screen)
            if m:
                return int(m[1]), int(m[2]), int(m[3])
            threading.Event().wait(0.05)
        raise AssertionError(f"htop showed no Tasks line:\n{screen}")
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)


@pytest.mark.skipif(
    shutil.which("htop") is None or shutil.which("tmux") is None, reason="needs htop and tmux"
)
def test_task_counts_agree_with_htop_live() -> None:
    """The same machine seen by htop and by pidtop within a moment: counts agree up to the
    processes that come and go meanwhile (htop and tmux themselves, other load)."""
    htop = _htop_counts()
    t = ProcessTable()
    t.update(ProcSampler().sample())
    ours = (t.tasks.total, t.tasks.threads, t.tasks.kernel_threads)
    for mine, theirs, name in zip(ours, htop, ("processes", "thr", "kthr"), strict=True):
        assert abs(mine - theirs) <= max(5, theirs // 10), (name, ours, htop)
