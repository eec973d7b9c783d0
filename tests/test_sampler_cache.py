"""The sampler's per-process cache (keyed by PID, the stat's hash kept, not its bytes) and the
table's rows keyed by identity: a changed stat is parsed again, an unchanged one reuses the
ProcInfo, a PID reused by a new process is a new identity and a new row, a marked PID is read
again although its stat did not change."""

from __future__ import annotations

from pathlib import Path

import pytest

from pidtop.sampling.changes import COMMAND, ChangeFeed
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcInfo, Snapshot
from pidtop.sampling.table import ProcessTable

#  state ppid pgrp sess tty tpgid flags minflt cminflt majflt cmajflt UTIME STIME ... START
_STAT = (
    "{pid} ({comm}) S 1 1 1 0 -1 4194560 0 0 0 0 {utime} 9 0 0 20 0 1 0 {start} 12345678 "
    "321 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0\n"
)


def _proc(root: Path, pid: int, comm: str, cmdline: bytes, utime: int, start: int) -> None:
    d = root / str(pid)
    d.mkdir(exist_ok=True)
    (d / "stat").write_text(_STAT.format(pid=pid, comm=comm, utime=utime, start=start))
    (d / "statm").write_bytes(b"100 50 7 1 0 20 0\n")
    (d / "cmdline").write_bytes(cmdline)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    (tmp_path / "stat").write_bytes(b"cpu  10 0 10 80 0 0 0 0 0 0\ncpu0 10 0 10 80 0 0 0 0 0 0\n")
    (tmp_path / "meminfo").write_bytes(b"MemTotal: 1000 kB\nMemFree: 100 kB\n")
    (tmp_path / "uptime").write_bytes(b"123.45 200.00\n")
    _proc(tmp_path, 10, "one", b"/bin/one\0-a\0", 17, 4242)
    _proc(tmp_path, 11, "two", b"/bin/two\0", 5, 4300)
    return tmp_path


def _by_pid(snap: Snapshot) -> dict[int, ProcInfo]:
    return {p.pid: p for p in snap.processes}


def test_equal_numbers_read_in_one_pass_are_one_object(root: Path) -> None:
    """Start times, sizes and parents that many processes have in common (a program's workers
    started together) are one int object, not one per process (~0.14 MiB a field at +3,000);
    the numbers of the pass are not kept after it."""
    _proc(root, 12, "three", b"/bin/three\0", 5, 4300)  # started with 11: same start time
    (root / "13").mkdir()
    (root / "13" / "stat").write_text(_STAT.format(pid=13, comm="x", utime=0, start=9000)
                                      .replace(" S 1 ", " S 4000 "))  # fmt: skip
    (root / "14").mkdir()
    (root / "14" / "stat").write_text(_STAT.format(pid=14, comm="y", utime=0, start=9001)
                                      .replace(" S 1 ", " S 4000 "))  # fmt: skip
    _proc(root, 15, "two", b"/bin/two\0", 5, 4400)  # 11's program: same command line
    s = ProcSampler(str(root))
    try:
        a = _by_pid(s.sample())
        assert a[11].cmdline is a[15].cmdline
        assert s._last["11"].cmdline_hash is s._last["15"].cmdline_hash
        two, three = a[11], a[12]
        assert two.starttime == three.starttime == 4300 and two.starttime is three.starttime
        assert two.vsize == three.vsize and two.vsize is three.vsize
        assert two.rss is three.rss and two.shared is three.shared
        assert a[13].ppid == a[14].ppid == 4000 and a[13].ppid is a[14].ppid
        assert not s._ints
    finally:
        s.close()


