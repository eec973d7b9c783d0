"""Tree kill (``pidtop kill --tree``, :mod:`pidtop.actions.treekill`) on real process trees.

Every tree lives in a driver process (:func:`forktree.run_driver`): a private PID namespace when
we are root, else its own session; the driver is a child subreaper, counts survivors exactly and
kills whatever is left, and the namespace takes everything with it if the driver dies, so a
failing test leaves nothing running.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from forktree import run_driver

_root = os.geteuid() == 0
needs_root = pytest.mark.skipif(not _root, reason="needs root (PID namespace, other uids)")

PREAMBLE = """
import contextlib, json, os, signal, sys, tempfile, time
from pathlib import Path
import forktree
from pidtop.kernel.handle import Identity, ProcessHandle
from pidtop.actions import treefreeze, treescan
from pidtop.actions.treefreeze import TreeKill
from pidtop.actions.treekill import kill_tree
forktree.become_subreaper()

def state(pid):
    st = forktree._stat(pid)
    return None if st is None else st[0]

def wait_files(d, names, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        have = set(os.listdir(d))
        if names <= have:
            return have
        time.sleep(0.01)
    return set(os.listdir(d))

def wait_states(pids, want, timeout=10):
    # the states once all are `want` (or as they are after `timeout`: on a loaded machine a
    # continued process may still be R for a while)
    deadline = time.monotonic() + timeout
    while True:
        states = {p: state(p) for p in pids}
        if all(s == want for s in states.values()) or time.monotonic() > deadline:
            return states
        time.sleep(0.01)

def wait_stopped(pid, timeout=5):
    deadline = time.monotonic() + timeout
    while state(pid) != "T" and time.monotonic() < deadline:
        time.sleep(0.005)
    return state(pid)

"""


def drive(body: str, timeout: float = 120) -> dict:
    return run_driver(PREAMBLE + body, timeout)


@pytest.mark.parametrize("scan", ["auto", "proc"])
def test_growing_tree_is_killed_with_no_survivors(scan: str) -> None:
    """A tree that keeps forking (spawners every 1-5 ms, at most 600 processes): 0 survivors in
    every trial; ``proc`` forces the fallback (one /proc scan by parent per pass)."""
    trials = 3
    r = drive(f"""
out = []
for seed in range({trials}):
    if {scan!r} == "auto":  # the real command line, as a user runs it
        out.append(forktree.trial("pidtop", kill_at=60 + 40 * seed, seed=seed, settle=15.0))
        continue
    exits_r, exits_w = forktree.exits_pipe()
    root, born = forktree.growing_tree(seed=seed, exits=exits_w)
    forktree.read_born(born, 60 + 40 * seed)
    res = kill_tree([Identity(root)], signal.SIGKILL, scan="proc")
    done = time.monotonic()
    left = forktree.survivors(15.0, until_gone=True)
    out.append(dict(survivors=len(left), status=0, stdout=res.summary(),
                    exited_after=forktree.natural_exits(exits_r, done),
                    cleaned=forktree.kill_everything(), left=0))
    os.close(born)
print(json.dumps(out))
""")
    for t in r:
        assert t["status"] == 0, t
        assert t["survivors"] == 0 and t["exited_after"] == 0, t
        assert t["cleaned"] == 0 and t["left"] == 0, t
        assert "found while freezing" in t["stdout"] and "method: freeze" in t["stdout"], t


def test_term_handlers_in_the_tree_run() -> None:
    """SIGTERM reaches every process while it can run its handler (SIGCONT after the signal):
    each one writes its file and exits."""
    r = drive("""
d = tempfile.mkdtemp()
root, born = forktree.static_tree(fanout=2, depth=2, handlers=d)
pids = forktree.read_born(born, 7)
status, stdout, stderr = forktree.pidtop_kill_tree(root)
files = wait_files(d, {f"{p}.SIGTERM" for p in pids})
print(json.dumps(dict(pids=pids, files=sorted(files), status=status, stdout=stdout,
                      survivors=forktree.survivors(15.0, until_gone=True),
                      left=forktree.kill_everything())))
""")
    assert len(r["pids"]) == 7
    assert sorted(r["files"]) == sorted(f"{p}.SIGTERM" for p in r["pids"])
    assert r["status"] == 0
    assert r["stdout"].startswith("7 processes (") and "SIGTERM: 7 delivered" in r["stdout"]
    assert r["survivors"] == [] and r["left"] == 0


def test_usr1_leaves_the_tree_running_and_not_stopped() -> None:
    """A signal that does not end the tree: every process gets it and runs on, none is left
    stopped -- except one the test stopped itself beforehand, which keeps its state."""
    r = drive("""
d = tempfile.mkdtemp()
root, born = forktree.static_tree(fanout=2, depth=2, handlers=d)
pids = forktree.read_born(born, 7)
held = pids[-1]
os.kill(held, signal.SIGSTOP)  # stopped by "someone else"
held_before = wait_stopped(held)
status, stdout, stderr = forktree.pidtop_kill_tree(root, "-s", "USR1")
others = [p for p in pids if p != held]
files = wait_files(d, {f"{p}.SIGUSR1" for p in others})
states = wait_states(others, "S")
states[held] = state(held)
print(json.dumps(dict(pids=pids, held=held, held_before=held_before, files=sorted(files),
                      status=status, stdout=stdout, states=states,
                      left=forktree.kill_everything())))
""")
    held = r["held"]
    others = [p for p in r["pids"] if p != held]
    assert r["status"] == 0, r
    assert "SIGUSR1: 7 delivered" in r["stdout"]
    assert set(r["files"]) >= {f"{p}.SIGUSR1" for p in others}
    assert r["held_before"] == "T"
    assert r["states"][str(held)] == "T", "a process stopped by someone else was continued"
    for p in others:
        assert r["states"][str(p)] == "S", f"{p} left {r['states'][str(p)]}"


def test_escalation_reaches_children_forked_during_the_wait() -> None:
    """TERM is ignored by the tree; KILL after 300 ms freezes again and gets every process,
    those forked during the wait included."""
    r = drive("""
root, born = forktree.growing_tree(seed=7, interval=(0.002, 0.005), deeper=0.1,
                                   ignore_term=True)
forktree.read_born(born, 40)
status, stdout, stderr = forktree.pidtop_kill_tree(root, "--timeout", "300", "KILL")
print(json.dumps(dict(status=status, stdout=stdout, stderr=stderr,
                      survivors=len(forktree.survivors(15.0, until_gone=True)),
                      left=forktree.kill_everything())))
""")
    assert r["status"] == 0, r
    assert "after 300 ms SIGKILL:" in r["stdout"], r
    assert r["survivors"] == 0 and r["left"] == 0, r


def test_an_exception_leaves_nothing_stopped() -> None:
    """Freeze, then the action fails: every process the freeze stopped runs again."""
    r = drive("""
root, born = forktree.static_tree(fanout=3, depth=1)
pids = forktree.read_born(born, 4)
def boom(self, sig, **kw):
    raise RuntimeError("boom")
TreeKill.send = boom
try:
    kill_tree([Identity(root)], signal.SIGTERM)
    raised = False
except RuntimeError:
    raised = True
states = wait_states(pids, "S")
print(json.dumps(dict(raised=raised, states=[states[p] for p in pids],
                      left=forktree.kill_everything())))
""")
    assert r["raised"]
    assert r["states"] == ["S"] * 4, r


def test_pidtop_itself_is_never_a_target() -> None:
    r = drive("""
res = kill_tree([Identity(os.getpid())], signal.SIGTERM)
print(json.dumps(dict(me=os.getpid(), errors=[str(e) for _, e in res.root_errors],
                      members=len(res.members))))
""")
    assert r["errors"] == [f"PID {r['me']} is pidtop itself"]
    assert r["members"] == 0


@needs_root
@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv(1) is not installed")
def test_another_users_process_is_not_permitted_and_keeps_running() -> None:
    """pidtop runs as uid 12345; the tree's root and child are that user's (real uid, like a
    setuid program), the grandchild is uid 65534: it is reported "not permitted", exit status
    4, and it keeps running, not stopped."""
    r = drive("""
import subprocess
ready_r, ready_w = os.pipe()
root = os.fork()
if root == 0:
    os.setresuid(12345, 0, 0)  # real uid 12345, still privileged: like sudo
    if os.fork() == 0:
        if os.fork() == 0:
            os.setgroups([])
            os.setresgid(65534, 65534, 65534)
            os.setresuid(65534, 65534, 65534)
            os.write(ready_w, os.getpid().to_bytes(4, "little"))
            forktree._wait_forever()
        forktree._wait_forever()
    forktree._wait_forever()
other = forktree.read_born(ready_r, 1)[0]
status, stdout, stderr = forktree.pidtop_kill_tree(root, as_user=12345)
for _ in range(1000):  # the root dies of SIGTERM (bounded: 10 s on a loaded machine)
    if state(root) in (None, "Z"):
        break
    time.sleep(0.01)
print(json.dumps(dict(status=status, stdout=stdout, stderr=stderr, other=other,
                      other_state=state(other), root_state=state(root),
                      left=forktree.kill_everything())))
""")
    assert r["status"] == 4, r
    assert "3 processes (" in r["stdout"], r
    assert "SIGTERM: 2 delivered, 1 not permitted" in r["stdout"], r
    assert f"{r['other']}" in r["stderr"] and "not permitted to send SIGTERM" in r["stderr"]
    assert r["other_state"] == "S", "the other user's process must keep running, not stopped"
    assert r["root_state"] in (None, "Z")


@needs_root
def test_forced_pid_reuse_never_reaches_a_newcomer() -> None:
    """A child listed under the tree's root exits and is reaped; its PID 500 goes to a newcomer
    outside the tree, between the read of the children list and the open (the window is
    forced by handing the freeze the stale list). The newcomer is never stopped or signalled;
    nor is it when the stale root is named by PID:INODE."""
    r = drive("""
import procs
cmd_r, cmd_w = os.pipe()
kid_r, kid_w = os.pipe()
def parent_main():
    while True:
        c = os.read(cmd_r, 1)
        if c == b"f":  # fork a child at the PID set up by PID 1
            pid = os.fork()
            if pid == 0:
                forktree._wait_forever()
            os.write(kid_w, pid.to_bytes(4, "little"))
        elif c == b"r":
            os.wait()
            os.write(kid_w, b"done")
parent = os.fork()
if parent == 0:
    parent_main()
Path("/proc/sys/kernel/ns_last_pid").write_text("499")
os.write(cmd_w, b"f")
a = int.from_bytes(os.read(kid_r, 4), "little")
fa = os.pidfd_open(a)
ino_a = os.fstat(fa).st_ino
stale = [a]  # the children list as read before the reuse
signal.pidfd_send_signal(fa, signal.SIGKILL)
os.write(cmd_w, b"r")
assert os.read(kid_r, 4) == b"done"
b = procs.fork_at_pid(500, forktree._wait_forever)
fb = os.pidfd_open(b)
treefreeze.children_of = lambda pid, threads=True: list(stale) if pid == parent else []
res = kill_tree([Identity(parent)], signal.SIGKILL)
b_state = state(b)
res2 = kill_tree([Identity(500, ino_a)], signal.SIGKILL)
time.sleep(0.05)
print(json.dumps(dict(a=a, b=b, members=[m.pid for m in res.members], b_state=b_state,
                      errors=[str(e) for _, e in res2.root_errors],
                      b_alive=procs.wait_fd(fb, 0) == 0, b_state2=state(b))))
""")
    assert r["a"] == r["b"] == 500, "PID was not reused"
    assert r["members"] == [r["members"][0]] and 500 not in r["members"]
    assert r["b_state"] == "S" and r["b_state2"] == "S" and r["b_alive"]
    assert r["errors"] and r["errors"][0].startswith("PID 500 is now another process")


def _cgroup_unavailable() -> str | None:
    from pidtop.actions.treescan import cgroup2_mount

    if not _root:
        return "needs root to create a cgroup"
    mount = cgroup2_mount()
    if mount is None:
        return "no cgroup v2 mounted"
    if not os.path.exists(os.path.join(mount, "cgroup.procs")) or not os.access(mount, os.W_OK):
        return f"cannot create cgroups under {mount}"
    return None


@pytest.mark.skipif(_cgroup_unavailable() is not None, reason=_cgroup_unavailable() or "")
def test_a_tree_that_is_exactly_a_cgroup_is_killed_with_cgroup_kill() -> None:
    """SIGKILL to a tree that is all of a writable cgroup v2 goes through cgroup.kill; with one
    more process in the cgroup (or --method freeze) the freeze is used and says why; --method
    cgroup kills the cgroup, that other process too (an escaped one, say)."""
    r = drive("""
mount = treescan.cgroup2_mount()
cg = os.path.join(mount, f"pidtop-test-{os.getppid()}-{time.time_ns()}")
os.mkdir(cg)
out = {}
try:
    if not os.path.exists(os.path.join(cg, "cgroup.kill")):
        out["skip"] = "no cgroup.kill (Linux < 5.14)"
    else:
        root, born = forktree.static_tree(fanout=2, depth=1, cgroup=cg)
        pids = forktree.read_born(born, 3)
        res = kill_tree([Identity(root)], signal.SIGKILL)
        out["exact"] = res.summary()
        out["exact_left"] = forktree.survivors(15.0, until_gone=True)
        root, born = forktree.static_tree(fanout=2, depth=1, cgroup=cg)
        forktree.read_born(born, 3)
        res = kill_tree([Identity(root)], signal.SIGKILL, method="freeze")
        out["forced"] = res.summary()
        root, born = forktree.static_tree(fanout=2, depth=1, cgroup=cg)
        forktree.read_born(born, 3)
        extra, eborn = forktree.static_tree(fanout=0, depth=0, cgroup=cg)
        forktree.read_born(eborn, 1)
        res = kill_tree([Identity(root)], signal.SIGKILL)
        out["extra"] = res.summary()
        for _ in range(150):  # the tree dies, the extra process stays (bounded: 15 s)
            out["extra_left"] = forktree.survivors(0.0)
            if out["extra_left"] == [extra]:
                break
            time.sleep(0.1)
        out["extra_pid"] = extra
        root, born = forktree.static_tree(fanout=2, depth=1, cgroup=cg)
        forktree.read_born(born, 3)
        res = kill_tree([Identity(root)], signal.SIGKILL, method="cgroup")  # extra there too
        out["whole"] = res.summary()
        out["whole_left"] = forktree.survivors(15.0, until_gone=True)
finally:
    forktree.kill_everything()
    for _ in range(200):
        with contextlib.suppress(OSError):
            os.rmdir(cg)
            break
        time.sleep(0.01)
    out["removed"] = not os.path.exists(cg)
print(json.dumps(out))
""")
    if "skip" in r:
        pytest.skip(r["skip"])
    assert "SIGKILL: 3 delivered; method: cgroup.kill (/pidtop-test-" in r["exact"], r
    assert r["exact_left"] == []
    assert "method: freeze" in r["forced"], r
    assert "SIGKILL: 3 delivered; method: freeze" in r["extra"], r
    assert "holds 1 other process(es), not signalled" in r["extra"], r
    assert r["extra_left"] == [r["extra_pid"]]
    assert "SIGKILL: 3 delivered; method: cgroup.kill (/pidtop-test-" in r["whole"], r
    assert "cgroup.kill also killed 1 other process(es)" in r["whole"], r
    assert r["whole_left"] == []
    assert r["removed"]


def test_command_line_errors() -> None:
    from pidtop.cli.main import main

    assert main(["kill", "--method", "cgroup", "1"]) == 2
    assert main(["kill", "--tree", "--method", "cgroup", "1"]) == 2  # needs SIGKILL
    assert main(["kill", "--tree", "--reclaim", "-s", "KILL", "1"]) == 2
    missing = int(Path("/proc/sys/kernel/pid_max").read_text()) + 1
    assert main(["kill", "--tree", str(missing)]) == 3


def test_a_zombie_target_is_already_gone_as_for_kill() -> None:
    """A target that exited but is not reaped: exit status 0 and "already gone", as plain
    ``pidtop kill`` says "already exited" (a zombie accepts signals)."""
    r = drive("""
pid = os.fork()
if pid == 0:
    os._exit(0)
fd = os.pidfd_open(pid)
import select
p = select.poll(); p.register(fd, select.POLLIN); p.poll(5000)  # exited, not reaped
status, stdout, stderr = forktree.pidtop_kill_tree(pid)
print(json.dumps(dict(status=status, stdout=stdout, stderr=stderr)))
""")
    assert r["status"] == 0, r
    assert r["stdout"].startswith("1 process (") and "SIGTERM: 1 already gone" in r["stdout"], r


def test_listed_descendants_follow_the_table_and_skip_recycled_pids() -> None:
    """The picker's count: descendants among listed rows, threads excluded, and a "child"
    that started before its parent (a recycled parent PID) is not one."""
    from pidtop.actions.treescan import listed_descendants
    from pidtop.sampling.snapshot import ProcInfo

    def info(pid: int, ppid: int, start: int, thread: bool = False) -> ProcInfo:
        return ProcInfo(pid, pid, ppid, start, "S", "x", "x", 0, "root", 20, 0, 1, 0, 0, 0,
                        0, 0, is_thread=thread)  # fmt: skip

    rows = [
        info(10, 1, 100),
        info(11, 10, 110),
        info(12, 11, 120),
        info(13, 10, 90),  # claims parent 10 but started before it: a recycled PID 10
        info(14, 10, 130, thread=True),
        info(20, 1, 100),
    ]
    got = sorted(i.pid for i in listed_descendants(rows, [(10, 100)]))
    assert got == [11, 12]
    assert listed_descendants(rows, [(20, 100)]) == []
    both = sorted(i.pid for i in listed_descendants(rows, [(10, 100), (11, 110)]))
    assert both == [12]  # a root is never its own descendant
