"""Forced PID reuse in a private PID namespace: pidtop must never touch the newcomer.

Each test runs a script as PID 1 of ``unshare --pid --fork --mount-proc``. It forks A at PID
500 (via /proc/sys/kernel/ns_last_pid), kills and reaps it, then forks B, which gets the same
PID 500. The script reports what it saw as one JSON line; the assertions are made here.

Every test runs twice: as root, and as uid 65534 in a user namespace (``setpriv ... unshare
--user --map-root-user --pid --fork --mount-proc`` with the system's Python), which can write
``ns_last_pid`` too: the central guarantee is tested wherever the suite runs.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from procs import pid_namespace_unavailable, run_in_pid_namespace

_why_root = pid_namespace_unavailable()
_why_nobody = pid_namespace_unavailable(as_nobody=True)

PREAMBLE = """
import json, os, signal, subprocess, sys, time
import procs
from pidtop.kernel.handle import IdentityMismatch, ProcessHandle, read_starttime

PID = 500

def kill_and_reap(fd):
    signal.pidfd_send_signal(fd, signal.SIGKILL)
    os.waitid(os.P_PIDFD, fd, os.WEXITED)

def running(fd):
    return procs.wait_fd(fd, 0) == 0 and open(f"/proc/{PID}/stat").read().split()[-50] != "Z"

def by_path(fb, ino_a):
    # whether PID by path is now B's process (its pidfs inode), not A's
    fd = os.pidfd_open(PID)
    try:
        return os.fstat(fd).st_ino == os.fstat(fb).st_ino != ino_a
    finally:
        os.close(fd)

def start_a(ignore_term=False):
    a = procs.fork_at_pid(PID, lambda: procs.sleep_forever(ignore_term))
    fd = os.pidfd_open(a)
    return fd, os.fstat(fd).st_ino

def replace_a(fa):
    kill_and_reap(fa)
    b = procs.fork_at_pid(PID, procs.sleep_forever)
    return b, os.pidfd_open(b)

