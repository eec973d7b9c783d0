"""ProcSampler: /proc/PID/stat parsing and end-to-end sampling of real processes."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from pidtop.kernel.stat import PF_KTHREAD, parse_stat
from pidtop.sampling.fmt import human_bytes
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcInfo, Snapshot
from pidtop.sampling.table import ProcessTable

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")

# A real line (kernel 6.x, 52 fields) with the comm replaced.
_TAIL = (
    b" S 1 1234 1234 0 -1 4194560 1508 0 0 0 17 9 0 0 20 0 3 0 4242 12345678 321 "
    b"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0\n"
)


@pytest.mark.parametrize(
    "comm",
    [b"bash", b"a) b", b"(sd-pam)", b") ) )", b"x (y) z", b"new\nline", b"bad\xff\xfeutf8", b""],
)
def test_parse_stat_hostile_comm(comm: bytes) -> None:
    s = parse_stat(b"1234 (" + comm + b")" + _TAIL)
    assert s.pid == 1234 and s.comm_raw == comm
    assert (s.state, s.ppid, s.flags) == ("S", 1, 4194560)
    assert (s.utime, s.stime, s.priority, s.nice, s.num_threads) == (17, 9, 20, 0, 3)
    assert (s.starttime, s.vsize, s.rss_pages, s.processor) == (4242, 12345678, 321, 1)
    assert s.flags & PF_KTHREAD == 0


@pytest.mark.parametrize("line", [b"", b"garbage", b"12 (x) S 1", b"12 (x"])
def test_parse_stat_malformed_raises_value_or_index_error(line: bytes) -> None:
    with pytest.raises((ValueError, IndexError)):
        parse_stat(line)


def test_parse_stat_of_real_processes() -> None:
    me = parse_stat(Path("/proc/self/stat").read_bytes())
    assert me.pid == os.getpid() or me.ppid == os.getpid()  # /proc/self is the reader
    kthreadd = parse_stat(Path("/proc/2/stat").read_bytes())
    assert kthreadd.flags & PF_KTHREAD


# -- real child processes ---------------------------------------------------------------------


class Child:
    """A Python child that runs ``code``, prints READY and waits for stdin to close."""

    def __init__(self, code: str, *extra: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code + "\nprint('READY', flush=True)\nsys.stdin.read()", *extra],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        ready, _, _ = select.select([self.proc.stdout], [], [], 20)
        assert ready, "child did not start within 20 s"
        assert self.proc.stdout is not None
        assert self.proc.stdout.readline().strip() == b"READY"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def finish(self) -> None:
        if self.proc.poll() is None:
            assert self.proc.stdin is not None
            self.proc.stdin.close()
            self.proc.wait(20)
        if self.proc.stdout is not None:
            self.proc.stdout.close()


@pytest.fixture
def sampler() -> Iterator[ProcSampler]:
    s = ProcSampler()
    yield s
    s.close()


def find(snap: Snapshot, pid: int) -> ProcInfo | None:
    return next((p for p in snap.processes if p.pid == pid and not p.is_thread), None)


def test_real_child_with_hostile_comm_and_cmdline(sampler: ProcSampler) -> None:
    code = "import sys\nopen('/proc/self/comm', 'wb').write(b'a) b\\n\\xff(x')"
    child = Child(code, "arg\x1b[31mred", "[bold]x[/]")
    try:
        p = find(sampler.sample(), child.pid)
        assert p is not None
        assert p.comm == "a) b^J\ufffd(x"
        assert p.cmdline.endswith(" arg^[[31mred [bold]x[/]")
        assert p.ppid == os.getpid() and p.uid == os.getuid() and p.user
        assert not p.is_kernel_thread and p.rss > 0 and p.vsize > 0 and p.shared is not None
    finally:
        child.finish()


def test_sd_pam_style_name(sampler: ProcSampler) -> None:
    child = Child("import sys\nopen('/proc/self/comm', 'w').write('(sd-pam)')")
    try:
        p = find(sampler.sample(), child.pid)
        assert p is not None and p.comm == "(sd-pam)" and p.state in "SR"
    finally:
        child.finish()


def test_real_zombie(sampler: ProcSampler) -> None:
    proc = subprocess.Popen(["true"])
    try:
        # block until it has exited but leave it unreaped: a zombie, no sleeping
        os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOWAIT)
        p = find(sampler.sample(), proc.pid)
        assert p is not None
        assert p.state == "Z" and p.cmdline == "" and p.rss == 0
        assert p.command == "true"  # like htop: brackets are for kernel threads only
    finally:
        proc.wait()


def _stat_state(pid: int) -> str:
    return Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()[0].decode()


def test_idle_process_keeps_its_command_line_when_it_dies(sampler: ProcSampler) -> None:
    """An idle child of a parent that never reaps, SIGKILLed: the zombie row still shows (and
    the filter still finds) ``sleep 100``, not ``[sleep]``. Its stat only changes at its death,
    so that is its second sighting, when /proc/PID/cmdline already reads empty."""
    parent = subprocess.Popen(
        ["bash", "-c", "sleep 100 & echo $!; exec sleep 1000"],  # `sleep 1000` never reaps
        stdout=subprocess.PIPE,
    )
    try:
        assert parent.stdout is not None
        assert select.select([parent.stdout], [], [], 20)[0], "no child PID within 20 s"
        pid = int(parent.stdout.readline())
        pidfd = os.pidfd_open(pid)
        deadline = time.monotonic() + 20
        while Path(f"/proc/{pid}/cmdline").read_bytes() != b"sleep\x00100\x00":
            assert time.monotonic() < deadline, "child did not exec within 20 s"
            select.select([], [], [], 0.005)
        table = ProcessTable()
        for _ in range(2):  # first sighting, then an unchanged (idle) one
            snap = sampler.sample()
            table.update(snap)
            p = find(snap, pid)
            assert p is not None and p.cmdline == "sleep 100"
        signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        assert select.select([pidfd], [], [], 20)[0], "no exit within 20 s"  # POLLIN: exited
        while _stat_state(pid) != "Z":  # bounded: exit_notify sets the state right after
            assert time.monotonic() < deadline, "not a zombie within 20 s"
            select.select([], [], [], 0.001)
        os.close(pidfd)
        snap = sampler.sample()
        z = find(snap, pid)
        assert z is not None and z.state == "Z"
        assert z.cmdline == "sleep 100" and z.command == "sleep 100"
        table.update(snap)
        table.set_filter("sleep 100")
        assert table.index_of(z.key) is not None
    finally:
        parent.kill()
        parent.wait()
        if parent.stdout is not None:
            parent.stdout.close()


def test_command_brackets_only_for_kernel_threads() -> None:
    base = dict(
        pid=5, tgid=5, ppid=1, starttime=9, comm="python3", cmdline="", uid=0, user="root",
        priority=20, nice=0, num_threads=1, vsize=0, rss=0, shared=0, utime=0, stime=0,
    )  # fmt: skip
    assert ProcInfo(state="Z", **base).command == "python3"  # a zombie, never seen alive
    assert ProcInfo(state="S", **base).command == "python3"  # caught inside execve
    assert ProcInfo(state="I", is_kernel_thread=True, **base).command == "[python3]"
    assert ProcInfo(state="S", **{**base, "cmdline": "python3 -m x"}).command == "python3 -m x"


def test_kernel_threads_flagged(sampler: ProcSampler) -> None:
    snap = sampler.sample()
    kthreadd = find(snap, 2)
    assert kthreadd is not None and kthreadd.is_kernel_thread and kthreadd.cmdline == ""
    assert find(snap, os.getpid()).is_kernel_thread is False  # type: ignore[union-attr]


def test_threads(sampler: ProcSampler) -> None:
    code = (
        "import sys, threading\nev = threading.Event()\n"
        "ts = [threading.Thread(target=ev.wait, daemon=True) for _ in range(3)]\n"
        "[t.start() for t in ts]"
    )
    child = Child(code)
    try:
        snap = sampler.sample(threads=True)
        leader = find(snap, child.pid)
        assert leader is not None and leader.num_threads == 4
        threads = [p for p in snap.processes if p.is_thread and p.tgid == child.pid]
        assert len(threads) == 3
        assert all(t.pid != child.pid and t.cmdline == leader.cmdline for t in threads)
        assert all(t.user == leader.user for t in threads)
        assert not any(p.is_thread for p in sampler.sample().processes)
    finally:
        child.finish()


def test_unchanged_process_reuses_its_info_object(sampler: ProcSampler) -> None:
    child = Child("import sys")
    try:
        os.kill(child.pid, signal.SIGSTOP)
        os.waitid(os.P_PID, child.pid, os.WSTOPPED | os.WNOWAIT)  # blocks until stopped
        a = find(sampler.sample(), child.pid)
        b = find(sampler.sample(), child.pid)
        assert a is not None and a.state == "T"
        # identical stat bytes -> the very same object; the table relies on this fast path
        assert a is b
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.finish()


def test_exec_after_first_sighting_updates_cmdline(sampler: ProcSampler) -> None:
    code = "import os, sys\nprint('READY', flush=True)\nsys.stdin.readline()\n"
    code += "os.execv('/bin/sleep', ['sleep', '1000'])"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert select.select([proc.stdout], [], [], 20)[0]
        assert proc.stdout is not None and proc.stdout.readline().strip() == b"READY"
        for _ in range(3):
            p = find(sampler.sample(), proc.pid)
            assert p is not None and "execv" in p.cmdline
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
        proc.stdin.flush()
        deadline = time.monotonic() + 20
        while Path(f"/proc/{proc.pid}/cmdline").read_bytes() != b"sleep\x001000\x00":
            assert time.monotonic() < deadline, "child did not exec within 20 s"
            p = find(sampler.sample(), proc.pid)  # may catch it inside execve
            time.sleep(0.001)
        p = find(sampler.sample(), proc.pid)
        assert p is not None and p.cmdline == "sleep 1000" and p.comm == "sleep"
    finally:
        proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f is not None:
                f.close()


def test_end_to_end_child_appears_and_disappears(sampler: ProcSampler) -> None:
    marker = f"pidtop-e2e-{os.getpid()}"
    table = ProcessTable()
    table.update(sampler.sample())
    child = Child("import sys", marker)
    snap = sampler.sample()
    table.update(snap)
    p = find(snap, child.pid)
    assert p is not None and p.cmdline == f"{sys.executable} -c " + p.cmdline.split(" -c ", 1)[1]
    assert p.cmdline.endswith(marker)
    row = table.get(p.key)
    assert row is not None and row.status == "new"
    assert table.search(marker) == table.index_of(p.key)
    child.finish()  # exits and is reaped
    snap = sampler.sample()
    assert find(snap, child.pid) is None
    table.update(snap)
    assert table.get(p.key).status == "dying"  # type: ignore[union-attr]
    table.update(sampler.sample())
    assert table.get(p.key) is None


def test_system_meters(sampler: ProcSampler) -> None:
    a = sampler.sample()
    b = sampler.sample()
    s = b.system
    assert len(s.cpu_percent) == s.ncpu == os.cpu_count()
    assert all(0.0 <= c <= 100.0 for c in s.cpu_percent)
    assert 0 < s.mem_used < s.mem_total and 0 <= s.swap_used <= s.swap_total
    assert s.uptime > 0 and len(s.load) == 3
    assert b.time >= a.time and abs(b.wall - time.time()) < 60
    assert b.boot_time > 0 and b.clk_tck == os.sysconf("SC_CLK_TCK")


# -- a fake /proc: vanishing, unreadable and malformed entries ----------------------------------


def _fake_proc(root: Path) -> None:
    (root / "stat").write_bytes(
        b"cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0 0 0\nbtime 1767000000\n"
    )
    (root / "meminfo").write_bytes(
        b"MemTotal: 1000 kB\nMemFree: 100 kB\nMemAvailable: 400 kB\nBuffers: 20 kB\n"
        b"Cached: 200 kB\nSwapCached: 10 kB\nShmem: 30 kB\nSReclaimable: 80 kB\n"
        b"SwapTotal: 200 kB\nSwapFree: 150 kB\n"
    )
    (root / "uptime").write_bytes(b"123.45 200.00\n")
    (root / "self").mkdir()
    for pid, comm in ((10, b"ok) (x"), (11, b"nocmd"), (12, b"gone"), (13, b"bad")):
        d = root / str(pid)
        d.mkdir()
        (d / "stat").write_bytes(f"{pid} (".encode() + comm + b")" + _TAIL)
        (d / "statm").write_bytes(b"100 50 7 1 0 20 0\n")
        (d / "cmdline").write_bytes(b"/bin/ok\0--flag\0\x1b]0;t\x07\0")
    (root / "11" / "cmdline").unlink()  # unreadable cmdline -> ""
    (root / "11" / "statm").unlink()  # unreadable statm -> shared None
    (root / "12" / "stat").unlink()  # vanished between listdir and read
    (root / "13" / "stat").write_bytes(b"13 (bad")  # truncated
    (root / "14").mkdir()  # a directory without anything


def test_fake_proc_vanishing_and_malformed(tmp_path: Path) -> None:
    _fake_proc(tmp_path)
    s = ProcSampler(str(tmp_path))
    try:
        snap = s.sample()
        by_pid = {p.pid: p for p in snap.processes}
        assert sorted(by_pid) == [10, 11]
        p10 = by_pid[10]
        assert p10.comm == "ok) (x" and p10.cmdline == "/bin/ok --flag ^[]0;t^G"
        # RES is statm's exact resident count, not stat field 24 (per-CPU batched, reads low)
        assert p10.shared == 7 * s.page_size and p10.rss == 50 * s.page_size
        assert by_pid[11].cmdline == "" and by_pid[11].shared is None
        assert by_pid[11].rss == 321 * s.page_size  # no statm: stat's figure, not nothing
        assert by_pid[11].command == "nocmd"
        assert any("13" in e for e in snap.errors)
        # htop: used = total - free - buffers - cached - SReclaimable; swap used - SwapCached
        assert snap.system.mem_total == 1000 * 1024 and snap.system.mem_used == 600 * 1024
        assert snap.system.swap_used == 40 * 1024 and snap.system.uptime == 123.45
        assert snap.system.cpu_percent == (20.0,) and snap.boot_time == 1767000000
        # the process vanishes completely; its caches go with it
        for f in (tmp_path / "10").iterdir():
            f.unlink()
        snap = s.sample()
        assert [p.pid for p in snap.processes] == [11]
        assert "10" not in s._last
    finally:
        s.close()


def test_memory_meter_matches_htop(tmp_path: Path) -> None:
    """/proc/meminfo of the dev machine while htop 3.2.2 showed ``Mem[... 182M/23.5G]``
    (pidtop showed total - MemAvailable: 431M/24G)."""
    _fake_proc(tmp_path)
    (tmp_path / "meminfo").write_bytes(
        b"MemTotal:       24684092 kB\nMemFree:        24157460 kB\n"
        b"MemAvailable:   24241688 kB\nBuffers:            5216 kB\n"
        b"Cached:           264452 kB\nSwapCached:            0 kB\n"
        b"SwapTotal:             0 kB\nSwapFree:              0 kB\n"
        b"Shmem:              8856 kB\nKReclaimable:      72096 kB\n"
        b"Slab:              99828 kB\nSReclaimable:      72072 kB\n"
    )
    s = ProcSampler(str(tmp_path))
    try:
        m = s.sample().system
        assert m.mem_used == (24684092 - 24157460 - 5216 - 264452 - 72072) * 1024
        assert f"{human_bytes(m.mem_used)}/{human_bytes(m.mem_total)}" == "181M/23.5G"
        # htop's fallback when the parts exceed the total (odd kernels, containers): total - free
        (tmp_path / "meminfo").write_bytes(
            b"MemTotal: 1000 kB\nMemFree: 100 kB\nCached: 950 kB\nSReclaimable: 10 kB\n"
        )
        assert s.sample().system.mem_used == 900 * 1024
    finally:
        s.close()


def test_permission_denied_fields_are_none(tmp_path: Path, monkeypatch) -> None:
    _fake_proc(tmp_path)
    s = ProcSampler(str(tmp_path))
    real_read = s._read

    def deny_statm(rel: str, size: int = 4096) -> bytes:
        if rel.endswith("statm"):
            raise PermissionError(13, "denied")
        return real_read(rel, size)

    monkeypatch.setattr(s, "_read", deny_statm)
    try:
        p = next(p for p in s.sample().processes if p.pid == 10)
        assert p.shared is None
    finally:
        s.close()


def test_cmdline_empty_inside_execve_is_read_again(tmp_path: Path) -> None:
    _fake_proc(tmp_path)
    (tmp_path / "10" / "cmdline").write_bytes(b"")  # execve in progress: no mm yet
    s = ProcSampler(str(tmp_path))
    try:
        for _ in range(3):  # past the first and second sightings
            assert next(p for p in s.sample().processes if p.pid == 10).cmdline == ""
        (tmp_path / "10" / "cmdline").write_bytes(b"/bin/new\0arg\0")
        stat = (tmp_path / "10" / "stat").read_bytes()
        (tmp_path / "10" / "stat").write_bytes(stat.replace(b" 17 9 ", b" 18 9 "))
        assert next(p for p in s.sample().processes if p.pid == 10).cmdline == "/bin/new arg"
    finally:
        s.close()
