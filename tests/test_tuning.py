"""Renice, I/O priority and affinity through verified handles, read back from the kernel."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from procs import as_another_user, pid_namespace_unavailable, run_in_pid_namespace, spawn

from pidtop.actions.eventlog import EventLog
from pidtop.actions.tuning import (
    apply,
    cpu_list_text,
    parse_cpu_list,
    renice,
    set_affinity,
    set_ionice,
    summary,
)
from pidtop.kernel.handle import ProcessHandle


def proc_nice(pid: int) -> int:
    """Field 19 of /proc/PID/stat (after the last ')')."""
    return int(Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[16])


def proc_cpus(pid: int) -> str:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Cpus_allowed_list:"):
            return line.split()[1]
    raise AssertionError("no Cpus_allowed_list")


def test_renice_reads_back_from_proc() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        r = renice(h, +3)
        assert (r.outcome, r.before, r.after) == ("done", "0", "3")
        assert proc_nice(t.pid) == 3
        assert renice(h, -1).ok and proc_nice(t.pid) == 2  # root may raise priority
        assert renice(h, +40).after == "19" and proc_nice(t.pid) == 19
        same = renice(h, +1)
        assert same.ok and "nothing to change" in same.describe()


@pytest.mark.skipif(shutil.which("ionice") is None, reason="util-linux ionice not installed")
def test_ionice_reads_back() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        r = set_ionice(h, 2, 6)
        assert r.ok, r.describe()
        out = subprocess.run(["ionice", "-p", str(t.pid)], capture_output=True, text=True)
        assert out.stdout.strip() == "best-effort: prio 6"
        assert set_ionice(h, 3).ok
        out = subprocess.run(["ionice", "-p", str(t.pid)], capture_output=True, text=True)
        assert out.stdout.strip() == "idle"


@pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="needs 2 CPUs")
def test_affinity_reads_back_from_proc() -> None:
    first = min(os.sched_getaffinity(0))
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        r = set_affinity(h, {first})
        assert r.ok and r.after == str(first)
        assert proc_cpus(t.pid) == str(first)


def test_gone_process_is_not_touched_and_results_are_logged() -> None:
    log = EventLog(clock=lambda: 0.0)
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        t.exit(0)
        t.reap()
        (r,) = apply([(h, "sleeper")], lambda x: renice(x, 1), log)
        assert r.outcome == "gone"
        assert log.entries[-1].kind == "tune" and not log.entries[-1].ok
        assert summary([r, r]) == "nice +1: 2 gone — see L for details"


def test_cpu_lists() -> None:
    assert parse_cpu_list("0-3, 6") == {0, 1, 2, 3, 6}
    assert cpu_list_text({0, 1, 2, 3, 6, 8, 9}) == "0-3,6,8-9"
    for bad in ("", "a", "3-1", "1-"):
        with pytest.raises(ValueError):
            parse_cpu_list(bad)


# --------------------------------------------------------------------------- unprivileged

NOBODY = """
import json, os, subprocess, sys
from pidtop.kernel.handle import ProcessHandle
from pidtop.actions.tuning import renice, set_affinity
from pidtop.details.reader import ProcDetails
root_pid = int(sys.argv[1])
mine = subprocess.Popen(["sleep", "60"])
out = {}
with ProcessHandle.open(mine.pid) as h:
    out["own_up"] = renice(h, +2).outcome
    out["own_raise"] = renice(h, -1).describe()
    out["own_nice"] = os.getpriority(os.PRIO_PROCESS, mine.pid)
with ProcessHandle.open(root_pid) as h:
    out["root_renice"] = renice(h, +1).outcome
    out["root_affinity"] = set_affinity(h, {0}).outcome
    src = ProcDetails()
    d = src.read(h, None)
    out["root_env"] = str(src.environ(h))
    out["root_cwd"] = str(d.cwd)
    lims = d.limits
    out["root_limits"] = [x.name for x in lims] if isinstance(lims, tuple) else str(lims)