def pidtop(*args):
    return subprocess.Popen([sys.executable, "-m", "pidtop", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def read_line(proc):
    line = b""
    while not line.endswith(b"\\n"):
        if not procs.wait_fd(proc.stdout.fileno()):
            raise TimeoutError("pidtop printed nothing")
        chunk = os.read(proc.stdout.fileno(), 1)
        if not chunk:
            break
        line += chunk
    return line.decode()

"""


Run = Callable[[str], dict[str, object]]


@pytest.fixture(
    params=[
        pytest.param(
            False, id="root", marks=pytest.mark.skipif(bool(_why_root), reason=str(_why_root))
        ),
        pytest.param(
            True, id="uid65534-userns",
            marks=pytest.mark.skipif(bool(_why_nobody), reason=str(_why_nobody)),
        ),
    ]
)  # fmt: skip
def run(request: pytest.FixtureRequest) -> Run:
    as_nobody = bool(request.param)

    def run(body: str) -> dict[str, object]:
        return run_in_pid_namespace(PREAMBLE + body, as_nobody=as_nobody)

    run.as_nobody = as_nobody  # type: ignore[attr-defined]
    return run


def test_the_namespace_is_private_and_the_user_as_asked(run: Run) -> None:
    r = run("""
print(json.dumps(dict(pid=os.getpid(), uid_map=open("/proc/self/uid_map").read().split())))
""")
    assert r["pid"] == 1
    nobody = run.as_nobody  # type: ignore[attr-defined]
    assert r["uid_map"] == (["0", "65534", "1"] if nobody else ["0", "0", "4294967295"])


def test_open_with_the_old_identity_is_refused(run: Run) -> None:
    r = run("""
fa, ino_a = start_a()
st_a = read_starttime(PID)
b, fb = replace_a(fa)
try:
    ProcessHandle.open(PID, inode=ino_a)
    refused = None
except IdentityMismatch as e:
    refused = str(e)
print(json.dumps(dict(b=b, ino_a=ino_a, ino_b=os.fstat(fb).st_ino, refused=refused,
                      same_tick=read_starttime(PID) == st_a, b_running=running(fb))))
""")
    assert r["b"] == 500, "PID was not reused"
    assert r["ino_a"] != r["ino_b"]
    assert str(r["refused"]).startswith("PID 500 is now another process")
    assert r["b_running"]


def test_held_handle_reports_gone_and_spares_the_newcomer(run: Run) -> None:
    r = run("""
fa, ino_a = start_a()
h = ProcessHandle.open(PID)
b, fb = replace_a(fa)
term, kill = h.send_signal(signal.SIGTERM), h.send_signal(signal.SIGKILL)
print(json.dumps(dict(b=b, term=term.outcome, kill=kill.outcome, text=term.describe(),
                      state=h.state(), status=h.exit_status().describe(),
                      b_running=running(fb))))
""")
    assert r["b"] == 500
    assert (r["term"], r["kill"]) == ("gone", "gone")
    assert "no such process" in str(r["text"])
    assert r["state"] == "reaped"
    assert r["status"] == "killed by SIGKILL"  # A's own end, read back via PIDFD_INFO_EXIT
    assert r["b_running"]


def test_kill_timeout_never_kills_the_newcomer(run: Run) -> None:
    # pidtop sends TERM (ignored by A) and waits to escalate to KILL. While it is stopped,
    # A dies, is reaped and B takes PID 500; an implementation escalating by PID kills B.
    r = run("""
fa, ino_a = start_a(ignore_term=True)
proc = pidtop("kill", "--timeout", "1500", "KILL", f"{PID}:{ino_a}")
first = read_line(proc)
os.kill(proc.pid, signal.SIGSTOP)
b, fb = replace_a(fa)
os.kill(proc.pid, signal.SIGCONT)
out, err = proc.communicate(timeout=15)
print(json.dumps(dict(b=b, ino_a=ino_a, rc=proc.returncode, first=first, out=out, err=err,
                      b_running=running(fb))))
""")
    assert r["b"] == 500
    assert r["first"] == f"500:{r['ino_a']}: SIGTERM delivered\n"
    assert r["rc"] == 0, r["err"]
    assert r["out"] == f"500:{r['ino_a']}: exited (killed by SIGKILL)\n"  # A's death, not ours
    assert r["b_running"], "pidtop kill hit the process that reused the PID"


def test_wait_on_the_old_identity_does_not_wait_on_the_newcomer(run: Run) -> None:
    r = run("""
# 1) pidtop wait started while A lives; A is replaced by B while pidtop is stopped.
fa, ino_a = start_a()
proc = pidtop("wait", "--timeout", "10", f"{PID}:{ino_a}")
procs.wait_pidfd_held(proc.pid, PID, watched=True)  # opened and verified, now watched
os.kill(proc.pid, signal.SIGSTOP)
b, fb = replace_a(fa)
t0 = time.monotonic()
os.kill(proc.pid, signal.SIGCONT)
out, err = proc.communicate(timeout=15)
held = dict(rc=proc.returncode, out=out, err=err, secs=time.monotonic() - t0)
# 2) pidtop wait started after the reuse, naming the old identity.
t0 = time.monotonic()
stale = subprocess.run([sys.executable, "-m", "pidtop", "wait", "--timeout", "10",
                        f"{PID}:{ino_a}"], capture_output=True, text=True, timeout=15)
print(json.dumps(dict(b=b, ino_a=ino_a, held=held, stale_rc=stale.returncode,
                      stale_err=stale.stderr, stale_secs=time.monotonic() - t0,
                      b_running=running(fb))))
""")
    assert r["b"] == 500
    held = r["held"]
    assert isinstance(held, dict)
    assert held["rc"] == 0, held["err"]
    assert str(held["out"]).startswith(f"500:{r['ino_a']}: killed by SIGKILL (lived ")
    assert held["secs"] < 5, "waited on the newcomer"
    assert r["stale_rc"] == 5
    assert r["stale_err"] == f"500:{r['ino_a']}: PID 500 is now another process\n" or str(
        r["stale_err"]
    ).startswith(f"500:{r['ino_a']}: PID 500 is now another process (inode ")
    assert r["stale_secs"] < 5
    assert r["b_running"]


def test_the_send_itself_goes_through_the_pidfd_never_kill_pid(run: Run) -> None:
    """send_signal checks state() first; the send after it must still be bound to the process.

    ``_deliver`` is that send without the check, called when A is already reaped and B holds
    PID 500: the race window between check and send, made wide. Through the pidfd it is
    ESRCH ("gone") and B lives; kill(500) would kill B. Real processes, no spy.
    """
    r = run("""
fa, ino_a = start_a()
h = ProcessHandle.open(PID)
b, fb = replace_a(fa)
res = h._deliver(signal.SIGKILL)
print(json.dumps(dict(b=b, outcome=res.outcome, b_running=running(fb))))
""")
    assert r["b"] == 500
    assert r["outcome"] == "gone"
    assert r["b_running"], "the signal went to the PID, not through the pidfd"


def test_degraded_handle_rechecks_the_start_time_before_kill(run: Run) -> None:
    """Without pidfds (simulated: pidfd_open -> ENOSYS, the only mock) a handle can only
    kill(2) by PID. After A is reaped and B takes PID 500 in a later clock tick, the start-time
    re-check in send_signal must report "gone" and spare B."""
    r = run("""
import errno
from pidtop.kernel import probes as handle_mod
real_open = os.pidfd_open
def enosys(pid, flags=0):
    raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))
