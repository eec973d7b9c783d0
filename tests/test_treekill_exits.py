"""Every way out of a tree kill continues what it stopped (issue 17), on real process trees.

A *slow* freeze, deterministically: the tree's root is a C program that ``vfork``s a child which
never execs, so the root sits in uninterruptible sleep (``D``) and never reaches the stop; the
freeze waits :data:`~pidtop.actions.treefreeze.STOP_WAIT` (2 s) for it, with the child already
stopped (``T``). pidtop is signalled in that window, and no process of the tree may be left in
``T``. The C program needs a C compiler (``cc``); vfork cannot be done safely from Python.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from forktree import run_driver
from procs import pidtop_env

VFORK_C = r"""
#include <unistd.h>
int main(void) { if (vfork() == 0) { for (;;) pause(); } for (;;) pause(); }
"""


@pytest.fixture(scope="module")
def vfork_prog(tmp_path_factory: pytest.TempPathFactory) -> Path:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.fail("a C compiler (cc) is needed to build the vfork tree (see the docstring)")
    d = tmp_path_factory.mktemp("vfork")
    (d / "vf.c").write_text(VFORK_C)
    subprocess.run([cc, "-O0", "-o", str(d / "vf"), str(d / "vf.c")], check=True)
    return d / "vf"


def state(pid: int) -> str | None:
    try:
        data = Path(f"/proc/{pid}/stat").read_bytes()
    except OSError:
        return None
    return data[data.rindex(b")") + 2 :].split()[0].decode()


def wait_for(check, timeout: float = 15.0, what: str = "") -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


@contextlib.contextmanager
def slow_tree(prog: Path) -> Iterator[tuple[int, int]]:
    """(root in D, its vfork child); both SIGKILLed at the end."""
    root = subprocess.Popen([str(prog)], start_new_session=True)
    try:
        kids: list[int] = []

        def have_child() -> bool:
            kids[:] = [int(p) for p in Path(f"/proc/{root.pid}/task/{root.pid}/children")
                       .read_text().split()]  # fmt: skip
            return bool(kids) and state(root.pid) == "D"

        wait_for(have_child, what="the vfork child")
        yield root.pid, kids[0]
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(root.pid, signal.SIGKILL)  # its own session: the tree, nothing else
        root.wait()


def start_kill(root: int) -> subprocess.Popen[str]:
    """``pidtop kill --tree ROOT`` in a process group of its own, whose parent (this test) is
    in another group of the same session: a group that is not orphaned, so a SIGTSTP stops it
    wherever the tests run (the kernel drops SIGTSTP for an orphaned group, as pytest's own is
    when it runs detached, e.g. under ``setsid`` or a shell that has exited)."""
    return subprocess.Popen(
        [sys.executable, "-m", "pidtop", "kill", "--tree", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=pidtop_env(),
        process_group=0,
    )


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1, signal.SIGQUIT])
def test_a_signal_during_the_freeze_continues_the_tree(vfork_prog: Path, sig: int) -> None:
    """``pidtop kill --tree`` signalled while the tree is stopped: the tree runs again (and is
    not signalled), then pidtop ends with that signal."""
    with slow_tree(vfork_prog) as (root, child):
        kill = start_kill(root)
        try:
            wait_for(lambda: state(child) == "T", what="the freeze to stop the child")
            os.kill(kill.pid, sig)
            _out, err = kill.communicate(timeout=30)
        finally:
            if kill.poll() is None:
                kill.kill()
        assert kill.returncode == -sig, err
        assert "interrupted: the tree was continued" in err
        wait_for(lambda: state(child) == "S", what="the child to run again")
        assert state(root) == "D"  # alive, not signalled: still waiting for its vfork child


def test_ctrl_z_during_the_freeze_continues_the_tree_first(vfork_prog: Path) -> None:
    """SIGTSTP (ctrl+z) during the freeze: the tree is continued before pidtop stops; after
    ``fg`` (SIGCONT) the kill reports that it was interrupted, status 1."""
    with slow_tree(vfork_prog) as (root, child):
        kill = start_kill(root)
        try:
            wait_for(lambda: state(child) == "T", what="the freeze to stop the child")
            os.kill(kill.pid, signal.SIGTSTP)
            wait_for(lambda: state(kill.pid) == "T", what="pidtop to stop")
            wait_for(lambda: state(child) == "S", timeout=5, what="the child to run again")
            os.kill(kill.pid, signal.SIGCONT)
            out, err = kill.communicate(timeout=30)
        finally:
            if kill.poll() is None:
                kill.kill()
        assert kill.returncode == 1, (out, err)
        assert "interrupted: the tree was continued" in out
        assert state(child) == "S" and state(root) == "D"


TRACED = r"""
import ctypes, json, os, signal, time
import forktree
from pidtop.kernel.handle import Identity
from pidtop.actions import treefreeze
from pidtop.actions.treekill import kill_tree
forktree.become_subreaper()
libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]
SEIZE, INTERRUPT, LISTEN, CONT = 0x4206, 0x4207, 0x4208, 7
EVENT_STOP = 128
forks_r, forks_w = os.pipe()

