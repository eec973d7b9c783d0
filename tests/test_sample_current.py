"""Issue 7 items 5-8: the sampler's USER, RES, command line and deleted-executable mark are the
kernel's current ones, for real children that change them while pidtop watches."""

from __future__ import annotations

import os
import pwd
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sample import Child, find

from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcInfo
from pidtop.sampling.table import ProcessTable

pytestmark = pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs Linux /proc")


@pytest.fixture
def sampler() -> Iterator[ProcSampler]:
    """A sampler that reads every process in full every 4 samples instead of every
    REFRESH_TICKS (32): the same mechanism, a shorter wait (a sample of a busy shared test
    machine's /proc can take 100-300 ms)."""
    s = ProcSampler()
    s.refresh_ticks = 4
    yield s
    s.close()


class Chatty(Child):
    """A Python child that runs ``setup``, prints READY, then for each line it reads runs
    ``on_line(line)`` and prints what it returns (the test waits for that answer)."""

    def __init__(self, setup: str, on_line: str) -> None:
        code = (
            f"import sys\n{setup}\ndef on_line(line):\n    {on_line}\n"
            "print('READY', flush=True)\n"
            "for line in sys.stdin:\n    print(on_line(line.strip()), flush=True)\n"
            "sys.exit(0)"
        )
        self.proc = subprocess.Popen(
            [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        assert select.select([self.proc.stdout], [], [], 20)[0], "no READY within 20 s"
        assert self.proc.stdout.readline().strip() == b"READY"


def _tell(child: Child, line: str) -> str:
    """Send a line to the child and return the line it answers (bounded by Child's pipes)."""
    assert child.proc.stdin is not None and child.proc.stdout is not None
    child.proc.stdin.write(line.encode() + b"\n")
    child.proc.stdin.flush()
    return child.proc.stdout.readline().decode().strip()


def _until(sampler: ProcSampler, pid: int, ok, table: ProcessTable | None = None) -> ProcInfo:
    """Sample until ``ok(info)``; at most ``refresh_ticks`` + 1 samples (the sampler's bound:
    every process is read in full once every ``refresh_ticks`` samples even if it never runs)."""
    info = None
    bound = sampler.refresh_ticks + 1
    for _ in range(bound):
        snap = sampler.sample()
        if table is not None:
            table.update(snap)
        info = find(snap, pid)
        assert info is not None
        if ok(info):
            return info
    raise AssertionError(f"not current after {bound} samples: {info}")


@pytest.mark.skipif(os.geteuid() != 0, reason="setuid to another user needs root")
def test_user_follows_a_uid_change(sampler: ProcSampler) -> None:
    """A root child drops to nobody (uid 65534) after pidtop has seen it: USER and the -u/u
    filter follow (it stayed 'root' for the life of the process)."""
    child = Chatty("import os", "os.setuid(65534); return 'DONE'")
    try:
        nobody = pwd.getpwuid(65534).pw_name
        table = ProcessTable()
        for _ in range(3):  # seen (and cached) as root: past the first and second sightings
            table.update(sampler.sample())
        p = find(table.snapshot, child.pid)  # type: ignore[arg-type]
        assert p is not None and (p.uid, p.user) == (0, "root")
        assert _tell(child, "go") == "DONE"
        p = _until(sampler, child.pid, lambda i: i.uid == 65534, table)
        assert p.user == nobody
        status = Path(f"/proc/{child.pid}/status").read_text()
        assert "Uid:\t65534\t65534\t65534\t65534" in status  # what the kernel says
        table.set_user(nobody)
        assert table.index_of(p.key) is not None
        table.set_user("root")
        assert table.index_of(p.key) is None
    finally:
        child.finish()


def _vmrss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


def test_res_is_exact_vmrss(sampler: ProcSampler) -> None:
    """RES of a child with 100 MiB touched equals /proc/PID/status VmRSS to the byte (stat
    field 24 read 128 kB low here: per-CPU batched), SHR <= RES, and MEM% follows."""
    child = Child("import sys\nm = b'\\x01' * (100 << 20)")
    try:
        os.kill(child.pid, signal.SIGSTOP)  # stopped: its memory cannot move (READY is
        os.waitid(os.P_PID, child.pid, os.WSTOPPED | os.WNOWAIT)  # printed before it blocks)
        snap = sampler.sample()
        p = find(snap, child.pid)
        assert p is not None and p.shared is not None
        assert p.rss == _vmrss(child.pid)
        assert p.rss > 100 << 20 and p.shared <= p.rss
        table = ProcessTable()
        table.update(snap)
        row = table.get(p.key)
        assert row is not None
        assert row.mem == pytest.approx(100.0 * _vmrss(child.pid) / snap.system.mem_total)
    finally:
        os.kill(child.pid, signal.SIGCONT)
        child.finish()


_REWRITE = """
import time
def spin():
    t = time.process_time()
    while time.process_time() - t < 0.03:
        pass
    return 'spun'
def rewrite(title):
    f = open('/proc/self/stat', 'rb').read().rpartition(b')')[2].split()
    start, end = int(f[45]), int(f[46])  # arg_start, arg_end (fields 48, 49)
    data = title.encode()[: end - start - 1].ljust(end - start, b'\\0')
    with open('/proc/self/mem', 'r+b', buffering=0) as mem:
        mem.seek(start)
        mem.write(data)
"""


def test_command_line_rewritten_at_run_time_becomes_current(sampler: ProcSampler) -> None:
    """A child that writes over its argv memory (what postgres, nginx and setproctitle do): the
    COMMAND column shows the new title (it was read once and frozen)."""
    child = Chatty(_REWRITE, "return spin() if line == 'spin' else rewrite(line) or 'OK'")
    try:
        before = find(sampler.sample(), child.pid)
        for _ in range(2):  # changed twice (it ran for 30 ms): past the second sighting
            assert _tell(child, "spin") == "spun"
            p = find(sampler.sample(), child.pid)
            assert p is not None and p is not before and p.cmdline.startswith(sys.executable)
            before = p
        assert _tell(child, "postgres: alice db 127.0.0.1 idle") == "OK"
        p = _until(sampler, child.pid, lambda i: i.cmdline.startswith("postgres:"))
        assert p.cmdline == "postgres: alice db 127.0.0.1 idle"
        raw = Path(f"/proc/{child.pid}/cmdline").read_bytes()
        assert raw.rstrip(b"\0").decode() == p.cmdline  # what ps shows
    finally:
        child.finish()


def test_deleted_executable_is_marked(sampler: ProcSampler, tmp_path: Path) -> None:
    """A process whose executable file is deleted while it runs (an upgraded daemon)."""
    exe = tmp_path / "sleep-copy"
    shutil.copy2(shutil.which("sleep") or "/bin/sleep", exe)
    proc = subprocess.Popen([str(exe), "1000"])
    try:
        p = _until(sampler, proc.pid, lambda i: i.cmdline.endswith("1000"))
        assert not p.exe_deleted
        assert not find(sampler.sample(), os.getpid()).exe_deleted  # type: ignore[union-attr]
        exe.unlink()
        assert os.readlink(f"/proc/{proc.pid}/exe").endswith(" (deleted)")
        p = _until(sampler, proc.pid, lambda i: i.exe_deleted)
        assert p.state in "SR"
    finally:
        proc.kill()
        proc.wait()


def test_refresh_keeps_the_same_object_when_nothing_changed(sampler: ProcSampler) -> None:
    """The full read on a process's refresh turn returns the previous ProcInfo object when
    nothing changed (the table and view skip unchanged rows with an ``is`` check)."""
    child = Child("import sys")
    try:
        first = find(sampler.sample(), child.pid)
        seen = {id(find(sampler.sample(), child.pid)) for _ in range(sampler.refresh_ticks + 2)}
        assert first is not None and seen == {id(find(sampler.sample(), child.pid))}
    finally:
        child.finish()


def test_each_process_is_refreshed_once_per_turn_and_a_gone_one_leaves_its_turn(
    sampler: ProcSampler, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The refresh turns are lists (less memory than sets): a PID listed twice (a reused PID
    seen as a new identity before its turn) is still read once a turn, and a PID gone from
    /proc is dropped from its turn."""
    child = Child("import sys")
    try:
        sampler.sample()
        sampler.sample()  # the turns are made at the second
        every = sampler.refresh_ticks
        turn = sampler._turns[child.pid % every]
        turn.append(child.pid)  # as a newcomer with a reused PID would be listed again
        turn.append(4_000_001)  # a PID no process has (PID_MAX_LIMIT is 4,194,304)
        refreshed: list[str] = []
        real = sampler._refresh
        monkeypatch.setattr(sampler, "_refresh", lambda n, i: (refreshed.append(n), real(n, i)))
        for _ in range(every):
            sampler.sample()
        assert refreshed.count(str(child.pid)) == 1
        assert "4000001" not in refreshed
        assert turn.count(child.pid) == 1 and 4_000_001 not in turn
    finally:
        child.finish()
