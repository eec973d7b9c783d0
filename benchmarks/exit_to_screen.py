"""Exit → on-screen latency of a pinned process, in a real terminal (tmux 200x50).

``python benchmarks/exit_to_screen.py [--procs 1000] [--trials 30] [--startup-trials 10]
[--settle 2] [--htop-trials 10]``

1,000 idle ``sleep`` processes are listed. Each trial starts a fresh target ``sleep``, starts
``python -m pidtop -d 10 --pin TARGET`` in a detached tmux pane (own server socket), waits until
the pinned strip shows it running, then kills the target at t0 (``os.kill`` here) and polls
``tmux capture-pane -p`` as fast as it can until the strip line shows the exited marker (t1).

Two cases, reported separately:

* steady state (``--trials``, the issue's case: the monitor running with the processes listed):
  the kill comes ``--settle`` seconds after the table lists them (the meters' task count has
  reached the number of processes), so the first, heavy samples and start-up layouts are over;
  the kill lands at a random point of the 1 s refresh cycle;
* start-up (``--startup-trials``): the kill comes as soon as the strip shows the target running,
  i.e. in the first ~100 ms of the process, while the first sample (every process new) and the
  start-up layouts still run and the table is not filled yet.

The same is done for htop (``htop -d 10 -F TAG``): t1 is when the killed PID's row is gone.
Prints median / p90 / max for both and the ratio. Latency includes tmux's own redraw and the
capture polling granularity (a capture costs ~2-4 ms). Only processes this script started are
killed (by PID, while they are our unreaped children), and tmux via its private socket.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOCK = f"pidtop-exitbench-{os.getpid()}"
_trial = 0  # a fresh tmux server per trial: a new session must not race a dying server


def tmux(*args: str) -> str:
    return subprocess.run(
        ["tmux", "-L", f"{SOCK}-{_trial}", "-f", "/dev/null", *args],
        capture_output=True,
        text=True,
    ).stdout


def capture() -> str:
    return tmux("capture-pane", "-p", "-t", "b")


def start(cmd: str) -> None:
    env = f"cd {ROOT} && exec env TERM=xterm-256color "
    # (the trailing "; sleep" keeps the pane: without it the first frame never showed here)
    tmux("new-session", "-d", "-s", "b", "-x", "200", "-y", "50", env + cmd + " 2>&1; sleep 30")


def stop() -> None:
    global _trial
    tmux("kill-server")
    _trial += 1


def wait_screen(pred: object, timeout: float = 20.0) -> str:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        screen = capture()
        if pred(screen):  # type: ignore[operator]
            return screen
        time.sleep(0.01)
    raise TimeoutError("screen condition not reached:\n" + capture())


def measure(until: object) -> float:
    """Poll capture-pane as fast as possible; seconds from now until ``until(screen)``."""
    t0 = time.monotonic()
    while True:
        if until(capture()):  # type: ignore[operator]
            return time.monotonic() - t0
        if time.monotonic() - t0 > 10:
            raise TimeoutError("no change on screen within 10 s")


TASKS = re.compile(r"Tasks: (\d+)")


def listed(screen: str, procs: int) -> bool:
    """The meters count at least ``procs`` tasks: the table has the processes."""
    m = TASKS.search(screen)
    return m is not None and int(m.group(1)) >= procs


def trial_pidtop(python: str, procs: int, settle: float | None) -> float:
    """One kill; ``settle`` None: at start-up, else that long after the processes are listed."""
    target = subprocess.Popen(["sleep", "1000"])
    tag = f"{target.pid}:"

    def pin_shows(word: str) -> Callable[[str], bool]:  # the target's strip line says `word`
        return lambda s: any(tag in ln and word in ln for ln in s.splitlines())

    try:
        start(f"{python} -m pidtop -d 10 --pin {target.pid}")
        wait_screen(pin_shows("alive"))
        if settle is not None:
            wait_screen(lambda s: listed(s, procs))
            time.sleep(settle + random.random())  # anywhere in the 1 s refresh cycle
            screen = capture()
            assert pin_shows("alive")(screen), screen
        os.kill(target.pid, signal.SIGKILL)  # t0 (measure starts right after)
        dt = measure(pin_shows("✕"))
    finally:
        if target.poll() is None:
            target.kill()
        target.wait()
        stop()
    return dt


def trial_htop(n: int) -> float:
    tag = f"77{n:03d}1"
    target = subprocess.Popen(["sleep", tag])
    pid = str(target.pid)

    def shown(screen: str) -> bool:  # a row starting with the PID (the filter bar also says TAG)
        return any(ln.lstrip().startswith(pid + " ") for ln in screen.splitlines())

    try:
        start(f"htop -d 10 -F 'sleep {tag}'")
        wait_screen(shown)
        os.kill(target.pid, signal.SIGKILL)
        target.wait()  # htop drops the row once /proc/PID is gone: reap at once (favours htop)
        dt = measure(lambda s: not shown(s))
    finally:
        if target.poll() is None:
            target.kill()
            target.wait()
        stop()
    return dt


def summary(name: str, xs: list[float]) -> tuple[float, float, float]:
    xs = sorted(xs)
    med = statistics.median(xs)
    p90 = xs[min(len(xs) - 1, round(0.9 * (len(xs) - 1)))]
    print(
        f"{name:8s} n={len(xs):3d}  median {med * 1000:7.1f} ms  p90 {p90 * 1000:7.1f} ms  "
        f"max {xs[-1] * 1000:7.1f} ms  min {xs[0] * 1000:6.1f} ms"
    )
    return med, p90, xs[-1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--procs", type=int, default=1000)
    ap.add_argument("--trials", type=int, default=30, help="steady-state trials")
    ap.add_argument("--startup-trials", type=int, default=10)
    ap.add_argument("--settle", type=float, default=2.0, help="s after the table is listed")
    ap.add_argument("--htop-trials", type=int, default=10)
    args = ap.parse_args()
    idle = [subprocess.Popen(["sleep", "100000"]) for _ in range(args.procs)]
    try:
        ours = [trial_pidtop(sys.executable, args.procs, args.settle) for _ in range(args.trials)]
        boot = [trial_pidtop(sys.executable, args.procs, None) for _ in range(args.startup_trials)]
        theirs = [trial_htop(i) for i in range(args.htop_trials)]
    finally:
        for p in idle:
            p.kill()
        for p in idle:
            p.wait()
        stop()
    print(f"{args.procs} idle processes listed; exit → screen, tmux 200x50, capture-pane polling")
    med, _p90, worst = summary("pidtop", ours)
    if boot:
        summary("start-up", boot)
    if theirs:
        hmed, _hp90, hworst = summary("htop", theirs)
        print(f"htop / pidtop: median {hmed / med:.0f}x, max {hworst / worst:.0f}x")
    print(f"target <= 50 ms worst case (steady state): {'met' if worst <= 0.050 else 'NOT met'}")


if __name__ == "__main__":
    main()
