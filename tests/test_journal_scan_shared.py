"""The journal's start-up scan keeps one object for equal names, command lines, parents and
uids (3,000 workers of one program: one copy, not 3,000; the texts interned, so the sampler's
are the same strings), and still names each one's exit."""

from __future__ import annotations

import os
import subprocess
import time

import pytest

from pidtop.journal.connector import Exit
from pidtop.journal.records import ExitRecord
from pidtop.journal.tracker import Tracker
from pidtop.sampling.sampler import ProcSampler

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


def _exec_done(pid: int) -> bool:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        return f.read() == b"sleep\x0030\x00"


def test_scan_shares_equal_values_and_names_the_exit() -> None:
    kids = [subprocess.Popen(["sleep", "30"]) for _ in range(3)]
    try:
        deadline = time.monotonic() + 10
        while not all(_exec_done(k.pid) for k in kids) and time.monotonic() < deadline:
            time.sleep(0.01)
        t = Tracker()
        t.scan()
        procs = [t.procs[k.pid] for k in kids]
        assert all((p.comm, p.cmdline, p.ppid) == ("sleep", "sleep 30", os.getpid()) for p in procs)
        assert all(p.uid == os.getuid() for p in procs)
        first = procs[0]
        for p in procs[1:]:
            assert p.comm is first.comm and p.cmdline is first.cmdline
            assert p.ppid is first.ppid and p.uid is first.uid
        # the texts are interned: another scan and the sampler hold the same strings (one copy
        # in the monitor, freed once nothing uses them)
        other = Tracker()
        other.scan()
        assert other.procs[kids[0].pid].cmdline is first.cmdline
        sampler = ProcSampler()
        try:
            seen = {p.pid: p for p in sampler.sample().processes}
        finally:
            sampler.close()
        assert seen[kids[0].pid].cmdline is first.cmdline and seen[kids[0].pid].comm is first.comm
        # the exit of one is named (older than the journal: proven by /proc once reaped)
        gone = kids.pop()
        gone.kill()
        gone.wait()
        ts = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        t.feed([Exit(ts, gone.pid, gone.pid, 9, os.getpid())])
        assert gone.pid in t.pending and t.check()
        recs = [r for r in t.feed([]) if isinstance(r, ExitRecord)]
        assert [(r.pid, r.comm, r.cmdline, r.uid) for r in recs] == [
            (gone.pid, "sleep", "sleep 30", os.getuid())
        ]
    finally:
        for k in kids:
            k.kill()
            k.wait()