mine.kill(); mine.wait()
print(json.dumps(out))
"""


def test_not_permitted_as_an_unprivileged_user() -> None:
    with spawn("child") as t, as_another_user() as (python, env):
        script = Path(env["PYTHONPATH"]) / "nobody.py"  # readable: the checkout may not be
        script.write_text(NOBODY)
        script.chmod(0o644)
        cmd = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
        out = subprocess.run(
            [*cmd, python, str(script), str(t.pid)],
            capture_output=True, text=True, env=env, timeout=60,
        )  # fmt: skip
        assert out.returncode == 0, out.stderr
        r = json.loads(out.stdout)
        assert proc_nice(t.pid) == 0, "root's process was changed"
    assert r["own_up"] == "done" and r["own_nice"] == 2
    assert r["own_raise"].endswith("nice -1: not permitted"), r["own_raise"]
    assert (r["root_renice"], r["root_affinity"]) == ("not_permitted", "not_permitted")
    assert r["root_env"] == "permission denied" and r["root_cwd"] == "permission denied"
    assert "open files" in r["root_limits"]  # prlimit is refused: read from /proc/PID/limits


# --------------------------------------------------------------------------- PID reuse

_why = pid_namespace_unavailable()

REUSE = """
import json, os, signal
import procs
from pidtop.kernel.handle import ProcessHandle
from pidtop.actions.tuning import bracket, renice, set_affinity

PID = 500

def nice(pid):
    return os.getpriority(os.PRIO_PROCESS, pid)

def replace(fd):
    signal.pidfd_send_signal(fd, signal.SIGKILL)
    os.waitid(os.P_PIDFD, fd, os.WEXITED)
    b = procs.fork_at_pid(PID, procs.sleep_forever)
    return b

a = procs.fork_at_pid(PID, procs.sleep_forever)
fa = os.pidfd_open(a)
h = ProcessHandle.open(PID)
b = replace(fa)  # between the open and the call, A dies and B takes its PID
before = renice(h, +5)
cpus = set_affinity(h, {0})
out = dict(b=b, before=before.outcome, before_text=before.describe(), cpus=cpus.outcome,
           b_nice=nice(b))

# ... and between the call's pre-check and the kernel resolving the PID: the post-check tells
fb = os.pidfd_open(b)
h2 = ProcessHandle.open(PID)
def racy(pid):
    replace(fb)  # C takes PID 500 just before the call
    os.setpriority(os.PRIO_PROCESS, pid, 7)
    return ("0", "7")
after = bracket(h2, "nice 7", racy)
out.update(after=after.outcome, after_text=after.describe())
print(json.dumps(out))
"""


@pytest.mark.skipif(_why is not None, reason=_why or "")
def test_recycled_pid_is_refused_and_a_late_reuse_reported() -> None:
    r = run_in_pid_namespace(REUSE)
    assert r["b"] == 500, "PID was not reused"
    assert (r["before"], r["cpus"]) == ("reused", "reused")
    assert "is now another process; PID 500 not changed" in str(r["before_text"])
    assert r["b_nice"] == 0, "the newcomer was reniced"
    assert r["after"] == "reused"
    assert "the change may have reached the new process" in str(r["after_text"])


def test_ionice_sets_every_class_by_syscall_as_psutil_reads_it() -> None:
    """``ioprio_set``/``ioprio_get`` by syscall (no psutil import when tuning): each class as
    psutil reads it back; a level is sent only for realtime and best-effort."""
    import psutil

    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        for cls, level, want in ((1, 3, (1, 3)), (2, 7, (2, 7)), (3, 5, (3, 0)), (0, 6, (0, 0))):
            r = set_ionice(h, cls, level)
            assert r.ok, r.describe()
            got = psutil.Process(t.pid).ionice()
            assert (int(got[0]), got[1]) == want
    code = (
        "import sys; from pidtop.actions.tuning import set_ionice\n"
        "from pidtop.kernel.handle import ProcessHandle\n"
        "import os\n"
        "with ProcessHandle.open(os.getpid()) as h: r = set_ionice(h, 2, 5)\n"
        "print(r.ok, r.after, 'psutil' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "True best-effort 5 False", out.stderr


def test_ionice_of_a_gone_process_says_gone() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        t.exit(0)
        t.reap()
        assert set_ionice(h, 2, 1).outcome == "gone"