def test_changed_stat_is_parsed_again_unchanged_reuses(root: Path) -> None:
    s = ProcSampler(str(root))
    try:
        a = _by_pid(s.sample())
        _proc(root, 10, "one", b"/bin/one\0-b\0", 18, 4242)  # it ran, rewrote its argv
        b = _by_pid(s.sample())
        assert b[10] is not a[10] and b[10].utime == 18 and b[10].cmdline == "/bin/one -b"
        assert b[11] is a[11]  # unchanged: the same object
        # only what tells "unchanged" is kept, not the stat bytes
        assert not any(isinstance(entry.stat_hash, bytes) for entry in s._last.values())
        _proc(root, 10, "one", b"/bin/one\0-b\0", 17, 4242)  # back to the first bytes
        c = _by_pid(s.sample())
        assert c[10] is not b[10] and c[10].utime == 17
        assert c[10].cmdline is b[10].cmdline  # the same argv bytes: not decoded again
    finally:
        s.close()


def test_reused_pid_is_a_new_identity_and_a_new_row(root: Path) -> None:
    s = ProcSampler(str(root))
    table = ProcessTable()
    try:
        table.update(s.sample())
        old_key = (10, 4242)
        assert table.get(old_key) is not None
        # PID 10 exits, a new process gets PID 10 (a later start time)
        _proc(root, 10, "new", b"/bin/new\0", 0, 9999)
        snap = s.sample()
        new = _by_pid(snap)[10]
        assert (new.comm, new.cmdline, new.starttime) == ("new", "/bin/new", 9999)
        table.update(snap)
        row = table.get((10, 9999))
        assert row is not None and row.status == "new" and row.info is new
        assert table.get(old_key) is not None and table.get(old_key).status == "dying"  # type: ignore[union-attr]
        # the rows' dict is keyed by each row's own key object (built once per row)
        assert all(key is r.key for key, r in table._rows.items())
        table.update(s.sample())
        assert table.get(old_key) is None and table.get((10, 9999)).status == "normal"  # type: ignore[union-attr]
        assert all(key is r.key for key, r in table._rows.items())
    finally:
        s.close()


def test_marked_pid_is_read_again_with_the_same_stat(root: Path) -> None:
    feed = ChangeFeed()
    feed.live = True
    s = ProcSampler(str(root), feed=feed)
    try:
        a = _by_pid(s.sample())
        (root / "10" / "cmdline").write_bytes(b"/bin/renamed\0")  # stat unchanged
        assert _by_pid(s.sample())[10] is a[10]  # no event: not read (the refresh turn will)
        feed.mark(10, COMMAND)
        b = _by_pid(s.sample())
        assert b[10].cmdline == "/bin/renamed" and b[11] is a[11]
        assert _by_pid(s.sample())[10] is b[10]  # and reused again after
    finally:
        s.close()


def test_equal_names_and_command_lines_are_one_string_each(root: Path) -> None:
    """Many processes of one program (workers, the benchmark's sleeps): their comm and command
    line texts are one object each, not one per process; a process that rewrites its argv gets
    its own text, and the others keep the shared one."""
    _proc(root, 12, "one", b"/bin/one\0-a\0", 3, 4400)
    s = ProcSampler(str(root))
    try:
        a = _by_pid(s.sample())
        assert a[12].comm == a[10].comm == "one" and a[12].comm is a[10].comm
        assert a[12].cmdline == "/bin/one -a" and a[12].cmdline is a[10].cmdline
        _proc(root, 12, "one", b"/bin/one\0-z\0", 4, 4400)
        b = _by_pid(s.sample())
        assert b[12].cmdline == "/bin/one -z" and b[10].cmdline == "/bin/one -a"
        assert b[10] is a[10]
    finally:
        s.close()


def test_the_cache_keeps_one_object_per_process_and_no_stat_bytes(root: Path) -> None:
    """What the sampler keeps per process between passes: one identity object (its ProcInfo
    and the hash of the stat it came from), not a tuple per process rebuilt each pass; an
    unchanged process keeps the same one."""
    s = ProcSampler(str(root))
    try:
        s.sample()
        first = dict(s._last)
        s.sample()
        assert set(s._last) == {"10", "11"}
        for name, ident in s._last.items():
            assert ident is first[name]
            assert isinstance(ident.stat_hash, int)
            assert ident.info.pid == int(name)
    finally:
        s.close()
