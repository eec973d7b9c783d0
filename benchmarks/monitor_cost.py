"""Issue-3 benchmark: what a monitor costs to run, pidtop vs htop vs btop, in a real terminal.

    python benchmarks/monitor_cost.py [--n 200,1000,3000] [--seconds 20] [--monitors LIST]
                                      [--runs R] [--no-bytecode] [--churn RATE]

``--monitors`` may name ``pidtop-nojournal`` (``--no-journal``): the exit journal's share is
pidtop minus it. ``--churn RATE`` keeps RATE short processes a second running in the
background for the whole run (the C generator of ``benchmarks/journal.py``).

For each N, N idle ``sleep`` processes are started; then each monitor runs at a 1 s refresh in a
detached tmux 200x50 pane (its own tmux server socket, a fresh ``$HOME`` so no user config and no
saved settings leak between runs) and we measure:

* first frame: from ``tmux new-session`` until ``capture-pane`` shows the table header and a
  row (polled every ~2 ms);
* CPU %: utime+stime of the monitor's process tree (``/proc/PID/stat`` of it and its live
  descendants, all threads included) over ``--seconds`` after a 2 s settle, as % of one CPU;
  also the tmux server's CPU over the same window (the terminal's share of the work);
* RSS: VmRSS of the monitor tree at the end of the window;
* key -> repaint: the table is first sorted by PID (htop/pidtop ``N``); then the invert-sort key
  (``I``; btop ``r``) is sent and ``capture-pane`` is polled until at least half of the PIDs
  visible in the table have changed (a periodic refresh cannot do that). Median of 10 presses.
  This includes tmux's own latency and the ~2 ms polling granularity.

With ``--runs R`` every monitor runs R times per N (interleaved: pidtop, htop, btop, pidtop...)
and the table shows the median of each figure. pidtop is byte-compiled first
(``compileall``), as an installed package is: with ``PYTHONDONTWRITEBYTECODE=1`` in the
environment (this sandbox sets it) every start would otherwise compile its ~50 modules from
source (~100 ms of the first frame, measured). ``--no-bytecode`` measures that case: pidtop's
``__pycache__`` directories are removed first.

Only processes this script started are killed (the sleeps by pid, tmux via its private socket).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _idle import count_processes, idle_processes

ROOT = Path(__file__).resolve().parent.parent
SOCKET = f"pidtop-bench-{os.getpid()}"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PID_LINE = re.compile(r"^[\s│┃|]*(\d+)\s")


@dataclass
class Monitor:
    name: str
    argv: list[str]
    ready: re.Pattern[str]  # matches the capture once the first full frame is on screen
    sort_pid: str | None  # key that sorts by PID before the latency test
    invert: str  # key that flips the order of the table


@dataclass
class Result:
    monitor: str
    n: int
    procs: int
    cpu: float = float("nan")
    term_cpu: float = float("nan")
    rss_mib: float = float("nan")
    first_frame_ms: float = float("nan")
    key_ms: float = float("nan")
    notes: list[str] = field(default_factory=list)


def monitors(seconds_delay: int = 10) -> dict[str, Monitor]:
    header = re.compile(r"PID\s+USER.*\n\s*\d+\s")
    return {
        "pidtop": Monitor(
            "pidtop",
            [sys.executable, "-m", "pidtop", "-d", str(seconds_delay)],
            header,
            "N",
            "I",
        ),
        "pidtop-nojournal": Monitor(
            "pidtop-nojournal",
            [sys.executable, "-m", "pidtop", "-d", str(seconds_delay), "--no-journal"],
            header,
            "N",
            "I",
        ),
        "pidtop-nopreframe": Monitor(  # the first frame drawn by Textual (A/B of the pre-frame)
            "pidtop-nopreframe",
            [sys.executable, "-m", "pidtop", "-d", str(seconds_delay), "--no-preframe"],
            header,
            "N",
            "I",
        ),
        "htop": Monitor("htop", ["htop", "-d", str(seconds_delay)], header, "N", "I"),
        "btop": Monitor(
            "btop", ["btop", "--utf-force"], re.compile(r"Pid:?\s.*\n.*\d+\s"), None, "r"
        ),
    }


def tmux(*args: str, check: bool = True) -> str:
    out = subprocess.run(["tmux", "-L", SOCKET, *args], capture_output=True, text=True, check=check)
    return out.stdout


def capture() -> str:
    return tmux("capture-pane", "-p", "-t", "bench", check=False)


def tree_pids(root: int) -> list[int]:
    """root and its live descendants (children from /proc/PID/task/*/children)."""
    out, stack = [], [root]
    while stack:
        pid = stack.pop()
        out.append(pid)
        try:
            for tid in os.listdir(f"/proc/{pid}/task"):
                kids = Path(f"/proc/{pid}/task/{tid}/children").read_text().split()
                stack.extend(int(k) for k in kids)
        except OSError:
            pass
    return out


def cpu_ticks(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            f = Path(f"/proc/{pid}/stat").read_bytes().rpartition(b")")[2].split()
            total += int(f[11]) + int(f[12])
        except (OSError, IndexError, ValueError):
            pass
    return total


def rss_kib(pids: list[int]) -> int:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except (OSError, ValueError):
            pass
    return total


def visible_pids(screen: str) -> list[str]:
    return [m.group(1) for line in screen.splitlines() if (m := PID_LINE.match(line))]


def wait_for(pred, timeout: float) -> float | None:
    """Poll ``pred(capture())`` until true; seconds elapsed, or None on timeout."""
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < timeout:
        if pred(capture()):
            return time.perf_counter() - t0
        time.sleep(0.002)
    return None


def run_one(mon: Monitor, n: int, seconds: float, presses: int) -> Result:
    res = Result(mon.name, n, count_processes())
    home = tempfile.mkdtemp(prefix="pidtop-bench-home-")
    (Path(home) / ".config" / "btop").mkdir(parents=True)
    (Path(home) / ".config" / "btop" / "btop.conf").write_text("update_ms = 1000\n")
    env = {
        "HOME": home,
        "XDG_CONFIG_HOME": f"{home}/.config",
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "TERM": "xterm-256color",
        "COLORTERM": "truecolor",
        "PYTHONPATH": str(ROOT),
        "PYTHONDONTWRITEBYTECODE": "1",  # the runs never change what the next one loads
    }
    envargs = [a for k, v in env.items() for a in ("-e", f"{k}={v}")]
    cmd = "exec " + " ".join(subprocess.list2cmdline([a]) for a in mon.argv)
    try:
        t0 = time.perf_counter()
        tmux("new-session", "-d", "-s", "bench", "-x", "200", "-y", "50", *envargs, cmd)
        pid = int(tmux("display-message", "-p", "-t", "bench", "#{pane_pid}").strip())
        server = int(tmux("display-message", "-p", "#{pid}").strip())
        elapsed = wait_for(lambda s: bool(mon.ready.search(s)), 20.0)
        if elapsed is None:
            res.notes.append("no first frame within 20 s")
            res.notes.append(capture()[:400])
            return res
        res.first_frame_ms = (time.perf_counter() - t0) * 1e3  # includes the tmux spawn
        time.sleep(2.0)  # settle: the first refreshes do extra work (caches, CPU% baseline)
        pids = tree_pids(pid)
        c0, s0, w0 = cpu_ticks(pids), cpu_ticks([server]), time.monotonic()
        time.sleep(seconds)  # the measurement window: this script does nothing meanwhile
        pids = tree_pids(pid)
        c1, s1, w1 = cpu_ticks(pids), cpu_ticks([server]), time.monotonic()
        res.cpu = (c1 - c0) / CLK_TCK / (w1 - w0) * 100
        res.term_cpu = (s1 - s0) / CLK_TCK / (w1 - w0) * 100
        res.rss_mib = rss_kib(pids) / 1024
        if mon.sort_pid:
            tmux("send-keys", "-t", "bench", mon.sort_pid)
            time.sleep(1.5)
        lat = []
        for _ in range(presses):
            before = visible_pids(capture())
            if len(before) < 4:
                res.notes.append("table not found on screen for key latency")
                break

            def changed(screen: str, before: list[str] = before) -> bool:
                now = visible_pids(screen)
                same = sum(1 for a, b in zip(before, now, strict=False) if a == b)
                return len(now) >= 4 and same <= len(before) // 2

            t0 = time.perf_counter()
            tmux("send-keys", "-t", "bench", mon.invert)
            took = wait_for(changed, 5.0)
            if took is None:
                res.notes.append("key press did not repaint within 5 s")
                break
            lat.append((time.perf_counter() - t0) * 1e3)
            time.sleep(0.3)
        if lat:
            res.key_ms = statistics.median(lat)
        return res
    finally:
        tmux("send-keys", "-t", "bench", "q", check=False)
        time.sleep(0.3)
        tmux("kill-server", check=False)
        shutil.rmtree(home, ignore_errors=True)


def medians(results: list[Result]) -> list[Result]:
    """One Result per (N, monitor): the median of each figure over its runs."""
    out: list[Result] = []
    for key in dict.fromkeys((r.n, r.monitor) for r in results):
        runs = [r for r in results if (r.n, r.monitor) == key]

        def med(name: str, runs: list[Result] = runs) -> float:
            values = [getattr(r, name) for r in runs if getattr(r, name) == getattr(r, name)]
            return statistics.median(values) if values else float("nan")

        out.append(
            Result(
                key[1], key[0], int(statistics.median(r.procs for r in runs)),
                cpu=med("cpu"), term_cpu=med("term_cpu"), rss_mib=med("rss_mib"),
                first_frame_ms=med("first_frame_ms"), key_ms=med("key_ms"),
                notes=[n for r in runs for n in r.notes],
            )
        )  # fmt: skip
    return out


def fmt(v: float, spec: str) -> str:
    return "-" if v != v else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", default="200,1000,3000")
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--monitors", default="pidtop,htop,btop")
    ap.add_argument("--presses", type=int, default=10)
    ap.add_argument("--runs", type=int, default=1, help="runs per monitor and N (medians)")
    ap.add_argument(
        "--churn",
        type=int,
        default=0,
        metavar="RATE",
        help="also run RATE short processes a second in the background (journal.py's generator)",
    )
    ap.add_argument(
        "--no-bytecode", action="store_true", help="pidtop from source (no .pyc), see above"
    )
    args = ap.parse_args()
    for cache in (ROOT / "pidtop").rglob("__pycache__"):
        shutil.rmtree(cache)
    if not args.no_bytecode:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(ROOT / "pidtop")], check=True)
    mons = monitors()
    chosen = []
    for name in args.monitors.split(","):
        m = mons[name]
        if m.name != "pidtop" and shutil.which(m.argv[0]) is None:
            print(f"# {name} not installed, skipped")
            continue
        chosen.append(m)
    churn: subprocess.Popen[bytes] | None = None
    workdir = tempfile.mkdtemp(prefix="pidtop-churn-")
    try:
        if args.churn:
            from journal import build_generator

            gen = build_generator(Path(workdir))
            churn = subprocess.Popen([str(gen), str(args.churn), "100000"])
        results = run_all(args, chosen)
    finally:
        if churn is not None:
            churn.kill()
            churn.wait()
        shutil.rmtree(workdir, ignore_errors=True)
    print_table(args, results)


def run_all(args: argparse.Namespace, chosen: list[Monitor]) -> list[Result]:
    results: list[Result] = []
    for n in (int(x) for x in args.n.split(",")):
        with idle_processes(n):
            for _, m in ((run, m) for run in range(args.runs) for m in chosen):
                r = run_one(m, n, args.seconds, args.presses)
                results.append(r)
                print(
                    f"# N={n} {m.name}: cpu {fmt(r.cpu, '.2f')}% term {fmt(r.term_cpu, '.2f')}%"
                    f" rss {fmt(r.rss_mib, '.1f')} MiB first {fmt(r.first_frame_ms, '.0f')} ms"
                    f" key {fmt(r.key_ms, '.1f')} ms {' '.join(r.notes)}",
                    flush=True,
                )
    return results


def print_table(args: argparse.Namespace, results: list[Result]) -> None:
    results = medians(results)
    print()
    if args.churn:
        print(f"# with {args.churn} short processes a second in the background")
    how = "from source (no .pyc)" if args.no_bytecode else "byte-compiled"
    print(f"# medians of {args.runs} run(s); pidtop {how}")
    print("| N | procs | monitor | CPU % | vs htop | tmux CPU % | RSS MiB | first frame ms "
          "| key→repaint ms |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|")
    for r in results:
        htop = next((h for h in results if h.n == r.n and h.monitor == "htop"), None)
        ratio = r.cpu / htop.cpu if htop and htop.cpu == htop.cpu and htop.cpu > 0 else float("nan")
        print(
            f"| {r.n} | {r.procs} | {r.monitor} | {fmt(r.cpu, '.2f')} | {fmt(ratio, '.2f')}x "
            f"| {fmt(r.term_cpu, '.2f')} | {fmt(r.rss_mib, '.1f')} | {fmt(r.first_frame_ms, '.0f')}"
            f" | {fmt(r.key_ms, '.1f')} |"
        )


if __name__ == "__main__":
    main()
