"""Where pidtop's memory goes: Python allocations by package, at start and after a while.

    python benchmarks/memory.py [--procs 3000] [--seconds 60] [--delay 1] [--no-journal]
                                [--lines N]

N idle ``sleep`` processes are started; the monitor (the real app with the real sampler and
the exit journal, as ``pidtop -d DELAY`` builds it) runs headless, ``tracemalloc`` on from the
first import. Printed after the first sample and after ``--seconds``: VmRSS, what
``tracemalloc`` traces, and the traced bytes grouped by package (``pidtop.sampling``,
``textual``, ``rich``, the standard library...), biggest first; the code objects of every
module imported show as one line ("imports"). What RSS holds beyond the
traced bytes is the interpreter itself, shared libraries, and allocator slack. Tracing costs
memory of its own (about 2x traced), so take RSS without it from ``monitor_cost.py``; the
breakdown says where the growth is. For "after an hour": ``--seconds 3600``. ``--lines N``
also prints the N source lines that allocated most of what is held (module code excluded):
which structure holds the per-process memory.
"""

from __future__ import annotations

import tracemalloc

tracemalloc.start(1)

import argparse  # noqa: E402 - after tracemalloc.start: imports are traced too
import asyncio  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from _idle import count_processes, idle_processes  # noqa: E402

STDLIB = str(Path(argparse.__file__).resolve().parent)


def package_of(filename: str) -> str:
    """``pidtop.sampling``, ``textual``, ``rich``, ``stdlib``... for a traced frame's file."""
    if filename.startswith("<frozen importlib"):
        return "imports (module code, by importlib)"
    path = Path(filename)
    parts = path.parts
    if "pidtop" in parts:
        i = len(parts) - 1 - parts[::-1].index("pidtop")
        sub = parts[i + 1 : i + 2]
        return "pidtop." + sub[0].removesuffix(".py") if sub else "pidtop"
    if "site-packages" in parts:
        i = parts.index("site-packages")
        return parts[i + 1].removesuffix(".py") if len(parts) > i + 1 else "site-packages"
    if filename.startswith(STDLIB) or filename.startswith("<frozen"):
        return "stdlib"
    return path.name


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(when: str, lines: int = 0) -> None:
    snap = tracemalloc.take_snapshot()
    by: Counter[str] = Counter()
    for stat in snap.statistics("filename"):
        by[package_of(stat.traceback[0].filename)] += stat.size
    traced = sum(by.values())
    print(f"\n## {when}: VmRSS {rss_mib():.1f} MiB, traced {traced / 2**20:.1f} MiB")
    print("| package | MiB | share |\n|---|---|---|")
    for name, size in by.most_common(15):
        print(f"| {name} | {size / 2**20:.2f} | {size / traced:.0%} |")
    if lines:
        print("| line | KiB | blocks |\n|---|---|---|")
        stats = [
            s for s in snap.statistics("lineno") if not s.traceback[0].filename.startswith("<")
        ]
        root = str(Path(__file__).resolve().parent.parent) + "/"
        for stat in stats[:lines]:
            frame = stat.traceback[0]
            where = f"{frame.filename.replace(root, '').replace(STDLIB + '/', '')}:{frame.lineno}"
            print(f"| {where} | {stat.size / 1024:.0f} | {stat.count} |")


async def run(args: argparse.Namespace) -> None:
    from pidtop.settings.options import Options
    from pidtop.ui.startup import build_app

    app = build_app(Options(delay=args.delay, journal=not args.no_journal, config_path=None))
    async with app.run_test(size=(200, 50)) as pilot:
        while app.samples_merged < 2:
            await pilot.pause(0.1)
        report(f"start ({len(app.table.rows)} rows)", args.lines)
        end = time.monotonic() + args.seconds
        while time.monotonic() < end:
            await pilot.pause(1.0)
        report(f"after {args.seconds:g} s ({app.samples_merged} samples)", args.lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=3000)
    ap.add_argument("--seconds", type=float, default=60.0)
    ap.add_argument("--delay", type=float, default=1.0)
    ap.add_argument("--no-journal", action="store_true")
    ap.add_argument("--lines", type=int, default=0, help="also the N biggest source lines")
    args = ap.parse_args()
    with idle_processes(args.procs):
        print(f"# {count_processes()} processes")
        asyncio.run(run(args))


if __name__ == "__main__":
    main()
