"""Process details read through a verified handle: real children, exits, hostile paths."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from procs import wait_fd

from pidtop.demo.details import ScriptedDetails
from pidtop.demo.source import ScriptedSource
from pidtop.details.model import Details, Unavailable
from pidtop.details.openfiles import FdEntry
from pidtop.details.reader import ProcDetails
from pidtop.sampling.extras import cgroup_owner
from pidtop.sampling.history import History, sparkline

CHILD = """
import os, socket, sys
f = open(sys.argv[1], "rb")
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
os.write(1, b"ready\\n")
sys.stdin.read()
"""


@pytest.fixture
def child(tmp_path: Path):  # type: ignore[no-untyped-def]
    held = tmp_path / "held [file].txt"
    held.write_text("x")
    env = {**os.environ, "PIDTOP_I9_VAR": "[bold]value[/]"}
    p = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(held)],
        cwd=tmp_path,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert p.stdout is not None and wait_fd(p.stdout.fileno()), "child did not start"
    assert p.stdout.readline() == b"ready\n"
    yield p, tmp_path, held
    p.kill()
    p.wait()


def test_real_child_details(child) -> None:  # type: ignore[no-untyped-def]
    p, cwd, held = child
    src = ProcDetails()
    with src.open(p.pid, None) as h:
        d = src.read(h, None, full_memory=True)
        assert isinstance(d, Details)
        assert d.pid == p.pid and d.inode == h.inode and d.target == f"{p.pid}:{h.inode}"
        assert d.cwd == str(cwd) and not d.cwd_deleted
        assert d.exe == os.path.realpath(sys.executable) and not d.exe_deleted
        assert isinstance(d.argv, tuple) and d.argv[-1] == str(held)
        assert d.ppid == os.getpid() and d.parents[0].pid == os.getpid()
        assert d.state in "RS" and d.nice == 0 and d.policy == "SCHED_OTHER"
        assert d.affinity == tuple(sorted(os.sched_getaffinity(p.pid)))
        assert isinstance(d.full_memory, type(d.memory)) and d.full_memory.uss  # type: ignore[union-attr]
        assert not isinstance(d.limits, Unavailable) and any(
            lim.name == "open files" for lim in d.limits
        )
        assert not isinstance(d.namespaces, Unavailable) and all(n.shared for n in d.namespaces)
        again = src.read(h, d)
        assert again is not None and again.cpu is not None  # a rate needs a previous read
        env = src.environ(h)
        assert isinstance(env, dict) and env["PIDTOP_I9_VAR"] == "[bold]value[/]"
        files = src.files(h)
        assert isinstance(files, list)
        by_name = {f.name: f for f in files}
        assert by_name[str(held)].kind == "REG" and by_name[str(held)].mode == "r"
        assert any(f.kind == "IPv4" and "LISTEN" in f.name for f in files)
        # the process exits: every read is thrown away (never data of a recycled PID)
        p.kill()
        p.wait()
        assert src.read(h, d) is None
        assert src.environ(h) == Unavailable("exited")
        assert src.files(h) == Unavailable("exited")


def test_io_priority_is_the_kernels_and_read_without_psutil() -> None:
    """The I/O priority is ``ioprio_get`` by PID (as ``ionice -p`` says), asked without psutil
    (its import was most of a first details read: 30-60 ms); a process gone says so."""
    p = subprocess.Popen(["sleep", "60"])
    code = (
        "import sys; from pidtop.details.reader import ProcDetails\n"
        "src = ProcDetails()\n"
        f"h = src.open({p.pid}, None); d = src.read(h, None)\n"
        "print(d.ionice, 'psutil' in sys.modules)\n"
    )
    try:
        assert subprocess.run(["ionice", "-c", "2", "-n", "6", "-p", str(p.pid)]).returncode == 0
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert out.stdout.split("\n")[0] == "('best-effort', 6) False", out.stderr
        assert subprocess.run(["ionice", "-c", "3", "-p", str(p.pid)]).returncode == 0
        src = ProcDetails()
        with src.open(p.pid, None) as h:
            d = src.read(h, None)
            assert d is not None and isinstance(d.ionice, tuple) and d.ionice[0] == "idle"
            cls, level = psutil.Process(p.pid).ionice()  # what the reader asked before
            assert d.ionice == ("idle", level) and int(cls) == 3
            p.kill()
            p.wait()
            with pytest.raises(ProcessLookupError):
                ProcDetails._ionice(h)
    finally:
        p.kill()
        p.wait()


def test_deleted_exe_and_cwd_are_marked(tmp_path: Path) -> None:
    exe = tmp_path / "sleep-copy"
    shutil.copy("/bin/sleep", exe)
    work = tmp_path / "gone"
    work.mkdir()
    p = subprocess.Popen([str(exe), "60"], cwd=work)
    try:
        src = ProcDetails()
        with src.open(p.pid, None) as h:
            exe.unlink()
            work.rmdir()
            d = src.read(h, None)
            assert d is not None
            assert (d.exe, d.exe_deleted) == (str(exe), True)
            assert (d.cwd, d.cwd_deleted) == (str(work), True)
    finally:
        p.kill()
        p.wait()


def test_open_refuses_another_process() -> None:
    from pidtop.kernel.errors import IdentityMismatch

    p = subprocess.Popen(["sleep", "60"])
    try:
        with pytest.raises(IdentityMismatch):
            ProcDetails().open(p.pid, starttime=1)
    finally:
        p.send_signal(signal.SIGKILL)
        p.wait()


@pytest.mark.parametrize(
    ("path", "unit", "container"),
    [
        ("/system.slice/ssh.service", "ssh.service", None),
        ("/user.slice/user-1000.slice/session-3.scope", "session-3.scope", None),
        (
            "/system.slice/docker-0123456789abcdef0123.scope",
            "docker-0123456789abcdef0123.scope",
            "docker 0123456789ab",
        ),
        ("/docker/fedcba9876543210", None, "docker fedcba987654"),
        (
            "/machine.slice/libpod-aaaabbbbccccdddd.scope",
            "libpod-aaaabbbbccccdddd.scope",
            "podman aaaabbbbcccc",
        ),
        ("/lxc.payload.web1/init.scope", "init.scope", "lxc web1"),
        ("/", None, None),
    ],
)
def test_cgroup_owner(path: str, unit: str | None, container: str | None) -> None:
    assert cgroup_owner(path) == (unit, container)


def test_scripted_details_are_deterministic() -> None:
    def one() -> tuple[Details | None, object, object]:
        source = ScriptedSource()
        source.sample()
        src = ScriptedDetails(source)
        h = src.open(1400, None) if source.info_of(1400) else src.open(1, None)
        return src.read(h, None), src.environ(h), src.files(h)

    a, b = one(), one()
    assert a == b and a[0] is not None
    files = a[2]
    assert isinstance(files, list) and all(isinstance(f, FdEntry) for f in files)


def test_history_is_bounded_and_forgets() -> None:
    h = History(points=3)
    for i in range(5):
        h.record([((1, 10), float(i), 4096 * i), ((2, 20), 1.0, 0)], when=float(i))
    cpu, rss, since = h.series((1, 10))
    assert cpu == [2.0, 3.0, 4.0] and rss == [8192.0, 12288.0, 16384.0] and since == 0.0
    h.record([((2, 20), 1.0, 0)], when=9.0)
    assert h.series((1, 10)) == ([], [], None) and len(h) == 1
    assert sparkline([0.0, 50.0, 100.0], 10) == "▁▅█"
    assert sparkline([0.0, 0.0], 1) == "▁"


@pytest.mark.parametrize("path", ["record", "record_changes"])
def test_history_keeps_one_run_for_processes_first_seen_alike(path: str) -> None:
    """Processes first seen in one record with the same pair (a program's idle workers) share
    one kept run (~72 B a process at +3,000); each still has its own series once it changes.
    Both ways in: every row (a replay), or the rows that changed (the live monitor)."""
    h = History(points=3)

    def record(rows: list[tuple[tuple[int, int], float, int]], when: float) -> None:
        if path == "record":
            h.record(rows, when=when)
        else:
            h.record_changes([r for r in rows if r[0] != (1, 10) or when == 5.0], (), when)

    record([((1, 10), 0.0, 8192), ((2, 20), 0.0, 8192), ((3, 30), 0.0, 4096)], when=5.0)
    assert h._data[(1, 10)] is h._data[(2, 20)] and h._data[(3, 30)] is not h._data[(1, 10)]
    record([((1, 10), 0.0, 8192), ((2, 20), 2.0, 8192), ((3, 30), 0.0, 4096)], when=6.0)
    assert h.series((1, 10)) == ([0.0, 0.0], [8192.0, 8192.0], 5.0)
    assert h.series((2, 20)) == ([0.0, 2.0], [8192.0, 8192.0], 5.0)


def test_history_of_unchanged_values_gives_the_same_series_as_one_kept_point_by_point() -> None:
    """A process whose values have not changed is kept as one pair and a count (idle processes:
    ~0.1 KB instead of ~1.1 KB at 100 points); its series is what the arrays would hold, also
    after it starts to change, reaches the bound, or leaves and comes back."""
    import random
    from array import array

    def reference(rows_per_tick: list[list[tuple[tuple[int, int], float, int]]], points: int):
        data: dict[tuple[int, int], tuple[array[float], array[float], float]] = {}
        for when, rows in enumerate(rows_per_tick):
            new = {}
            for key, cpu, rss in rows:
                cpus, rsss, first = data.get(key) or (array("f"), array("f"), float(when))
                cpus.append(cpu)
                rsss.append(rss / 1024.0)
                if len(cpus) > points:
                    del cpus[0]
                    del rsss[0]
                new[key] = (cpus, rsss, first)
            data = new
        return {k: (list(c), [v * 1024.0 for v in r], f) for k, (c, r, f) in data.items()}

    rng = random.Random(18)
    for trial in range(40):
        points = rng.choice((1, 2, 3, 5, 100))
        keys = [(pid, 7) for pid in range(1, 9)]
        values = {k: (rng.choice((0.0, 0.1, 33.3)), rng.choice((0, 4096, 1 << 33))) for k in keys}
        ticks = []
        for _ in range(rng.randrange(1, 130)):
            rows = []
            for k in keys:
                if rng.random() < 0.1:
                    continue  # gone this tick (back later as a new process)
                if rng.random() < 0.15:  # a value changes (or changes back)
                    values[k] = (rng.choice((0.0, 0.1, 33.3, 1e-9)), rng.choice((0, 4096, 5000)))
                rows.append((k, *values[k]))
            ticks.append(rows)
        h = History(points=points)
        for when, rows in enumerate(ticks):
            h.record(rows, float(when))
        want = reference(ticks, points)
        assert len(h) == len(want), trial
        for k in keys:
            assert h.series(k) == want.get(k, ([], [], None)), (trial, k)


MANY = """
import os, socket, sys, tempfile
d = tempfile.mkdtemp()
fds = [os.open("/proc/self/stat", os.O_RDONLY) for _ in range(1100)]
w = os.open(os.path.join(d, "w"), os.O_WRONLY | os.O_CREAT)
rw = os.open(os.path.join(d, "gone [x]"), os.O_RDWR | os.O_CREAT)
os.unlink(os.path.join(d, "gone [x]"))
path = os.open(d, os.O_PATH)
r, wp = os.pipe()
tcp = socket.socket(); tcp.bind(("127.0.0.1", 0)); tcp.listen()
udp6 = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM); udp6.bind(("::1", 0))
unix = socket.socket(socket.AF_UNIX); unix.bind(os.path.join(d, "sock"))
nl = socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, 0)
os.write(1, f"{tcp.getsockname()[1]} {udp6.getsockname()[1]} {d}\\n".encode())
sys.stdin.read()
"""


def _fdinfo_mode(pid: int, fd: int) -> str:
    """r / w / rw from fdinfo's access flags (the slow way read_fds no longer takes)."""
    flags = next(
        int(line.split()[1], 8)
        for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines()
        if line.startswith("flags:")
    )
    if flags & os.O_PATH:
        return ""  # opened for neither
    return {os.O_RDONLY: "r", os.O_WRONLY: "w", os.O_RDWR: "rw"}[flags & os.O_ACCMODE]


