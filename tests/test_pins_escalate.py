"""PinSet.escalate on a temporary (unpinned) target must not leave work behind.

Its wait for the exit runs in a task (``wait_all``). Cancelled but not awaited, that task's
cleanup ran only after escalate() had closed the handle: it then removed the loop reader of
whatever new pidfd had reused the fd number, so that process's exit was never seen.
"""

from __future__ import annotations

import asyncio
import signal
from typing import Any

from procs import spawn

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import read_starttime
from pidtop.kernel.watch import ExitEvent, Watcher
from pidtop.sampling.snapshot import ProcInfo


def info_for(pid: int) -> ProcInfo:
    return ProcInfo(
        pid=pid, tgid=pid, ppid=0, starttime=read_starttime(pid), state="S", comm="t",
        cmdline=f"proc {pid}", uid=0, user="root", priority=20, nice=0, num_threads=1,
        vsize=0, rss=0, shared=0, utime=0, stime=0,
    )  # fmt: skip


async def test_escalate_leaves_no_task_that_touches_a_reused_fd() -> None:
    loop = asyncio.get_running_loop()
    errors: list[dict[str, Any]] = []
    loop.set_exception_handler(lambda _loop, ctx: errors.append(ctx))
    pins = PinSet(EventLog())
    with spawn("child", ignore_term=True) as a, spawn("child") as b:
        targets = pins.targets(info_for(a.pid))  # no pin: a temporary handle
        assert len(targets) == 1 and targets[0].owned
        fd_a = targets[0].handle.fileno()
        (res,) = await pins.escalate(targets, signal.SIGTERM, signal.SIGKILL, after=0.2)
        assert [r.outcome for r in res.results] == ["delivered", "delivered"]
        assert targets[0].handle.closed
        # Right after the action another process is watched; its pidfd takes the freed number.
        with ProcessHandle.open(b.pid) as hb:
            assert hb.fileno() == fd_a, "test premise: the fd number is reused"
            got: asyncio.Queue[ExitEvent] = asyncio.Queue()
            watcher = Watcher()
            watcher.add(hb, got.put_nowait)
            b.exit(4)
            event = await asyncio.wait_for(got.get(), 5)
            assert event.handle is hb and event.status.code == 4
            watcher.close()
    pins.close()
    assert errors == []
