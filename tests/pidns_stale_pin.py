"""Run as PID 1 of a private PID namespace (see test_ui_pins.py; needs root).

A is forked at PID 500 and shown by the app (real ProcSampler, headless ``run_test``); sampling
is frozen (``Z``); A is killed and reaped and B is forked at the same PID 500. Space and
``k``+Enter on A's stale row must refuse ("is now another process") and never touch B.
Prints one JSON line with what happened.
"""

import asyncio
import json
import os
import signal

from procs import fork_at_pid, sleep_forever

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp

PID = 500


async def main() -> dict[str, object]:
    a = fork_at_pid(PID, sleep_forever)
    app = PidtopApp(ProcSampler(), delay=0.1, pids=frozenset({PID}))
    out: dict[str, object] = {}
    async with app.run_test(size=(160, 30), notifications=True) as pilot:
        for _ in range(500):
            if any(r.info.pid == PID for r in app.table.rows) and app.samples_merged >= 2:
                break
            await pilot.pause(0.02)
        row = app.view.cursor_row
        out["row_pid"] = row.info.pid if row is not None else None
        await pilot.press("Z")  # the row stays as it was: A's identity
        os.kill(a, signal.SIGKILL)
        os.waitpid(a, 0)
        b = fork_at_pid(PID, sleep_forever)
        out["reused"] = b == a
        await pilot.press("space")
        await pilot.pause()
        out["pins"] = len(app.pins)
        await pilot.press("k")
        await pilot.pause()
        out["picker_opened"] = type(app.screen).__name__ == "SignalScreen"
        await pilot.press("enter")
        await pilot.pause(0.2)
        out["notes"] = [n.message for n in app._notifications]
        out["signals_sent"] = sum(1 for e in app.events.entries if e.kind == "signal" and e.ok)
        out["b_alive"] = os.waitpid(b, os.WNOHANG) == (0, 0)
    return out


print(json.dumps(asyncio.run(main())))