def test_open_files_of_a_process_with_1100_fds_are_all_listed_truly() -> None:
    """Every fd once, in order, each with the mode fdinfo's flags say, the type and name of
    what it is, and the endpoints of its sockets (only their protocols' tables are read)."""
    p = subprocess.Popen(
        [sys.executable, "-c", MANY], stdin=subprocess.PIPE, stdout=subprocess.PIPE
    )
    try:
        assert p.stdout is not None and wait_fd(p.stdout.fileno())
        tcp_port, udp_port, tmp = p.stdout.readline().decode().split()
        src = ProcDetails()
        with src.open(p.pid, None) as h:
            files = src.files(h)
            assert isinstance(files, list)
            fds = sorted(int(n) for n in os.listdir(f"/proc/{p.pid}/fd"))
            assert [f.fd for f in files] == fds and len(fds) > 1100
            for f in files:
                assert f.mode == _fdinfo_mode(p.pid, f.fd), f
            stats = [f for f in files if f.name == f"/proc/{p.pid}/stat"]
            assert len(stats) == 1100 and {(f.kind, f.mode) for f in stats} == {("REG", "r")}
            by_name = {f.name: f for f in files}
            assert (by_name[f"{tmp}/w"].kind, by_name[f"{tmp}/w"].mode) == ("REG", "w")
            gone = by_name[f"{tmp}/gone [x]"]
            assert (gone.kind, gone.mode, gone.deleted) == ("REG", "rw", True)
            assert (by_name[tmp].kind, by_name[tmp].mode) == ("DIR", "")  # O_PATH
            pipes = [f for f in files if f.fd > 2 and f.name.startswith("pipe:[")]
            assert sorted((f.kind, f.mode) for f in pipes) == [("FIFO", "r"), ("FIFO", "w")]
            assert by_name[f"TCP 127.0.0.1:{tcp_port} (LISTEN)"].kind == "IPv4"
            assert by_name[f"UDP [::1]:{udp_port}"].kind == "IPv6"
            assert by_name[f"{tmp}/sock"].kind == "unix"
            # a netlink socket has no table: shown as the kernel's link text
            assert sum(f.kind == "sock" and f.name.startswith("socket:[") for f in files) == 1
            # read in two passes (a screen's first page, then the rest): the same table
            head = src.files(h, 20)
            assert isinstance(head, list) and [f.fd for f in head] == fds
            assert head[:20] == files[:20] and all(f.mode is not None for f in head[:20])
            assert {(f.kind, f.mode, f.name) for f in head[20:]} == {(None, None, "")}  # pending
            assert src.complete_files(h, head) == files
    finally:
        p.kill()
        p.wait()
