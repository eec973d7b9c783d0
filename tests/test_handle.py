"""ProcessHandle against real processes: children, non-children, zombies, fd accounting."""

from __future__ import annotations

import errno
import faulthandler
import json
import os
import resource
import select
import signal
import struct
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from procs import (
    HAS_INFO_EXIT,
    HAS_PIDFS_INODES,
    KERNEL,
    Target,
    count_fds,
    nonexistent_pid,
    pidtop_env,
    spawn,
    wait_fd,
    wait_reaped,
)

from pidtop.kernel import pidfdinfo as handle_mod
from pidtop.kernel.errors import FdLimit, IdentityMismatch, ProcessGone, raise_fd_limit
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import Identity, format_identity, parse_target, read_starttime
from pidtop.kernel.pidfdinfo import ExitStatus, decode_coredump
from pidtop.kernel.probes import features

# Decided by the kernel version, not by features(): a broken probe must fail, not skip.
needs_info_exit = pytest.mark.skipif(not HAS_INFO_EXIT, reason="kernel < 6.15: no PIDFD_INFO_EXIT")


@pytest.fixture
def child() -> Iterator[Target]:
    with spawn("child") as t:
        yield t


@pytest.fixture
def nonchild() -> Iterator[Target]:
    with spawn("nonchild") as t:
        yield t


def wait_exited(h: ProcessHandle) -> None:
    fd = h.fileno()
    assert fd is not None
    assert wait_fd(fd) & select.POLLIN, "target did not exit in time"


# --------------------------------------------------------------------------- identity


def test_parse_and_format_target() -> None:
    assert parse_target("1234") == Identity(1234)
    assert parse_target("1234:5678") == Identity(1234, 5678)
    assert format_identity(Identity(1234, 5678)) == "1234:5678"
    assert format_identity(Identity(1234, None, 99)) == "1234"
    assert str(parse_target("42:7")) == "42:7"
    assert parse_target("2147483647") == Identity(2**31 - 1)
    assert parse_target("007:18446744073709551615") == Identity(7, 2**64 - 1)


@pytest.mark.parametrize(
    "text",
    [
        *("", "abc", "12:", ":5", "1:2:3", "-4", "0", "5:0", "1.5", "0x10"),
        # int() takes all of these; a PID must be exactly the ASCII digits typed
        *("1_0", "+5", " 5", "5 ", " 42:7 ", "\u0661\u0662\u0663", "5:\u0661", "\uff15", "5:+1"),
        # beyond pid_t / a 64-bit inode
        *("2147483648", "99999999999", "99999999999999999999", "5:18446744073709551616"),
    ],
)
def test_parse_target_rejects_malformed(text: str) -> None:
    with pytest.raises(ValueError, match="malformed target"):
        parse_target(text)


@pytest.mark.parametrize("pid", [2**31, 99999999999, 10**20])
def test_open_huge_pid_is_gone_not_overflow(pid: int) -> None:
    with pytest.raises(ProcessGone, match="no such process"):
        ProcessHandle.open(pid)


def test_open_a_thread_id_is_refused_in_one_line() -> None:
    started, stop = threading.Event(), threading.Event()
    tids: list[int] = []

    def run() -> None:
        tids.append(threading.get_native_id())
        started.set()
        stop.wait(10)

    t = threading.Thread(target=run)
    t.start()
    try:
        assert started.wait(5)
        (tid,) = tids
        assert tid != os.getpid()
        with pytest.raises(ProcessGone) as info:
            ProcessHandle.open(tid)
        assert str(info.value) == f"PID {tid}: is a thread of process {os.getpid()}, not a process"
    finally:
        stop.set()
        t.join()


def test_read_starttime_survives_hostile_comm() -> None:
    with spawn("child") as plain, spawn("child", comm=") 1 2 (x) R 9") as hostile:
        with open(f"/proc/{hostile.pid}/stat") as f:
            stat = f.read()
        assert stat.split()[21] != stat.rpartition(")")[2].split()[19]  # naive split is wrong
        start = read_starttime(hostile.pid)
        assert start == int(stat.rpartition(")")[2].split()[19])
        assert abs(start - read_starttime(plain.pid)) < 500  # both started within 5 s


