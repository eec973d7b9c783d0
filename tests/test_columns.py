"""Issue 8's columns: the registry, set_columns/fields, each new column against /proc for a real
child, sorting, filtering, and the narrow-terminal drop order."""

from __future__ import annotations

import json
import os
import pty
import select
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sample import Child, find

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import COLUMN_BY_ID, COLUMNS, DEFAULT_COLUMNS, cell_text
from pidtop.sampling.extras import (
    IO_DENIED,
    OPTIONAL_FIELDS,
    cgroup_unit,
    parse_cgroup,
    tty_name,
)
from pidtop.sampling.layout import layout_columns
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.snapshot import ProcInfo, Snapshot, SystemInfo
from pidtop.sampling.table import ProcessTable

NEW = ("ppid", "tty", "start", "nlwp", "io_read", "io_write", "cgroup", "unit", "oom", "vcsw")
NEW += ("icsw",)


@pytest.fixture
def sampler() -> Iterator[ProcSampler]:
    s = ProcSampler()
    yield s
    s.close()


def _row(table: ProcessTable, pid: int):
    return next(r for r in table.all_rows() if r.info.pid == pid and not r.info.is_thread)


# -- the registry and the API the setup screen and config use ----------------------------------


def test_registry_and_set_columns() -> None:
    assert set(NEW) <= {c.id for c in COLUMNS}
    assert not any(COLUMN_BY_ID[i].default_visible for i in NEW)  # htop's default set stays
    t = ProcessTable()
    assert t.fields == frozenset()
    t.set_columns(["pid", "io_read", "unit", "command"])
    assert [c.id for c in t.columns] == ["pid", "io_read", "unit", "command"]
    assert t.fields == {"io", "cgroup"}
    for bad in ([], ["pid", "pid"], ["pid", "nope"]):
        with pytest.raises(ValueError):
            t.set_columns(bad)
    assert [c.id for c in t.columns] == ["pid", "io_read", "unit", "command"]  # unchanged
    t.set_columns(DEFAULT_COLUMNS)
    t.sort_by("oom")  # sorting by a hidden column reads its field too
    assert t.fields == {"oom"}


#: the files the optional columns read (I/O, cgroup, OOM score, context switches)
OPTIONAL_FILES = frozenset({"io", "cgroup", "oom_score", "status"})
_opened: list[str] | None = None  # the basenames opened while a sample is recorded


def _audit(event: str, args: tuple[object, ...]) -> None:
    if event == "open" and _opened is not None:  # os.open and open(): the file's name
        _opened.append(os.fsdecode(args[0]).rsplit("/", 1)[-1] if args[0] is not None else "")


sys.addaudithook(_audit)  # for the whole session (cannot be removed): records only on demand


def _files_opened(sampler: ProcSampler, fields: frozenset[str]) -> set[str]:
    global _opened
    _opened = []
    try:
        sampler.sample(fields=fields)
        return set(_opened)
    finally:
        _opened = None


def test_hidden_columns_read_nothing(sampler: ProcSampler) -> None:
    """With the default columns the sampler opens none of the optional columns' files (seen
    by an audit hook on every open), in the first sample and the next; with those columns
    shown it opens each of them (so the hook does see them) and fills the fields."""
    default = ProcessTable().fields
    for _ in range(2):
        opened = _files_opened(sampler, default)
        assert "stat" in opened and not opened & OPTIONAL_FILES, opened
    snap = sampler.sample(fields=default)
    assert all(
        p.io_read is None and p.cgroup is None and p.oom_score is None
        and p.ctxsw_voluntary is None
        for p in snap.processes
    )  # fmt: skip
    table = ProcessTable()
    table.set_columns([*DEFAULT_COLUMNS[:-1], *NEW, "command"])
    shown = ProcSampler()
    try:
        assert _files_opened(shown, table.fields) >= OPTIONAL_FILES
    finally:
        shown.close()


# -- each new column against /proc for a real child --------------------------------------------


