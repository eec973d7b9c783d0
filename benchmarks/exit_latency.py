"""Exit-detection latency: the target's last instruction -> pidtop's Watcher callback.

Each trial forks a target (our child, or a grandchild whose own parent reaps it) that blocks
on a pipe. On the go signal it writes CLOCK_MONOTONIC in ns to a second pipe and calls
``_exit``; the Watcher callback takes its own CLOCK_MONOTONIC reading first thing.

    python benchmarks/exit_latency.py [--trials N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.watch import ExitEvent, Watcher


def _target(go_r: int, ts_w: int) -> None:
    os.read(go_r, 1)
    os.write(ts_w, struct.pack("=q", time.monotonic_ns()))
    os._exit(0)


def _spawn(kind: str, go_r: int, ts_w: int, pid_w: int) -> tuple[int, int]:
    """Start a target; return (target pid, our child to reap)."""
    pid = os.fork()
    if pid == 0:
        try:
            if kind == "child":
                os.write(pid_w, struct.pack("=i", os.getpid()))
                _target(go_r, ts_w)
            gc = os.fork()
            if gc == 0:
                _target(go_r, ts_w)
            os.write(pid_w, struct.pack("=i", gc))
            os.waitpid(gc, 0)  # the real parent reaps at once
        finally:
            os._exit(0)
    return pid, pid


async def _trial(kind: str, watcher: Watcher) -> float:
    go_r, go_w = os.pipe()
    ts_r, ts_w = os.pipe()
    pid_r, pid_w = os.pipe()
    reap, _ = _spawn(kind, go_r, ts_w, pid_w)
    for fd in (go_r, ts_w, pid_w):
        os.close(fd)
    (target,) = struct.unpack("=i", os.read(pid_r, 4))
    os.close(pid_r)
    seen = asyncio.get_running_loop().create_future()

    def on_exit(event: ExitEvent) -> None:
        if not seen.done():
            seen.set_result(event.observed_at_monotonic)
        watcher.remove(event.handle)

    with ProcessHandle.open(target) as handle:
        watcher.add(handle, on_exit)
        os.write(go_w, b"x")
        observed = await asyncio.wait_for(seen, 10)
        watcher.remove(handle)
    (exited_ns,) = struct.unpack("=q", os.read(ts_r, 8))
    os.close(go_w)
    os.close(ts_r)
    os.waitpid(reap, 0)
    return observed - exited_ns / 1e9


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=200, help="trials per kind (default 200)")
    args = parser.parse_args()
    watcher = Watcher()
    print(f"{'target':<10} {'n':>5} {'median':>10} {'p99':>10} {'max':>10}")
    for kind in ("child", "nonchild"):
        await _trial(kind, watcher)  # warm-up
        samples = sorted([await _trial(kind, watcher) for _ in range(args.trials)])
        p99 = samples[min(len(samples) - 1, int(0.99 * len(samples)))]
        row = [statistics.median(samples), p99, samples[-1]]
        cells = " ".join(f"{v * 1e3:>7.3f} ms" for v in row)
        print(f"{kind:<10} {len(samples):>5} {cells}")
    watcher.close()


if __name__ == "__main__":
    asyncio.run(main())
