"""Start and stop N idle processes for the benchmarks (``sleep`` children of this process)."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def idle_processes(n: int) -> Iterator[list[int]]:
    """Spawn ``n`` ``sleep`` processes; kill and reap exactly those on exit."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        for _ in range(n):
            procs.append(
                subprocess.Popen(
                    ["sleep", "100000"],
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                    close_fds=True,
                )
            )
        yield [p.pid for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                os.kill(p.pid, signal.SIGKILL)
        for p in procs:
            p.wait()


def count_processes() -> int:
    """Processes currently listed in /proc."""
    return sum(1 for n in os.listdir("/proc") if n.isdigit())