def _status(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise AssertionError(key)


def test_new_columns_match_proc_for_a_real_child(sampler: ProcSampler) -> None:
    """A child with 2 extra threads, idle on a pipe: every new column equals what /proc says."""
    code = (
        "import os, sys, threading\nev = threading.Event()\n"
        "[threading.Thread(target=ev.wait, daemon=True).start() for _ in range(2)]\n"
    )
    child = Child(code)
    table = ProcessTable()
    table.set_columns([*DEFAULT_COLUMNS[:-1], *NEW, "command"])
    try:
        pid = child.pid
        table.update(sampler.sample(fields=table.fields))
        snap = sampler.sample(fields=table.fields)
        table.update(snap)
        p = find(snap, pid)
        assert p is not None
        row = _row(table, pid)
        stat = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
        assert p.ppid == os.getpid() == int(stat[1]) and cell_text(row, "ppid") == str(os.getpid())
        assert p.num_threads == 3 == _status(pid, "Threads") and cell_text(row, "nlwp") == "3"
        assert p.tty_nr == int(stat[4])
        assert p.starttime == int(stat[19])
        start = snap.boot_time + p.starttime / snap.clk_tck
        assert abs(start - time.time()) < 120  # started just now (boot time from /proc/stat)
        assert cell_text(row, "start", snapshot=snap) == time.strftime(
            "%H:%M", time.localtime(start)
        )
        io = dict(line.split(": ") for line in Path(f"/proc/{pid}/io").read_text().splitlines())
        assert (p.io_read, p.io_write) == (int(io["read_bytes"]), int(io["write_bytes"]))
        assert row.io_read_rate == 0.0 and row.io_write_rate == 0.0  # it did no I/O itself
        cg = parse_cgroup(Path(f"/proc/{pid}/cgroup").read_bytes())
        assert p.cgroup == cg and cell_text(row, "cgroup") == cg
        assert cell_text(row, "unit") == (cgroup_unit(cg) or "-")
        assert p.oom_score == int(Path(f"/proc/{pid}/oom_score").read_text())
        assert p.ctxsw_voluntary == _status(pid, "voluntary_ctxt_switches")
        assert p.ctxsw_involuntary == _status(pid, "nonvoluntary_ctxt_switches")
        for col in NEW:  # every new column sorts and finds the child's row again
            table.sort_by(col)
            assert table.index_of(p.key) is not None
    finally:
        child.finish()


def test_io_rate_of_a_real_writer(sampler: ProcSampler, tmp_path: Path) -> None:
    """The write rate of a child that wrote 8 MiB (fsync) between two samples: its
    /proc/PID/io write_bytes delta over the sample interval."""
    code = (
        "import os, sys\nfor line in sys.stdin:\n"
        "    with open(line.strip(), 'wb') as f:\n"
        "        f.write(os.urandom(8 << 20)); f.flush(); os.fsync(f.fileno())\n"
        "    print('done', flush=True)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    table = ProcessTable()
    table.set_columns(["pid", "io_read", "io_write", "command"])
    try:
        assert proc.stdin is not None and proc.stdout is not None
        for _ in range(2):
            table.update(sampler.sample(fields=table.fields))
        before = find(table.snapshot, proc.pid)  # type: ignore[arg-type]
        assert before is not None and before.io_write is not None and before.io_write >= 0
        proc.stdin.write(f"{tmp_path / 'out'}\n".encode())
        proc.stdin.flush()
        assert select.select([proc.stdout], [], [], 30)[0], "no write within 30 s"
        assert proc.stdout.readline().strip() == b"done"
        t0 = table.snapshot.time  # type: ignore[union-attr]
        snap = sampler.sample(fields=table.fields)
        table.update(snap)
        after = find(snap, proc.pid)
        assert after is not None and after.io_write is not None
        assert after.io_write - before.io_write >= 8 << 20
        row = _row(table, proc.pid)
        assert row.io_write_rate == pytest.approx(
            (after.io_write - before.io_write) / (snap.time - t0)
        )
        assert cell_text(row, "io_write") not in ("-", "0", "no perm")
        table.sort_by("io_write")
        assert table.rows[0].info.pid == proc.pid
    finally:
        proc.kill()
        proc.wait()
        for f in (proc.stdin, proc.stdout):
            if f is not None:
                f.close()


def test_tty_of_a_child_on_a_pty(sampler: ProcSampler) -> None:
    """A child whose controlling terminal is a fresh pty: TTY reads pts/N like ps."""
    pid, fd = pty.fork()
    if pid == 0:  # pragma: no cover - the child
        os.write(1, b"R")
        time.sleep(60)
        os._exit(0)
    try:
        assert select.select([fd], [], [], 20)[0] and os.read(fd, 1) == b"R"
        p = find(sampler.sample(), pid)
        assert p is not None and p.tty_nr != 0
        want = os.ttyname(fd).removeprefix("/dev/")  # the master; the slave has the same N
        table = ProcessTable()
        table.update(sampler.sample())
        name = cell_text(_row(table, pid), "tty")
        assert name.startswith("pts/")
        ps = subprocess.run(["ps", "-o", "tty=", "-p", str(pid)], capture_output=True, text=True)
        if ps.returncode == 0:
            assert ps.stdout.strip() == name
        assert want  # ttyname of the master works (ptmx); the name compared is ps's
    finally:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
        os.close(fd)


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to become another user")
def test_io_no_perm_for_another_users_process() -> None:
    """Sampled as uid 65534 (setpriv-like: a child that drops to nobody), PID 1's
    /proc/1/io is unreadable: "no perm", sorted below every readable value."""
    code = (
        "import os, json\n"
        "from pidtop.sampling.columns import COLUMN_BY_ID, cell_text\n"
        "from pidtop.sampling.sampler import ProcSampler\n"
        "from pidtop.sampling.table import ProcessTable\n"
        "import ctypes\nos.setgid(65534); os.setuid(65534)\n"
        "ctypes.CDLL(None).prctl(4, 1, 0, 0, 0)  # PR_SET_DUMPABLE: its own files readable\n"
        "s = ProcSampler(); t = ProcessTable(columns=['pid', 'io_read', 'command'])\n"
        "t.update(s.sample(fields=t.fields)); t.update(s.sample(fields=t.fields))\n"
        "r1 = next(r for r in t.all_rows() if r.info.pid == 1)\n"
        "me = next(r for r in t.all_rows() if r.info.pid == os.getpid())\n"
        "print(json.dumps([r1.info.io_read, cell_text(r1, 'io_read'), cell_text(me, 'io_read'),"
        " COLS.raw(r1)]))\n"
    ).replace(
        "COLS", "__import__('pidtop.sampling.columns').sampling.columns.COLUMN_BY_ID['io_read']"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
        cwd="/",
    )
    assert out.returncode == 0, out.stderr
    io1, text1, mine, raw1 = json.loads(out.stdout)
    assert io1 == IO_DENIED and text1 == "no perm" and raw1 is None
    assert mine not in ("no perm", "-")


# -- model behaviour on hand-made snapshots ------------------------------------------------------


def _info(pid: int, **kw: object) -> ProcInfo:
    base: dict[str, object] = dict(
        pid=pid, tgid=pid, ppid=1, starttime=pid, state="S", comm=f"p{pid}", cmdline=f"p{pid}",
        uid=0, user="root", priority=20, nice=0, num_threads=1, vsize=0, rss=0, shared=0,
        utime=0, stime=0,
    )  # fmt: skip
    base.update(kw)
    return ProcInfo(**base)  # type: ignore[arg-type]


def _snap(t: float, *procs: ProcInfo) -> Snapshot:
    system = SystemInfo((0.0,), 1 << 30, 0, 0, 0, (0.0, 0.0, 0.0), 1.0, 1)
    return Snapshot(time=t, wall=t, processes=procs, system=system)


def test_io_rates_from_deltas() -> None:
    t = ProcessTable(columns=["pid", "io_read", "io_write", "command"])
    a = _info(10, io_read=1000, io_write=0)
    denied = _info(11, io_read=IO_DENIED, io_write=IO_DENIED)
    t.update(_snap(0.0, a, denied))
    r10 = t.get(a.key)
    assert r10 is not None and r10.io_read_rate is None and cell_text(r10, "io_read") == "-"
    t.update(_snap(2.0, _info(10, io_read=1000 + 4 * 1024 * 1024, io_write=2048), denied))
    assert r10.io_read_rate == 2 * 1024 * 1024 and r10.io_write_rate == 1024
    assert cell_text(r10, "io_read") == "2.00M" and cell_text(r10, "io_write") == "1K"
    r11 = t.get(denied.key)
    assert r11 is not None and cell_text(r11, "io_read") == "no perm"
    t.update(_snap(3.0, r10.info, denied))  # the same object: it did not run
    assert r10.io_read_rate == 0.0 and cell_text(r10, "io_read") == "0"
    t.sort_by("io_read")
    assert [r.info.pid for r in t.rows] == [10, 11]  # "no perm" sorts below 0


def test_filter_matches_visible_text_columns_only() -> None:
    src = ScriptedSource()
    t = ProcessTable()
    t.update(src.sample(fields=OPTIONAL_FIELDS))
    t.set_filter("session-5")
    assert t.rows == []  # UNIT hidden: the filter looks at the command only
    t.set_columns([*DEFAULT_COLUMNS[:-1], "unit", "command"])
    assert {cell_text(r, "unit") for r in t.rows} == {"session-5.scope"}
    assert {r.info.user for r in t.rows} == {"bob", "root"}  # bob's shells and sshd: bob [priv]
    t.set_filter("pts/0")
    assert [r.info.pid for r in t.rows] == [1105]  # "sshd: alice@pts/0" by its command
    t.set_columns(["pid", "tty", "command"])
    assert {1105, 1106, 1200} <= {r.info.pid for r in t.rows}  # -bash, vim on pts/0 too
    assert {r.info.user for r in t.rows} == {"alice"}


def test_scripted_source_fills_new_columns_deterministically() -> None:
    def texts() -> list[list[str]]:
        src = ScriptedSource()
        t = ProcessTable(columns=[*NEW, "command"])
        for _ in range(3):
            t.update(src.sample(fields=t.fields))
        return [[cell_text(r, c, snapshot=t.snapshot) for c in NEW] for r in t.rows]

    a = texts()
    assert a == texts()
    assert all("-" not in row[:4] for row in a)  # ppid tty start nlwp always known
    assert any(row[4] == "no perm" for row in a) and any(row[7] != "-" for row in a)


def test_helpers() -> None:
    assert (
        tty_name(0) == "?" and tty_name(136 << 8 | 3) == "pts/3" and tty_name(4 << 8 | 1) == "tty1"
    )
    assert tty_name(4 << 8 | 64) == "ttyS0"
    hybrid = b"9:name=systemd:/\n4:memory:/process_api/4a58\n1:cpu:/\n0::/\n"
    assert parse_cgroup(hybrid) == "/process_api/4a58"
    assert parse_cgroup(b"0::/system.slice/ssh.service\n") == "/system.slice/ssh.service"
    assert parse_cgroup(b"0::/\n") == "/"
    assert cgroup_unit("/system.slice/docker-0123456789abcdef0123.scope") == "docker 0123456789ab"
    assert cgroup_unit("/user.slice/user-1000.slice/session-3.scope") == "session-3.scope"
    assert cgroup_unit("/") == ""


# -- narrow terminals ---------------------------------------------------------------------------


def _ids(width: int, columns: list[str] | None = None, gutter: int = 0) -> list[str]:
    cols = [COLUMN_BY_ID[i] for i in (columns or DEFAULT_COLUMNS)]
    return [p.column.id for p in layout_columns(cols, width, gutter)]


@pytest.mark.parametrize("width", [200, 80, 70, 60, 50, 40, 34])
def test_narrow_keeps_cpu_mem_time_and_cuts_the_command_first(width: int) -> None:
    ids = _ids(width)
    assert {"pid", "cpu", "mem", "time", "command"} <= set(ids)
    placed = layout_columns([COLUMN_BY_ID[i] for i in DEFAULT_COLUMNS], width)
    assert placed[-1].x + placed[-1].width <= width
    # what goes first: PRI, NI, SHR, VIRT (htop's least looked-at), then S, USER, RES
    order = ["pri", "ni", "shr", "virt", "s", "user", "res"]
    dropped = [i for i in order if i not in ids]
    assert dropped == order[: len(dropped)]


def test_narrow_widths_by_example() -> None:
    assert _ids(80) == list(DEFAULT_COLUMNS)
    assert _ids(60) == ["pid", "user", "res", "s", "cpu", "mem", "time", "command"]
    assert _ids(40) == ["pid", "cpu", "mem", "time", "command"]
    assert _ids(30) == ["pid", "cpu", "mem", "command"]  # TIME+ only once COMMAND is at 4
    wide = [*DEFAULT_COLUMNS[:-1], "cgroup", "io_read", "command"]
    assert "cgroup" in _ids(100, wide)  # PRI, NI, SHR go first
    assert "cgroup" not in _ids(90, wide) and "io_read" in _ids(90, wide)
