"""End to end with the real /proc sampler: a spawned child shows up with its command line, and
disappears (after its one dimmed refresh) once it has exited. Waits on conditions, bounded."""

from __future__ import annotations

import subprocess
import sys
import uuid
from functools import partial

from uitools import wait_for as wait_for_condition

from pidtop.sampling.rows import Row
from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp

#: samples arrive every 0.1 s
wait_for = partial(wait_for_condition, timeout=15.0, step=0.05)


async def test_real_child_appears_and_disappears() -> None:
    marker = f"pidtop-e2e-{uuid.uuid4().hex[:8]}"
    code = f"import time; time.sleep(60)  # {marker}"
    child = subprocess.Popen([sys.executable, "-c", code])
    try:
        app = PidtopApp(ProcSampler(), delay=0.1, sort_column="pid")
        async with app.run_test(size=(200, 40), notifications=True) as pilot:

            def row() -> Row | None:
                for r in app.table.rows:
                    if r.info.pid == child.pid:
                        return r
                return None

            await wait_for(pilot, lambda: row() is not None)
            found = row()
            assert found is not None
            assert found.info.cmdline == f"{sys.executable} -c {code}"
            assert marker in found.info.command
            # it is on screen too: filter to it and read the rendered line
            await pilot.press("backslash", *marker, "enter")
            await wait_for(pilot, lambda: [r.info.pid for r in app.table.rows] == [child.pid])
            assert marker in app.view._row_strip(0).text
            assert str(child.pid) in app.view._row_strip(0).text
            # select it, then let it die
            app.view.set_cursor(0)
            child.kill()
            child.wait(timeout=10)
            await wait_for(pilot, lambda: row() is None)
            assert app.table.get(found.key) is None
            # the followed process exited: the user is told (a message the view posts)
            told = f"PID {child.pid} exited."
            await wait_for(pilot, lambda: told in [n.message for n in app._notifications])
            await pilot.press("escape")
            await wait_for(pilot, lambda: len(app.table.rows) > 1)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
