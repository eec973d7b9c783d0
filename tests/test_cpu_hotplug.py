"""Per-CPU meters are keyed by CPU number (issue 7, item 8): an offline CPU has no line in
/proc/stat, so list positions paired one CPU's counters with another's and labelled CPU 2 as
"1". Taking a CPU of this shared 2-CPU machine offline would disturb everything else running
on it, so /proc/stat is given as text here (the parser is the real one); the live path is the
same SystemReader the sampler uses."""

from __future__ import annotations

from textual.app import App, ComposeResult

from pidtop.sampling.rows import TaskCounts
from pidtop.sampling.snapshot import Snapshot, SystemInfo
from pidtop.sampling.system import SystemReader
from pidtop.ui.widgets.meters import Meters


def stat(cpus: dict[int, tuple[int, int]]) -> bytes:
    """/proc/stat with ``cpu N`` lines: N -> (busy, idle) jiffies."""
    lines = [b"cpu  0 0 0 0 0 0 0 0 0 0"]
    for n, (busy, idle) in cpus.items():
        lines.append(f"cpu{n} {busy} 0 0 {idle} 0 0 0 0 0 0".encode())
    lines.append(b"btime 1700000000")
    return b"\n".join(lines) + b"\n"


def reader(texts: list[bytes]) -> SystemReader:
    files = {"meminfo": b"MemTotal: 1000 kB\nMemFree: 500 kB\n", "uptime": b"10.0 5.0\n"}

    def read_all(name: str) -> bytes:
        return texts.pop(0) if name == "stat" else files[name]

    return SystemReader(read_all, 4)


def test_a_cpu_going_offline_keeps_the_others_numbers_and_figures() -> None:
    samples = [
        stat({0: (100, 100), 1: (100, 100), 2: (100, 100), 3: (100, 100)}),
        # CPU 1 offline; CPU 2 fully busy (+100 busy), CPU 3 idle (+100 idle)
        stat({0: (150, 150), 2: (200, 100), 3: (100, 200)}),
    ]
    r = reader(samples)
    r.read([])
    info = r.read([])
    assert info.cpu_numbers() == (0, 2, 3)
    assert info.cpu_percent == (50.0, 100.0, 0.0)  # by position CPU 2 read 1's old counters


def test_a_cpu_back_online_with_reset_counters() -> None:
    samples = [
        stat({0: (100, 100), 1: (5000, 5000)}),
        stat({0: (200, 200)}),
        stat({0: (300, 300), 1: (10, 30)}),  # back, counters from its restart
    ]
    r = reader(samples)
    r.read([])
    r.read([])
    info = r.read([])
    assert info.cpu_numbers() == (0, 1)
    assert info.cpu_percent == (50.0, 25.0)  # not a negative delta clamped to 0


async def test_meters_label_bars_with_cpu_numbers() -> None:
    """CPUs 0 and 3 online: the bars read 0 and 3 (they read 0 and 1)."""
    info = SystemInfo((10.0, 90.0), 1 << 30, 1 << 29, 0, 0, (0.0, 0.0, 0.0), 1.0, 2, (0, 3))
    snap = Snapshot(time=1.0, wall=1.0, processes=(), system=info)

    class One(App[None]):
        def compose(self) -> ComposeResult:
            yield Meters()

    app = One()
    async with app.run_test(size=(100, 10)) as pilot:
        meters = app.query_one(Meters)
        meters.update_snapshot(snap, TaskCounts())
        await pilot.pause()
        lines = [meters.render_line(y).text for y in range(meters.size.height)]
        bars = [ln.strip()[:2] for ln in lines if "%]" in ln]
        assert bars[:2] == ["0[", "3["], lines
        assert "90.0%" in lines[1]
