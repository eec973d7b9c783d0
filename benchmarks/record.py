"""Issue-20 benchmark: what ``pidtop record`` costs, beside ``atop -w``; how fast a replay opens.

    python benchmarks/record.py [--procs 1000] [--seconds 300] [--interval 10] [--busy]
                                [--no-atop] [--replay-only] [--week-samples 60480]

Recorder: ``--procs`` extra processes are started (idle ``sleep``s; with ``--busy`` each wakes
every 0.2 s and burns ~1 ms, so every one changes at every sample); then ``pidtop record`` and
(if installed: ``apt-get install -y atop``) ``atop -w FILE INTERVAL`` run side by side for
``--seconds`` each in turn, and we measure each one's CPU (utime+stime of its process, as % of
one CPU over the window, the first sample's cost included) and the bytes its store grew after
the first sample, extrapolated to a day.

Replay: a synthetic week-long store (``--week-samples`` samples 10 s apart of 1,000 processes,
20 of them changing per sample and one new process a sample) is written once, then we time
opening a moment one day old (open the store, find the moment, rebuild it and the sample before
it: what ``pidtop --replay -1d`` does before its first frame) and stepping one sample (rebuild
two snapshots), median of 20.

Only processes this script started are stopped (by their own pids). Run it alone on the machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _idle import count_processes, idle_processes

CLK_TCK = os.sysconf("SC_CLK_TCK")
BUSY = "import time\nwhile True:\n    t = time.process_time() + 0.001\n    while time.process_time() < t: pass\n    time.sleep(0.2)\n"  # noqa: E501


def cpu_ticks(pid: int) -> int:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def du(path: Path) -> int:
    return sum(p.stat().st_size for p in path.parent.glob(path.name + "*") if p.is_file())


def samples(path: Path) -> int:
    from pidtop.record.reader import Reader

    reader = Reader(path)
    try:
        return len(reader)
    finally:
        reader.close()


def measure(argv: list[str], store: Path, seconds: float, interval: float) -> tuple[float, float]:
    """(CPU % of one CPU, bytes per day) of one recorder."""
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(min(interval, 5) + 1)  # past the first sample
        size0, ticks0, t0 = du(store), cpu_ticks(proc.pid), time.monotonic()
        time.sleep(seconds)
        size1, ticks1, t1 = du(store), cpu_ticks(proc.pid), time.monotonic()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    cpu = (ticks1 - ticks0) / CLK_TCK / (t1 - t0) * 100
    return cpu, (size1 - size0) / (t1 - t0) * 86400


def recorder(args: argparse.Namespace) -> None:
    with (
        tempfile.TemporaryDirectory(prefix="pidtop-rec-bench-") as tmp,
        idle_processes(0 if args.busy else args.procs),
    ):
        busy = []
        if args.busy:
            busy = [subprocess.Popen([sys.executable, "-c", BUSY]) for _ in range(args.procs)]
        try:
            print(f"{count_processes()} processes, interval {args.interval:g} s, "
                  f"{args.seconds:g} s each, {'busy' if args.busy else 'idle'}")  # fmt: skip

            def pidtop(db: Path) -> list[str]:
                return [sys.executable, "-m", "pidtop", "record", "--interval",
                        str(args.interval), "--db", str(db)]  # fmt: skip

            # The store's size is read once the recorder has stopped (its WAL then folded into
            # the file): a short run (the first sample) and the long one; the difference per
            # sample is what a day costs.
            short, long = Path(tmp) / "short.db", Path(tmp) / "long.db"
            measure(pidtop(short), short, 0.5, args.interval)
            cpu, _ = measure(pidtop(long), long, args.seconds, args.interval)
            n_short, n_long = samples(short), samples(long)
            per_sample = (du(long) - du(short)) / max(1, n_long - n_short)
            per_day = per_sample * 86400 / args.interval
            print(
                f"pidtop record: {cpu:.3f} % of one CPU, {per_day / 1e6:.1f} MB/day "
                f"({n_long} samples, {per_sample / 1e3:.1f} kB per sample after the first)"
            )
            atop = shutil.which("atop")
            if atop and not args.no_atop:
                raw = Path(tmp) / "atop.raw"
                argv = [atop, "-w", str(raw), str(int(args.interval))]
                cpu, per_day = measure(argv, raw, args.seconds, args.interval)
                print(f"atop -w:       {cpu:.3f} % of one CPU, {per_day / 1e6:.1f} MB/day")
            elif not args.no_atop:
                print("atop -w:       not installed (apt-get install -y atop)")
        finally:
            for p in busy:
                p.kill()
                p.wait()


def week_store(path: Path, samples: int) -> None:
    """A synthetic store: ``samples`` samples 10 s apart ending now, 1,000 processes."""
    from pidtop.demo.source import ScriptedSource
    from pidtop.record import store
    from pidtop.record.writer import Writer

    base = ScriptedSource().sample()
    proto = base.processes[1]
    procs = [replace(proto, pid=10_000 + i, starttime=1000 + i) for i in range(1000)]
    w = Writer(store.connect(path, write=True))
    start = time.time() - samples * 10.0
    w.begin_run(base, pid=1, host="bench", boot_id="b", interval=10, exits_complete=True, note="")
    next_pid = 20_000
    for k in range(samples):
        for j in range(20):  # 20 busy processes change every sample
            i = (k * 37 + j * 50) % len(procs)
            procs[i] = replace(procs[i], utime=procs[i].utime + 3, rss=procs[i].rss + 4096)
        procs[k % len(procs)] = replace(proto, pid=next_pid, starttime=100_000 + k)  # churn
        next_pid += 1
        snap = replace(base, wall=start + k * 10.0, time=k * 10.0, processes=tuple(procs))
        w.write_sample(snap, exits_complete=True)
    w.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    w.db.close()


def replay(args: argparse.Namespace) -> None:
    from pidtop.record.reader import Reader

    with tempfile.TemporaryDirectory(prefix="pidtop-replay-bench-") as tmp:
        path = Path(tmp) / "week.db"
        t = time.monotonic()
        week_store(path, args.week_samples)
        print(f"synthetic store: {args.week_samples} samples, {du(path) / 1e6:.0f} MB, "
              f"written in {time.monotonic() - t:.0f} s")  # fmt: skip
        opens, steps = [], []
        for _ in range(20):
            t = time.perf_counter()
            reader = Reader(path)
            i = reader.index_at(time.time() - 86400)
            reader.snapshot(i)
            reader.snapshot(i - 1)
            opens.append(time.perf_counter() - t)
            t = time.perf_counter()
            reader.snapshot(i + 1)
            reader.snapshot(i)
            steps.append(time.perf_counter() - t)
            reader.close()
        print(f"open a day-old moment: {statistics.median(opens) * 1000:.0f} ms (target <= 300)")
        print(f"step one sample:       {statistics.median(steps) * 1000:.0f} ms (target <= 50)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=300)
    ap.add_argument("--interval", type=float, default=10)
    ap.add_argument("--busy", action="store_true")
    ap.add_argument("--no-atop", action="store_true")
    ap.add_argument("--replay-only", action="store_true")
    ap.add_argument("--week-samples", type=int, default=7 * 8640)
    args = ap.parse_args()
    if not args.replay_only:
        recorder(args)
    replay(args)


if __name__ == "__main__":
    main()