fa, ino_a = start_a()
handle_mod.features.cache_clear()
os.pidfd_open = enosys
h = ProcessHandle.open(PID)
os.pidfd_open = real_open
kill_and_reap(fa)
st_a = h.starttime
tick = os.sysconf("SC_CLK_TCK")
while int(time.clock_gettime(time.CLOCK_BOOTTIME) * tick) <= st_a + 1:
    time.sleep(0.005)  # until B starts in a later tick than A (at most ~20 ms): no race
b = procs.fork_at_pid(PID, procs.sleep_forever)
fb = os.pidfd_open(b)
res = h.send_signal(signal.SIGKILL)
print(json.dumps(dict(b=b, degraded=h.degraded, st_a=st_a, st_b=read_starttime(PID),
                      outcome=res.outcome, b_running=running(fb))))
""")
    assert r["b"] == 500 and r["degraded"]
    assert r["st_a"] != r["st_b"]
    assert r["outcome"] == "gone"
    assert r["b_running"], "a degraded handle killed the process that reused the PID"


def test_a_proc_dir_fd_reads_only_its_process_after_the_pid_is_reused(run: Run) -> None:
    """The details source reads through A's /proc directory fd, checked once against A's
    pidfd: after A is reaped and B takes PID 500, every read through it (stat, cmdline,
    environ, fd/) fails with ESRCH, the details read is thrown away, the environment and the
    open files say "exited", and a new check refuses the handle, while /proc/500 by path
    reads B (told by B's pidfs inode: A and B may start within one clock tick, with one start
    time). Nothing of B is ever returned as A's."""
    r = run("""
from pidtop.details.reader import ProcDetails
from pidtop.kernel.errors import ProcessGone
from pidtop.kernel.procdir import ProcDir
fa, ino_a = start_a()
h = ProcessHandle.open(PID)
src = ProcDetails()
first = src.read(h, None)
env_before = src.environ(h)
d = ProcDir.open(h)
b, fb = replace_a(fa)
errors = {}
for name in ("stat", "cmdline", "environ", "status"):
    try:
        d.read(name)
        errors[name] = "read"
    except ProcessLookupError:
        errors[name] = "ESRCH"
try:
    d.listdir("fd")
    errors["fd"] = "read"
except ProcessLookupError:
    errors["fd"] = "ESRCH"
again = src.read(h, first)
env, files = src.environ(h), src.files(h)
try:
    ProcDir.open(h)
    reopened = "opened"
except ProcessGone as e:
    reopened = str(e)
print(json.dumps(dict(b=b, first=first is not None and first.starttime == h.starttime,
                      env_before=isinstance(env_before, dict), errors=errors,
                      again=again is None, env=str(env), files=str(files), reopened=reopened,
                      by_path=by_path(fb, ino_a), b_running=running(fb))))
""")
    assert r["b"] == 500, "PID was not reused"
    assert r["first"] and r["env_before"]
    assert r["errors"] == dict.fromkeys(("stat", "cmdline", "environ", "status", "fd"), "ESRCH")
    assert r["again"], "a details read after the reuse returned data"
    assert "exited" in str(r["env"]) and "exited" in str(r["files"])
    assert "has exited" in str(r["reopened"])
    assert r["by_path"] and r["b_running"]
