"""Per-tick cost and memory of the CPU%/RSS history the details screen draws.

    python benchmarks/history.py [--n 200,1000,3000] [--ticks 200]

``History.record`` runs once per merged sample over every row of the table (what
``PidtopApp.merge`` does). Measured in steady state: the history is first filled to its bound
(100 points per process), then ``--ticks`` more records are timed; medians are printed, with the
memory of the arrays (``tracemalloc``, the filled history).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pidtop.sampling.history import POINTS, History


def run(n: int, ticks: int) -> tuple[float, float, float]:
    rng = random.Random(1)
    keys = [(1000 + i, 50_000 + i) for i in range(n)]
    rows = [(k, rng.uniform(0, 100), rng.randrange(1, 1 << 30)) for k in keys]
    tracemalloc.start()
    h = History()
    for t in range(POINTS):
        h.record(rows, float(t))
    size = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    times = []
    for t in range(ticks):
        start = time.perf_counter()
        h.record(((k, c, r) for k, c, r in rows), float(POINTS + t))
        times.append(time.perf_counter() - start)
    med = statistics.median(times)
    return med * 1e3, med / n * 1e6, size / n


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="200,1000,3000")
    ap.add_argument("--ticks", type=int, default=200)
    args = ap.parse_args()
    print("| processes | record() per tick (median) | per process | memory per process |")
    print("|---|---|---|---|")
    for n in (int(x) for x in args.n.split(",")):
        ms, us, per = run(n, args.ticks)
        print(f"| {n} | {ms:.2f} ms | {us:.2f} µs | {per:.0f} B |")


if __name__ == "__main__":
    main()
