"""Tree kill: processes that escape `pidtop kill --tree` vs a list-then-kill loop; freeze time.

``python benchmarks/treekill.py [--trials 20] [--signal KILL] [--seed 1]``

Each trial grows a bounded tree that keeps forking (``tests/forktree.py``: 4 spawners forking
every 1-5 ms, a child a spawner itself for a while with probability 1/4, else a leaf that lives
1-3 s; at most 600 processes alive, each giving its slot back when it exits, so the tree keeps
forking). When a random number of processes (100-1,000) have been born, the tree is killed:

* ``pidtop``: ``python -m pidtop kill --tree -s SIGNAL ROOT`` (the real command, start-up
  included), which freezes the tree through pidfds, signals it and continues it;
* ``list``: what htop's tagged kill does: list the tree from /proc (every thread's children
  list, breadth first), then ``kill(2)`` each listed PID.

Escapes are the processes of the tree that the kill missed: those still alive below the driver
5 s after the kill returned (or as soon as none is left; the driver is a child subreaper, so
every orphan comes back to it and none is missed), plus those that exited by themselves after
the kill returned (each process writes its PID and the time to a pipe when it exits on its own:
a signalled one cannot; a leaf that escaped lives only 1-3 s).
Every trial runs in its own driver, in a private PID namespace when run as root (else
its own session); whatever survives is killed at the end. Prints per-trial lines and medians;
the freeze time is the one ``pidtop kill --tree`` reports (first SIGSTOP to the last pass).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from forktree import run_driver

_SUMMARY = re.compile(
    r"^(\d+) process(?:es)? \((\d+) found while freezing, frozen in ([0-9.]+) ms\)"
)


def one(how: str, kill_at: int, seed: int, sig: str) -> dict:
    code = (
        "import json, forktree\n"
        f"print(json.dumps(forktree.trial({how!r}, kill_at={kill_at}, seed={seed}, sig={sig!r})))"
    )
    return run_driver(code, timeout=180)


def quantiles(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return f"median {statistics.median(values):.1f}, p90 {p90:.1f}, max {values[-1]:.1f}"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--trials", type=int, default=20)
    ap.add_argument("--signal", default="KILL")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    print(f"kernel {os.uname().release}, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.2f}")
    rows: dict[str, list[dict]] = {"pidtop": [], "list": []}
    for i in range(args.trials):
        kill_at = rng.randint(100, 1000)
        for how in ("pidtop", "list"):
            r = one(how, kill_at, args.seed * 1000 + i, args.signal)
            rows[how].append(r)
            extra = ""
            if how == "pidtop":
                m = _SUMMARY.match(r.get("stdout", ""))
                if m is None:
                    print(f"  unexpected output: {r}", file=sys.stderr)
                else:
                    r["processes"], r["found"] = int(m[1]), int(m[2])
                    r["freeze_ms"] = float(m[3])
                    extra = f", {m[1]} processes, {m[2]} found while freezing, frozen {m[3]} ms"
            else:
                extra = f", {r['listed']} listed"
            print(
                f"trial {i + 1:2} {how:6} kill at {kill_at:4} born: "
                f"{r['escaped']:3} escaped ({r['survivors']} alive, "
                f"{r['exited_after']} exited later){extra}",
                flush=True,
            )
    print(f"load after: {os.getloadavg()[0]:.2f}")
    for how, rs in rows.items():
        surv = [r["escaped"] for r in rs]
        zero = sum(1 for s in surv if s == 0)
        print(
            f"{how:6}: escaped {quantiles([float(s) for s in surv])}; "
            f"0 escaped in {zero}/{len(rs)} trials"
        )
    pid = [r for r in rows["pidtop"] if "freeze_ms" in r]
    print(f"pidtop freeze ms: {quantiles([r['freeze_ms'] for r in pid])}")
    print(f"pidtop processes: {quantiles([float(r['processes']) for r in pid])}")
    print(f"pidtop found while freezing: {quantiles([float(r['found']) for r in pid])}")
    print(f"pidtop command (start-up included) s: "
          f"{quantiles([r['kill_seconds'] for r in rows['pidtop']])}")  # fmt: skip
    return 0 if all(r["escaped"] == 0 for r in rows["pidtop"]) else 1


if __name__ == "__main__":
    sys.exit(main())
