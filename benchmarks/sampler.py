"""Per-tick cost of ProcSampler vs a psutil-per-process baseline, and what each trick buys.

    python benchmarks/sampler.py [--n 0,200,1000,3000] [--ticks 15] [--compare REV] [--paths]

For each N, N idle ``sleep`` processes are added to what already runs, then every variant is
timed for ``--ticks`` consecutive ticks (after one warm-up tick); medians are printed.

Variants (all produce the same per-process fields):
  psutil        process_iter() with pid ppid name cmdline username status nice num_threads
                memory_info cpu_times create_time cpu_num (what a naive monitor does)
  naive         open() + read of stat, statm, cmdline and a stat() of /proc/PID every tick, parsed
  sampler-noreuse  ProcSampler with the "identical stat bytes -> reuse ProcInfo" trick disabled
                (every process parsed, statm read; cmdline/uid still cached per identity)
  sampler       ProcSampler as shipped
  +table        ProcSampler + ProcessTable.update (the whole data layer per tick)
  all fields    ProcSampler asked for every optional field (every column of issue 8 shown)

``--compare REV`` also loads ``pidtop/sampling/sampler.py`` as it was at git revision REV and
times it against today's in the same run, ticks interleaved (A B A B ...; the machine is shared,
so back-to-back runs drift more than the differences measured), as CPU time of the sampling
thread. Both are shown as steady state (idle processes) and with reuse off (every process
changed every tick: the worst case), and today's with every optional field asked for.

``--paths`` times the event spine's two paths per refresh (issue 16), interleaved, as CPU time
of the sampling thread: ``events`` (the exit journal's connector runs: ``feed.live``, owners
and command lines re-read only for the PIDs it marks), ``no events`` (refused connector,
containers: the owner from one ``stat()`` of ``/proc/PID`` every refresh, as htop), each
without optional columns and with RD/s+WR/s shown (``/proc/PID/io`` read every refresh), and
``events, 1 % marked`` (1 % of the processes marked every refresh: a busy exec/setuid load).
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import psutil
from _idle import count_processes, idle_processes

from pidtop.kernel.stat import parse_stat
from pidtop.sampling.changes import COMMAND, OWNER, ChangeFeed
from pidtop.sampling.extras import FIELD_IO, OPTIONAL_FIELDS
from pidtop.sampling.sampler import ProcSampler
from pidtop.sampling.table import ProcessTable

ROOT = Path(__file__).resolve().parent.parent

PSUTIL_ATTRS = [
    "pid", "ppid", "name", "cmdline", "username", "status", "nice", "num_threads",
    "memory_info", "cpu_times", "create_time", "cpu_num",
]  # fmt: skip


def psutil_tick() -> int:
    return sum(1 for _ in psutil.process_iter(PSUTIL_ATTRS))


def naive_tick() -> int:
    n = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                s = parse_stat(f.read())
            with open(f"/proc/{name}/statm", "rb") as f:
                f.read().split()
            with open(f"/proc/{name}/cmdline", "rb") as f:
                f.read().replace(b"\0", b" ").decode("utf-8", "replace")
            os.stat(f"/proc/{name}").st_uid  # noqa: B018
            s.comm_raw.decode("utf-8", "replace")
            n += 1
        except OSError:
            pass
    return n


def timed(fn: Callable[[], object], ticks: int) -> tuple[float, float]:
    """(median seconds, first-call seconds) over ``ticks`` calls after a warm-up call."""
    t0 = time.perf_counter()
    fn()
    first = time.perf_counter() - t0
    out = []
    for _ in range(ticks):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return statistics.median(out), first


#: where the sampler's imports live since the house was rebuilt by domain (issue 15): a revision
#: from before it is loaded with these import lines rewritten, its code unchanged
_MOVED = {
    "pidtop.process.statparse": "pidtop.kernel.stat",
    "pidtop.process.procfiles": "pidtop.sampling.procfiles",
    "pidtop.process.extras": "pidtop.sampling.extras",
    "pidtop.process.snapshot": "pidtop.sampling.snapshot",
    "pidtop.process.system": "pidtop.sampling.system",
    "pidtop.process.fmt": "pidtop.sampling.fmt",
}


def load_sampler_at(rev: str) -> type:
    """``ProcSampler`` from the sampler module at git revision ``rev`` (``pidtop/sampling/
    sampler.py``, or ``pidtop/process/sample.py`` before issue 15's move)."""
    for path in ("pidtop/sampling/sampler.py", "pidtop/process/sample.py"):
        shown = subprocess.run(
            ["git", "-C", str(ROOT), "show", f"{rev}:{path}"], capture_output=True, check=False
        )
        if shown.returncode == 0:
            break
    else:
        raise SystemExit(f"no sampler module at {rev}")
    src = shown.stdout
    for old, new in _MOVED.items():
        src = src.replace(old.encode(), new.encode())
    with tempfile.NamedTemporaryFile("wb", suffix=".py", delete=False) as f:
        f.write(src)
    spec = importlib.util.spec_from_file_location(f"sample_at_{rev}", f.name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    os.unlink(f.name)
    return module.ProcSampler  # type: ignore[no-any-return]


def interleaved(fns: dict[str, Callable[[], object]], ticks: int) -> dict[str, float]:
    """Median CPU seconds (user + system of this thread: what the sampler costs, and much less
    disturbed by other load on a shared machine than wall time) per call of each function,
    called in turn ``ticks`` times after one warm-up call each."""
    for fn in fns.values():
        fn()
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(ticks):
        for name, fn in fns.items():
            t0 = time.thread_time()
            fn()
            times[name].append(time.thread_time() - t0)
    return {name: statistics.median(ts) for name, ts in times.items()}


def compare(rev: str, ticks: int) -> dict[str, float]:
    before_cls = load_sampler_at(rev)
    samplers = {
        f"@{rev}": before_cls(),
        "now": ProcSampler(),
        f"@{rev} no reuse": before_cls(),
        "now no reuse": ProcSampler(),
        "now all fields": ProcSampler(),
    }
    for name, s in samplers.items():
        if name.endswith("no reuse"):
            s._reuse = False
    fns: dict[str, Callable[[], object]] = {name: s.sample for name, s in samplers.items()}
    fns["now all fields"] = partial(samplers["now all fields"].sample, fields=OPTIONAL_FIELDS)
    res = interleaved(fns, ticks)
    for s in samplers.values():
        s.close()
    return res


def paths(ticks: int) -> dict[str, float]:
    """CPU seconds per refresh of the event spine's paths (see the module docstring)."""
    live, marked = ChangeFeed(), ChangeFeed()
    live.live = marked.live = True
    samplers = {
        "events": ProcSampler(feed=live),
        "no events": ProcSampler(feed=ChangeFeed()),
        "events + RD/s WR/s": ProcSampler(feed=live),
        "no events + RD/s WR/s": ProcSampler(feed=ChangeFeed()),
        "events, 1 % marked": ProcSampler(feed=marked),
    }
    pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]

    def mark_some() -> None:
        for pid in pids[::100]:  # 1 % of the processes
            marked.mark(pid, OWNER | COMMAND)
        samplers["events, 1 % marked"].sample()

    io = frozenset({FIELD_IO})
    fns: dict[str, Callable[[], object]] = {name: s.sample for name, s in samplers.items()}
    fns["events + RD/s WR/s"] = partial(samplers["events + RD/s WR/s"].sample, fields=io)
    fns["no events + RD/s WR/s"] = partial(samplers["no events + RD/s WR/s"].sample, fields=io)
    fns["events, 1 % marked"] = mark_some
    res = interleaved(fns, ticks)
    for s in samplers.values():
        s.close()
    return res


def measure(ticks: int, psutil_ticks: int) -> dict[str, tuple[float, float]]:
    res: dict[str, tuple[float, float]] = {}
    res["psutil"] = timed(psutil_tick, psutil_ticks)
    res["naive"] = timed(naive_tick, ticks)
    s = ProcSampler()
    s._reuse = False
    res["sampler-noreuse"] = timed(s.sample, ticks)
    s.close()
    s = ProcSampler()
    res["sampler"] = timed(s.sample, ticks)
    res["sampler threads=True"] = timed(lambda: s.sample(threads=True), ticks)
    table = ProcessTable()

    def both() -> None:
        table.update(s.sample())

    res["sampler+table"] = timed(both, ticks)
    s.close()
    s = ProcSampler()
    res["sampler all fields"] = timed(lambda: s.sample(fields=OPTIONAL_FIELDS), ticks)
    s.close()
    return res


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="0,200,1000,3000", help="extra idle processes, comma list")
    ap.add_argument("--ticks", type=int, default=15)
    ap.add_argument("--compare", metavar="REV", help="also time sample.py at this git revision")
    ap.add_argument("--compare-only", action="store_true", help="only the --compare timings")
    ap.add_argument("--paths", action="store_true", help="only the event spine's two paths")
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, psutil {psutil.__version__}, {os.cpu_count()} CPUs")
    for n in (int(x) for x in args.n.split(",")):
        with idle_processes(n):
            total = count_processes()
            if args.paths:
                spine = paths(args.ticks)
                print(f"\nN={n} extra idle processes, {total} processes in /proc")
                print(f"  CPU ms per refresh, interleaved ({args.ticks} ticks):")
                for name, med in spine.items():
                    print(f"    {name:24s} {med * 1e3:8.2f} ms {med / total * 1e6:7.2f} µs/proc")
                continue
            if args.compare:
                ab = compare(args.compare, args.ticks)
            res = {} if args.compare_only else measure(args.ticks, max(3, args.ticks // 3))
        base = res["psutil"][0] if res else 0.0
        print(f"\nN={n} extra idle processes, {total} processes in /proc")
        print(
            f"  {'variant':22s} {'ms/tick':>9s} {'µs/proc':>8s} {'1st tick':>9s} {'vs psutil':>9s}"
        )
        for name, (med, first) in res.items():
            print(
                f"  {name:22s} {med * 1e3:9.2f} {med / total * 1e6:8.2f} {first * 1e3:8.2f}ms"
                f" {base / med:8.1f}x"
            )
        if args.compare:
            print(f"  CPU ms, interleaved with sample.py at {args.compare} ({args.ticks} ticks):")
            for name, med in ab.items():
                print(f"    {name:22s} {med * 1e3:9.2f} ms {med / total * 1e6:8.2f} µs/proc")
            for kind in ("", " no reuse"):
                a, b = ab[f"@{args.compare}{kind}"], ab[f"now{kind}"]
                print(f"    change{kind or ' steady'}: {100 * (b - a) / a:+.1f} %")


if __name__ == "__main__":
    main()
