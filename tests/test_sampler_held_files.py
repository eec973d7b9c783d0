"""The sampler keeps each process's /proc/PID/stat open (fds from the monitor's budget) and
reads it again with ``pread``: a held file must never show a newcomer that took a reaped
process's PID, vanished processes' files are closed at the next pass, and pins and watches
always get their fds back (the sampler is the budget's lowest-priority holder)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest
from procs import pid_namespace_unavailable, run_in_pid_namespace

from pidtop.kernel.fdbudget import FdBudget
from pidtop.sampling.sampler import ProcSampler

_why = pid_namespace_unavailable()

REUSE = r"""
import json, os, signal, time
import procs
from pidtop.kernel.fdbudget import FdBudget
from pidtop.sampling.sampler import ProcSampler

PID = 500
def sleeper(arg):
    return lambda: os.execv("/bin/sleep", ["sleep", arg])

def row(snap):
    return next((p for p in snap.processes if p.pid == PID), None)

def wait_exec(arg):  # bounded: the child's exec shows in its command line
    for _ in range(500):
        with open(f"/proc/{PID}/cmdline", "rb") as f:
            if f.read() == f"sleep\0{arg}\0".encode():
                return
        time.sleep(0.01)
    raise TimeoutError(arg)

budget = FdBudget(limit=10000, reserve=64)
s = ProcSampler()
s.share_fd_budget(budget)
out = {}
a = procs.fork_at_pid(PID, sleeper("1000"))
wait_exec("1000")
fa = os.pidfd_open(a)
r = row(s.sample())
out["a"] = [r.cmdline, r.state != "Z"]
out["a_held"] = str(PID) in s._files.fds
fd_a = s._files.fds.get(str(PID))
os.kill(a, signal.SIGKILL)
procs.wait_fd(fa)  # exited: a zombie until reaped
r = row(s.sample())
out["zombie"] = [r.cmdline, r.state, s._files.fds.get(str(PID)) == fd_a]
os.waitid(os.P_PIDFD, fa, os.WEXITED)
b = procs.fork_at_pid(PID, sleeper("1001"))
wait_exec("1001")
with open(f"/proc/{PID}/stat", "rb") as f:
    start_b = int(f.read().rpartition(b")")[2].split()[19])
r = row(s.sample())
out["b"] = [b, r.cmdline, r.state != "Z", r.starttime == start_b]
out["b_held"] = str(PID) in s._files.fds
out["counted"] = [budget.stat_files, len(s._files.fds)]
os.kill(b, signal.SIGKILL)
os.waitpid(b, 0)
r = row(s.sample())
out["gone"] = [r is None, str(PID) in s._files.fds, budget.stat_files == len(s._files.fds)]
s.close()
out["closed"] = [budget.stat_files, len(s._files.fds)]
print(json.dumps(out))
"""


@pytest.mark.skipif(bool(_why), reason=str(_why))
def test_a_held_stat_file_never_reads_the_newcomer_that_reuses_the_pid() -> None:
    """A at PID 500 (``sleep 1000``) is sampled through its held file; killed, it still reads
    as a zombie; reaped and replaced by B at PID 500 (``sleep 1001``), the old file fails
    (ESRCH) and the row is B's, read from a newly opened file (not A's cached command line).
    When B is gone its file is closed at the next pass; every held file is counted."""
    r = run_in_pid_namespace(REUSE)
    assert r["a"] == ["sleep 1000", True] and r["a_held"]  # alive
    assert r["zombie"] == ["sleep 1000", "Z", True]  # the same file, still A's
    assert r["b"] == [500, "sleep 1001", True, True]  # B, alive, B's start time
    assert r["b_held"]
    held, n = r["counted"]  # type: ignore[misc]
    assert held == n and n > 1
    assert r["gone"] == [True, False, True]
    assert r["closed"] == [0, 0]


@pytest.fixture
def sleepers() -> Iterator[list[subprocess.Popen[bytes]]]:
    procs = [subprocess.Popen(["sleep", "1000"]) for _ in range(30)]
    yield procs
    for p in procs:
        p.kill()
        p.wait()


def _open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_the_sampler_takes_what_pidfds_leave_and_gives_it_back(
    sleepers: list[subprocess.Popen[bytes]],
) -> None:
    """With a budget of 40 the sampler holds at most 20 stat files (half stays free for
    pidfds); the rest are read by open/read/close, and the sample is the same as without held
    files (of the test's own processes: others come and go). A pin that finds the budget full
    gets a held file's fd at once; what ``--watch-all`` finds taken is given back at the next
    pass (half the budget free again); at the end every file is closed."""
    budget = FdBudget(limit=40 + 16, reserve=16)
    plain, held = ProcSampler(), ProcSampler()
    held.share_fd_budget(budget)
    fds = _open_fds()
    snaps = [held.sample(), plain.sample()]
    pids = [{p.pid for p in s.processes} for s in snaps]
    assert {p.pid for p in sleepers} <= pids[0] & pids[1]  # (other processes come and go)
    assert budget.stat_files == len(held._files.fds) == 20 == _open_fds() - fds
    for _ in range(30):  # pins take the free 20, then 10 of the sampler's: at once
        budget.acquire("pin")
    assert budget.stat_files == len(held._files.fds) == 10 and _open_fds() - fds == 10
    for _ in range(5):  # --watch-all takes what is free (nothing): the next pass gives back
        budget.release("pin")
        assert budget.acquire_spare("watch") is False
    held.sample()  # owed 20 - 5: all its 10 back
    assert budget.stat_files == len(held._files.fds) == 0 and budget.free == 15
    assert budget.acquire_spare("watch") is True  # the next sync watches it
    budget.release("watch")
    for _ in range(15):
        budget.acquire("pin")  # the whole budget for pins
    assert budget.free == 0 and budget.stat_files == 0
    held.sample()
    assert budget.stat_files == 0  # nothing taken while nothing is free
    for _ in range(40):
        budget.release("pin")
    held.sample()
    assert budget.stat_files == len(held._files.fds) == 20  # 40 free, 20 kept for pidfds
    held.drop_held_files()
    assert budget.stat_files == 0 and _open_fds() == fds
    plain.close()
    held.close()