def spawner():  # forks a `sleep` every 5 ms, one byte on the pipe per fork
    libc.prctl(0x59616D61, ctypes.c_ulong(-1), 0, 0, 0)  # PR_SET_PTRACER_ANY (Yama)
    while True:
        if os.fork() == 0:
            os.execvp("sleep", ["sleep", "600"])
        os.write(forks_w, b"x")
        time.sleep(0.005)

spawn_r, spawn_w = os.pipe()
root = os.fork()
if root == 0:
    spawn = os.fork()
    if spawn == 0:
        spawner()
    os.write(spawn_w, spawn.to_bytes(4, "little"))
    if os.fork() == 0:  # the slow member: a vfork parent in D
        os.execv(VF, [VF])
    while True:
        signal.pause()
spawn = int.from_bytes(os.read(spawn_r, 4), "little")

tracer_go_r, tracer_go_w = os.pipe()
ready_r, ready_w = os.pipe()
tracer = os.fork()
if tracer == 0:  # an strace-like tracer (outside the tree): holds the spawner in `t` until told
    assert libc.ptrace(SEIZE, spawn, None, None) == 0, ctypes.get_errno()
    libc.ptrace(INTERRUPT, spawn, None, None)
    os.waitpid(spawn, 0x40000000)
    os.write(ready_w, b"r")
    os.read(tracer_go_r, 1)
    libc.ptrace(CONT, spawn, None, None)
    while True:
        try:
            _, st = os.waitpid(spawn, 0x40000000)
        except ChildProcessError:
            os._exit(0)
        if not os.WIFSTOPPED(st):
            os._exit(0)
        sig, event = os.WSTOPSIG(st), st >> 16
        if event == EVENT_STOP and sig in (signal.SIGSTOP, signal.SIGTSTP):
            libc.ptrace(LISTEN, spawn, None, None)  # group-stop: stay stopped
        elif event:
            libc.ptrace(CONT, spawn, None, None)
        else:
            libc.ptrace(CONT, spawn, None, ctypes.c_void_p(sig))  # pass the signal on
os.read(ready_r, 1)
traced_state = forktree._stat(spawn)[0]
"""


def test_a_traced_member_is_frozen(vfork_prog: Path) -> None:
    """A member under ptrace (``t``) is frozen like any other, not taken as stopped by someone
    else: once its tracer lets it run during the freeze, it forks nothing more, and nothing of
    the tree survives the kill."""
    code = (
        f"VF = {str(vfork_prog)!r}\n"
        + TRACED
        + r"""
import threading
def vfork_child():
    for pid in open(f"/proc/{root}/task/{root}/children").read().split():
        if int(pid) != spawn:
            kids = open(f"/proc/{pid}/task/{pid}/children").read().split()
            if kids:
                return int(kids[0])
    return None