def test_identity_of_a_live_child(child: Target) -> None:
    with ProcessHandle.open(child.pid) as h:
        fd = h.fileno()
        assert fd is not None and not h.degraded
        assert h.inode == os.fstat(fd).st_ino
        assert h.starttime == read_starttime(child.pid)
        assert h.identity == Identity(child.pid, h.inode, h.starttime)
        assert h.state() == "running"
        assert h.exit_status().reason == "still running"
        lived = h.lifetime()
        assert lived is not None and 0 <= lived < 60


def test_open_verifies_the_identity(child: Target) -> None:
    with ProcessHandle.open(child.pid) as h:
        inode, start = h.inode, h.starttime
    assert inode is not None and start is not None
    with ProcessHandle.open(child.pid, inode=inode, starttime=start) as h:
        assert h.inode == inode
    with pytest.raises(IdentityMismatch) as info:
        ProcessHandle.open(child.pid, inode=inode + 1)
    assert str(info.value).startswith(f"PID {child.pid} is now another process")
    with pytest.raises(IdentityMismatch):
        ProcessHandle.open(child.pid, starttime=start + 1)


def test_open_nonexistent_pid() -> None:
    pid = nonexistent_pid()
    with pytest.raises(ProcessGone, match=f"PID {pid}: no such process"):
        ProcessHandle.open(pid)
    with pytest.raises(ValueError):
        ProcessHandle.open(0)


# --------------------------------------------------------------------------- exit and status


def test_child_exit_code_without_reaping(child: Target) -> None:
    with ProcessHandle.open(child.pid) as h:
        child.exit(3)
        wait_exited(h)
        assert h.state() == "exited"
        status = h.exit_status()
        assert (status.known, status.code, status.signal) == (True, 3, None)
        assert h.state() == "exited", "exit_status() must not reap"
        assert read_starttime(child.pid) == h.starttime  # still a zombie in /proc
        child.reap()
        assert h.state() == "reaped"
        assert h.exit_status().describe() == "exited with code 3"


def test_reap_when_asked_after_the_status_was_cached(child: Target) -> None:
    with ProcessHandle.open(child.pid) as h:
        child.exit(6)
        wait_exited(h)
        assert h.exit_status().code == 6  # cached, not reaped
        assert h.state() == "exited"
        assert h.exit_status(reap=True).code == 6
        assert h.state() == "reaped"
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, 0)


def test_core_dump_of_own_child(tmp_path: Path) -> None:
    """A child that really dumps core: waitid says CLD_DUMPED and the handle reports it."""
    pattern = Path("/proc/sys/kernel/core_pattern").read_text().strip()
    # "core" (or any relative pattern) writes into the child's cwd: tmp_path, cleaned up by
    # pytest; a "|handler" pattern pipes it away. Either way the kernel sets WCOREDUMP.
    if not pattern:
        pytest.skip("core dumps disabled (empty core_pattern)")
    proc = subprocess.Popen(
        ["sh", "-c", "read x; ulimit -c unlimited; kill -SEGV $$"],
        stdin=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert proc.stdin is not None
    try:
        with ProcessHandle.open(proc.pid) as h:
            proc.stdin.write(b"go\n")
            proc.stdin.close()
            wait_exited(h)
            status = h.exit_status()
            assert (status.signal, status.core_dumped) == (signal.SIGSEGV, True), status
            assert status.describe() == "killed by SIGSEGV (core dumped)"
    finally:
        proc.kill()
        proc.wait()


def test_reap_when_asked(child: Target) -> None:
    with ProcessHandle.open(child.pid) as h:
        child.exit(4)
        wait_exited(h)
        assert h.exit_status(reap=True).code == 4
        assert h.state() == "reaped"
    with pytest.raises(ChildProcessError):
        os.waitpid(child.pid, 0)


@needs_info_exit
def test_nonchild_exit_code_via_pidfd_info(nonchild: Target) -> None:
    with ProcessHandle.open(nonchild.pid) as h:
        nonchild.exit(5)
        wait_exited(h)
        assert h.state() == "exited"
        assert h.exit_status() == ExitStatus.unknown("not yet reaped by its parent")
        nonchild.reap()  # its parent reaps it
        fd = h.fileno()
        assert fd is not None
        wait_reaped(fd)
        assert h.state() == "reaped"
        assert h.exit_status().describe() == "exited with code 5"


@needs_info_exit
def test_nonchild_killing_signal_via_pidfd_info(nonchild: Target) -> None:
    with ProcessHandle.open(nonchild.pid) as h:
        assert h.send_signal(signal.SIGKILL).outcome == "delivered"
        wait_exited(h)
        nonchild.reap()
        fd = h.fileno()
        assert fd is not None
        wait_reaped(fd)
        status = h.exit_status()
        assert (status.signal, status.code, status.core_dumped) == (signal.SIGKILL, None, False)
        assert status.describe() == "killed by SIGKILL"


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (0x300, "exited with code 3"),
        (0x0, "exited with code 0"),
        (0x9, "killed by SIGKILL"),
        (0xF, "killed by SIGTERM"),
        (0x8B, "killed by SIGSEGV (core dumped)"),
    ],
)
def test_decode_wait_status(raw: int, text: str) -> None:
    assert ExitStatus.from_wait_status(raw).describe() == text
    # decoded once: the journal's records of equal statuses share one object
    assert ExitStatus.from_wait_status(raw) is ExitStatus.from_wait_status(raw)


