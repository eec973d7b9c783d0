"""Cost of one ``pidtop snapshot`` sample, and of top/ps doing the same in the same run.

    python benchmarks/snapshot.py [--n 0,200,1000] [--runs 7]

For each N, N idle ``sleep`` processes are added to what already runs. In-process, per sample
(median of ``--runs``, after a warm-up):

  sample+table  ProcSampler.sample + ProcessTable.update (shared with the monitor)
  identify      a verified pidfd per row (open, fstat, start time, exact argv/comm, close)
  json / text   identify + writing the rows (json_document / text_lines)

End to end (wall clock of the command, median of ``--runs``; pidtop's includes Python start-up,
the one-interval wait (-d 1 = 0.1 s) and two samples):

  pidtop snapshot --json -d 1, pidtop snapshot -d 1 -w 0, top -b -n 1 -w 512,
  ps -eo pid,user,pri,ni,vsz,rss,stat,pcpu,pmem,time,args
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _idle import count_processes, idle_processes

from pidtop.sampling.batch import BatchOptions, identify, json_document, make_table, text_lines
from pidtop.sampling.sampler import ProcSampler

ROOT = Path(__file__).resolve().parent.parent


def _median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def in_process(runs: int) -> dict[str, float]:
    sampler = ProcSampler()
    opts = BatchOptions(format="json", width=0)
    table = make_table(opts)
    table.update(sampler.sample())

    def tick() -> None:
        table.update(sampler.sample())

    def ident() -> None:
        for row in table.rows:
            identify(row)

    def as_json() -> None:
        json.dumps(json_document(1, table, 1.0, opts))

    def as_text() -> None:
        rows = list(table.rows)
        text_lines(rows, [identify(r, exact_text=False) for r in rows], 0)

    out = {
        "sample+table": _median_ms(tick, runs),
        "identify": _median_ms(ident, runs),
        "json": _median_ms(as_json, runs),
        "text": _median_ms(as_text, runs),
    }
    sampler.close()
    return out


COMMANDS = {
    "pidtop --json": [sys.executable, "-m", "pidtop", "snapshot", "--json", "-d", "1"],
    "pidtop text": [sys.executable, "-m", "pidtop", "snapshot", "-d", "1", "-w", "0"],
    "top -b -n 1": ["top", "-b", "-n", "1", "-w", "512"],
    "ps -eo": ["ps", "-eo", "pid,user,pri,ni,vsz,rss,stat,pcpu,pmem,time,args"],
}


def end_to_end(runs: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for name, cmd in COMMANDS.items():

        def run(cmd: list[str] = cmd) -> None:
            subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True, cwd=ROOT)

        out[name] = _median_ms(run, runs)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", default="0,200,1000")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    print("| extra N | procs | " + " | ".join(["sample+table", "identify", "json", "text"]), end="")
    print(" | " + " | ".join(COMMANDS) + " |")
    print("|---" * (2 + 4 + len(COMMANDS)) + "|")
    for n in (int(x) for x in args.n.split(",")):
        with idle_processes(n):
            procs = count_processes()
            inner = in_process(args.runs)
            outer = end_to_end(args.runs)
        cells = [f"{v:.1f} ms" for v in inner.values()]
        per_row = inner["identify"] / procs * 1000
        cells[1] += f" ({per_row:.0f} µs/row)"
        cells += [f"{v:.0f} ms" for v in outer.values()]
        print(f"| {n} | {procs} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