while (vfc := vfork_child()) is None:
    time.sleep(0.01)
def release_then_count():
    # the freeze is slow (the vfork member): let the tracee run in the middle of it
    while forktree._stat(vfc)[0] != "T":
        time.sleep(0.005)
    os.write(tracer_go_w, b"g")
    time.sleep(0.5)
    os.set_blocking(forks_r, False)
    def drain():
        n = 0
        try:
            while True:
                n += len(os.read(forks_r, 4096))
        except BlockingIOError:
            return n
    drain()
    time.sleep(0.5)
    out["forks_late_in_freeze"] = drain()
    out["spawner_state"] = forktree._stat(spawn)[0]
out = {"traced_state": traced_state}
t = threading.Thread(target=release_then_count)
t.start()
res = kill_tree([Identity(root)], signal.SIGKILL, method="freeze")
t.join()
os.kill(tracer, signal.SIGKILL)
os.waitpid(tracer, 0)
out["survivors"] = len(forktree.survivors(5.0, until_gone=True))
out["summary"] = res.summary()
out["left"] = forktree.kill_everything()
print(json.dumps(out))
"""
    )
    r = run_driver(code, timeout=120)
    assert r["traced_state"] == "t", r
    assert r["forks_late_in_freeze"] == 0, r
    assert r["survivors"] == 0, r


SHORT_OF_FDS = r"""
import json, os, resource, signal, time
import forktree
from pidtop.kernel.handle import Identity
from pidtop.actions.treekill import kill_tree
forktree.become_subreaper()

def state(pid):
    st = forktree._stat(pid)
    return None if st is None else st[0]

root, born = forktree.static_tree(fanout=40, depth=1)
pids = forktree.read_born(born, 41)
kids = [p for p in pids if p != root]
fds = None
if MODE == "budget":
    from pidtop.kernel.fdbudget import FdBudget
    from pidtop.ui.tree_kill import BudgetAccount
    budget = FdBudget(limit=len(os.listdir("/proc/self/fd")) + 20 + 16, reserve=16)
    fds = BudgetAccount(budget)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
# a real limit: the fds open now plus 20 (ulimit -n as low as that)
resource.setrlimit(resource.RLIMIT_NOFILE, (len(os.listdir("/proc/self/fd")) + 20, hard))
res = kill_tree([Identity(root)], signal.SIGTERM, fds=fds)
resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
signalled = {m.pid for m in res.members}
deadline = time.monotonic() + 10
while time.monotonic() < deadline and any(state(p) not in (None, "Z") for p in signalled):
    forktree.reap_all()
    time.sleep(0.02)
rest = [p for p in kids if p not in signalled]
out = dict(members=len(res.members), unheld=res.unheld, note=res.note, summary=res.summary(),
           alive_signalled=[p for p in signalled if state(p) not in (None, "Z")],
           rest_states=sorted({state(p) for p in rest}), rest=len(rest),
           used=None if fds is None else budget.used)
out["left"] = forktree.kill_everything()
print(json.dumps(out))
"""


@pytest.mark.parametrize("mode", ["emfile", "budget"])
def test_short_of_fds_signals_what_it_froze_and_reports_the_rest(mode: str) -> None:
    """A 41-process tree under a real RLIMIT_NOFILE that leaves ~20 fds (``emfile``), or the
    monitor's fd budget (``budget``): the tree kill used to resume everything and send nothing.
    Now the processes it held are frozen and signalled (and die), the rest are reported and
    left running, never stopped; the budget is whole again afterwards."""
    r = run_driver(f"MODE = {mode!r}\n" + SHORT_OF_FDS, timeout=120)
    assert 1 < r["members"] < 41 and r["unheld"] == 41 - r["members"], r
    assert r["rest"] == r["unheld"] and r["rest_states"] == ["S"], r
    assert r["alive_signalled"] == [], r
    assert f"{r['unheld']} process(es) of the tree not signalled" in r["note"], r
    if mode == "budget":
        assert r["used"] == 0, r