def test_a_nonsense_wait_status_is_still_decoded_when_the_kept_ones_are_many(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The statuses kept are bounded; one past the bound is decoded as it always was."""
    monkeypatch.setattr(handle_mod, "_DECODED", {})  # the other tests' statuses stay kept
    for raw in range(0x10000, 0x10000 + 1100):  # more statuses than are kept
        ExitStatus.from_wait_status(raw)
    assert ExitStatus.from_wait_status(0x10000 + 1099) == ExitStatus.from_wait_status(
        0x10000 + 1099
    )
    late = ExitStatus.from_wait_status(0x7F7F)  # neither exited nor signalled: stopped
    assert not late.known and late.reason == "unrecognised wait status 0x7f7f"


# --------------------------------------------------------------------------- zombies and signals


@pytest.mark.parametrize("kind", ["child", "nonchild"])
def test_zombie_open_and_signal(kind: str) -> None:
    with spawn(kind) as t:  # type: ignore[arg-type]
        fd = t.pidfd()
        t.exit(0)
        assert wait_fd(fd) & select.POLLIN
        with pytest.raises(ProcessGone, match="already exited"):
            ProcessHandle.open(t.pid)
        with ProcessHandle.open(t.pid, allow_exited=True) as h:
            assert h.state() == "exited"
            result = h.send_signal(signal.SIGTERM)
            assert result.outcome == "exited_not_reaped" and result.ok
            assert "not yet reaped" in result.describe()
        os.close(fd)


def test_signal_outcomes() -> None:
    with spawn("child", ignore_term=True) as t, ProcessHandle.open(t.pid) as h:
        result = h.send_signal(signal.SIGTERM)
        assert (result.outcome, result.ok) == ("delivered", True)
        assert result.describe() == f"{t.pid}:{h.inode}: SIGTERM delivered"
        fd = h.fileno()
        assert fd is not None and wait_fd(fd, 0.1) == 0, "SIGTERM is ignored: must still run"
        assert h.send_signal(0).outcome == "delivered"
        assert h.send_signal(signal.SIGKILL).outcome == "delivered"
        wait_exited(h)
        t.reap()
        gone = h.send_signal(signal.SIGTERM)
        assert (gone.outcome, gone.ok, gone.errno) == ("gone", False, errno.ESRCH)
        bad = ProcessHandle.open(os.getpid())
        with bad:
            assert bad.send_signal(65).outcome == "error"


def test_signal_not_permitted() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        pid = os.fork()
        if pid == 0:  # an unprivileged process may not signal root's processes
            try:
                os.setgid(65534)
                os.setuid(65534)
                os._exit(10 if h.send_signal(signal.SIGTERM).outcome == "not_permitted" else 11)
            finally:
                os._exit(12)
        assert os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]) == 10
        assert h.state() == "running"


def test_reclaim_after_kill() -> None:
    with spawn("child") as t, ProcessHandle.open(t.pid) as h:
        assert h.reclaim().outcome == "not_dying"
        assert h.send_signal(signal.SIGKILL).ok
        result = h.reclaim()
        assert result.ok, result.describe()  # ESRCH right after a kill counts as success


# --------------------------------------------------------------------------- resources


def test_no_fd_leaks(child: Target) -> None:
    before = count_fds()
    for _ in range(50):
        with ProcessHandle.open(child.pid) as h:
            h.state()
            h.exit_status()
            h.send_signal(0)
        with pytest.raises(IdentityMismatch):
            ProcessHandle.open(child.pid, inode=1)
        with pytest.raises(ProcessGone):
            ProcessHandle.open(nonexistent_pid())
    h = ProcessHandle.open(child.pid)
    h.close()
    h.close()  # idempotent
    with pytest.raises(ValueError):
        h.state()
    child.exit(0)
    with ProcessHandle.open(child.pid, allow_exited=True) as z:
        wait_exited(z)
    for _ in range(20):
        with pytest.raises(ProcessGone):
            ProcessHandle.open(child.pid)  # a zombie now
    assert count_fds() == before


def test_fd_limit_is_a_typed_error(child: Target) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    held: list[ProcessHandle] = []
    try:
        limit = count_fds() + 5
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, hard))
        with pytest.raises(FdLimit, match=rf"RLIMIT_NOFILE {limit}; raise `ulimit -n`"):
            for _ in range(10):
                held.append(ProcessHandle.open(child.pid))
    finally:
        for h in held:
            h.close()
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    assert raise_fd_limit() == hard
    resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))


# --------------------------------------------------------------------------- features / degraded


def test_features_on_this_kernel() -> None:
    """Expectations come from the kernel version (CI runs on 6.18), not from the probe."""
    f = features()
    assert KERNEL >= (6, 13), "these tests expect Linux >= 6.13 (PIDFD_GET_INFO)"
    assert f.pidfd_open and f.waitid_pidfd and f.process_mrelease and f.get_info
    assert f.unique_inodes == HAS_PIDFS_INODES
    assert f.info_exit == HAS_INFO_EXIT
    if HAS_INFO_EXIT:
        assert f.notes == ()


_PROBE = """
import json, signal, sys
if sys.argv[1] == "ignore-sigchld":
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
from pidtop.kernel.handle import features
f = features()
print(json.dumps(dict(waitid=f.waitid_pidfd, info_exit=f.info_exit, notes=list(f.notes))))
"""


@pytest.mark.parametrize("how", ["no-path", "ignore-sigchld"])
def test_feature_probe_needs_no_path_and_survives_ignored_sigchld(how: str) -> None:
    """The probe forks (no `true` on PATH needed); with SIGCHLD ignored the kernel reaps the
    probe child itself, waitid says ECHILD, and that is not "kernel < 5.4"."""
    env = pidtop_env()
    env["PATH"] = "/nonexistent"
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, how], capture_output=True, text=True, env=env, timeout=30
    )
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == {"waitid": True, "info_exit": HAS_INFO_EXIT, "notes": []} or (
        not HAS_INFO_EXIT and got["waitid"]
    ), got


@pytest.fixture
def no_pidfd(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Simulate a sandbox where pidfd_open fails with ENOSYS (this machine has pidfds, so this
    cannot be produced for real here: the only mock in these tests)."""

    def enosys(pid: int, flags: int = 0) -> int:
        raise OSError(errno.ENOSYS, os.strerror(errno.ENOSYS))

    features.cache_clear()
    monkeypatch.setattr(handle_mod.os, "pidfd_open", enosys)
    yield
    monkeypatch.undo()
    features.cache_clear()


def test_degraded_without_pidfd(no_pidfd: None) -> None:
    f = features()
    assert not f.pidfd_open and "pidfd_open unavailable" in f.notes[0]
    with spawn("child") as t:
        with pytest.raises(IdentityMismatch):
            ProcessHandle.open(t.pid, starttime=read_starttime(t.pid) + 1)
        with ProcessHandle.open(t.pid) as h:
            assert h.degraded and h.fileno() is None and h.inode is None
            assert h.state() == "running"
            assert h.send_signal(signal.SIGKILL).outcome == "delivered"
            os.waitpid(t.pid, 0)
            assert h.state() == "reaped"
            assert h.send_signal(signal.SIGTERM).outcome == "gone"
            assert not h.exit_status().known
            assert h.reclaim().outcome == "unsupported"


# --------------------------------------------------------------------------- core dump facts


def _info_buf(mask: int, coredump_mask: int = 0, supported: int = 0) -> bytes:
    return struct.pack("=QQ11IiIIQ", mask, 1, *([0] * 11), 0x8B, coredump_mask, 0, supported)


def test_decode_coredump_from_a_constructed_pidfd_info() -> None:
    """CONSTRUCTED buffers: this machine (6.18) cannot produce a 6.19 answer with
    PIDFD_INFO_SUPPORTED_MASK, so the decoding of one is checked on the struct layout
    (PIDFD-FACTS section 4). Without the supported mask the COREDUMP bits never count."""
    cd, sup = handle_mod.PIDFD_INFO_COREDUMP, handle_mod.PIDFD_INFO_SUPPORTED_MASK
    written, skip = handle_mod.PIDFD_COREDUMPED, handle_mod.PIDFD_COREDUMP_SKIP
    both = 0xC | cd | sup  # CGROUPID|EXIT|COREDUMP|SUPPORTED_MASK, as a 6.19 reply
    assert decode_coredump(_info_buf(both, written | 0x4, 0xFF)) == "written"
    assert decode_coredump(_info_buf(both, skip, 0xFF)) == "skipped"
    assert decode_coredump(_info_buf(both, 0x4, 0xFF)) == "unknown"  # only "as the user"
    # 6.19 supports COREDUMP but had nothing to say for this process: bit not in the reply
    assert decode_coredump(_info_buf(0xC | sup, 0, 0xFF)) == "unknown"
    # 6.16-6.18: COREDUMP echoed, no supported mask -> not trusted, whatever the bits
    assert decode_coredump(_info_buf(0xC | cd, written, 0)) == "unknown"
    assert decode_coredump(_info_buf(0xC | cd, skip, 0)) == "unknown"
    # supported mask present but without COREDUMP (a kernel that dropped it)
    assert decode_coredump(_info_buf(both, written, 0xFF & ~cd)) == "unknown"


@needs_info_exit
def test_coredump_unknown_for_a_real_sigsegv_on_this_kernel(tmp_path: Path) -> None:
    """A real child killed by SIGSEGV, held by a pidfd: on kernels < 6.19 the answer is
    ``unknown`` (no PIDFD_INFO_SUPPORTED_MASK to prove PIDFD_INFO_COREDUMP is reliable;
    6.18 echoes the bit with mask 0x4 for any dumpable process). On 6.19+ the kernel says."""
    go_r, go_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(go_w)
            os.read(go_r, 1)  # crash only once the pidfd is held
            os.chdir(tmp_path)
            resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
            signal.signal(signal.SIGSEGV, signal.SIG_DFL)
            faulthandler.disable()
            os.kill(os.getpid(), signal.SIGSEGV)
        finally:
            os._exit(99)
    ask = handle_mod._COREDUMP_ASK
    os.close(go_r)
    with ProcessHandle.open(pid) as h:
        os.close(go_w)
        wait_exited(h)  # a zombie: when the journal's exit event arrives
        zombie = h.coredump()
        os.waitpid(pid, 0)
        fd = h.fileno()
        assert fd is not None
        wait_reaped(fd)
        assert h.exit_status().signal == signal.SIGSEGV
        raw = handle_mod._get_info(fd, ask)
        if KERNEL >= (6, 19):
            assert zombie in ("written", "skipped") and h.coredump() in ("written", "skipped")
        else:
            assert not raw[0] & handle_mod.PIDFD_INFO_SUPPORTED_MASK  # nothing proves it
            assert zombie == "unknown" and h.coredump() == "unknown"
    assert h.coredump() == "unknown"  # closed: never an answer from a reused fd
