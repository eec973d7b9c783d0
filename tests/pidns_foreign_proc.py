"""Run as PID 1 of ``unshare --pid --fork`` WITHOUT --mount-proc (see test_pidns_foreign_proc.py).

/proc is the host's: its PID 2 is the host's kthreadd, while pidfd_open(2) here names this
namespace's PID 2, a sleeper forked by this script. Every way pidtop could act on the host's
PID-2 row is tried; the sleeper must survive all of them. Prints one JSON line.
"""

import asyncio
import json
import os
import select
import signal
import subprocess
import sys

from procs import sleep_forever

from pidtop.actions.eventlog import EventLog
from pidtop.actions.pins import PinSet
from pidtop.kernel import probes as handle_mod
from pidtop.kernel.errors import HandleError
from pidtop.kernel.handle import ProcessHandle
from pidtop.kernel.identity import read_starttime
from pidtop.kernel.probes import features
from pidtop.sampling.snapshot import ProcInfo


def alive(fd: int) -> bool:
    p = select.poll()
    p.register(fd, select.POLLIN)
    return not p.poll(0)


def host_row(pid: int) -> ProcInfo:
    """The row the sampler shows for ``pid`` (from this /proc: the host's process)."""
    with open(f"/proc/{pid}/comm") as f:
        comm = f.read().strip()
    return ProcInfo(
        pid=pid, tgid=pid, ppid=0, starttime=read_starttime(pid), state="S", comm=comm,
        cmdline="", uid=0, user="root", priority=20, nice=0, num_threads=1, vsize=0, rss=0,
        shared=0, utime=0, stime=0, is_kernel_thread=True,
    )  # fmt: skip


def refused(call) -> str | None:  # type: ignore[no-untyped-def]
    try:
        result = call()
    except HandleError as e:
        return str(e)
    return f"NOT REFUSED: {result!r}"


async def app_check(out: dict[str, object]) -> None:
    """The real app on the host's /proc: the header says so; Space and k+Enter refuse."""
    from pidtop.sampling.sampler import ProcSampler
    from pidtop.ui.app import PidtopApp

    app = PidtopApp(ProcSampler(), delay=0.1, pids=frozenset({2}), show_kernel_threads=True)
    async with app.run_test(size=(160, 30), notifications=True) as pilot:
        for _ in range(500):
            if any(r.info.pid == 2 for r in app.table.rows) and app.samples_merged >= 2:
                break
            await pilot.pause(0.02)
        out["app_row"] = app.view.cursor_row.info.comm if app.view.cursor_row else None
        out["header"] = " | ".join(app.meters.status)

        def notes() -> list[str]:
            return [str(n.message) for n in app._notifications]

        async def refusals_at_least(count: int) -> None:
            # bounded wait for the refusal notification (a loaded machine delivers it late)
            for _ in range(500):
                if sum("another PID namespace" in n for n in notes()) >= count:
                    return
                await pilot.pause(0.02)

        await pilot.press("space")
        await refusals_at_least(1)
        out["app_pins"] = len(app.pins)
        await pilot.press("k")
        await pilot.pause(0.2)
        await pilot.press("enter")
        await refusals_at_least(2)
        out["app_notes"] = notes()
        out["app_signals_ok"] = sum(1 for e in app.events.entries if e.kind == "signal" and e.ok)


def main() -> dict[str, object]:
    child = os.fork()
    if child == 0:
        sleep_forever()
    fd = os.pidfd_open(child)
    out: dict[str, object] = {"child": child, "getpid": os.getpid()}
    out["proc_self"] = os.readlink("/proc/self")
    feats = features()
    out["proc_is_own"] = feats.proc_is_own
    out["note"] = feats.notes[0] if feats.notes else ""
    row = host_row(child)
    out["row_comm"] = row.comm
    pins = PinSet(EventLog())
    out["pin"] = refused(lambda: pins.pin(row))
    out["targets"] = refused(lambda: pins.targets(row))
    out["open"] = refused(lambda: ProcessHandle.open(child, starttime=row.starttime))
    # The per-pidfd check alone: pretend /proc/self looked like ours.
    handle_mod.features.cache_clear()
    real_note = handle_mod.proc_namespace_note
    handle_mod.proc_namespace_note = lambda: None
    try:
        out["fdinfo_only_own"] = handle_mod.features().proc_is_own
        out["fdinfo_only"] = refused(lambda: ProcessHandle.open(child, starttime=row.starttime))
    finally:
        handle_mod.proc_namespace_note = real_note
        handle_mod.features.cache_clear()
    cli = subprocess.run(
        [sys.executable, "-m", "pidtop", "kill", "-s", "KILL", str(child)],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    out["cli_rc"], out["cli_err"] = cli.returncode, cli.stderr
    asyncio.run(app_check(out))
    out["child_alive"] = alive(fd)
    os.kill(child, signal.SIGKILL)
    return out


print(json.dumps(main()))
