"""A screen's first opening imports what it shows, not more (issue 18: first openings within
50 ms).

Each first opening imports its screen's module (:mod:`pidtop.ui.lazy`). These tests open
screens in a fresh interpreter (what is imported is per process) and check that the first
``k`` does not import the whole-tree kill (only a chosen "whole tree" runs it), the first ``e``
not the open files' table (a DataTable), and the first ``l`` not Rich's emoji table (its column
labels were read as markup). Each import cost ~2-10 ms of CPU at the first key.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, json, sys
    from pidtop.actions.eventlog import EventLog
    from pidtop.actions.pins import PinSet
    from pidtop.demo.handles import SourceOpener
    from pidtop.demo.source import ScriptedSource
    from pidtop.ui.app import PidtopApp

    KEYS = sys.argv[1].split(",")

    async def main():
        source = ScriptedSource()
        opener = SourceOpener(source)
        pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=opener)
        app = PidtopApp(source, delay=3600.0, pins=pins)
        seen = {}
        async with app.run_test(size=(120, 40)) as pilot:
            for _ in range(500):
                if app.samples_merged >= 2:
                    break
                await pilot.pause(0.02)
            seen["start"] = sorted(sys.modules)
            for key in KEYS:
                await pilot.press(key)
                for _ in range(500):
                    if len(app.screen_stack) > 1:
                        break
                    await pilot.pause(0.02)
                await pilot.pause()
                seen[key] = [type(app.screen).__name__, sorted(sys.modules)]
                await pilot.press("escape")
                for _ in range(500):
                    if len(app.screen_stack) == 1:
                        break
                    await pilot.pause(0.02)
        print(json.dumps(seen))

    asyncio.run(main())
    """
)


def opened(*keys: str) -> dict[str, list[object]]:
    """Press each of ``keys`` (then Esc) in a new demo app in a new interpreter: per key, the
    screen it opened and every module imported by then; ``start``: those before any key."""
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT, ",".join(keys)],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    seen: dict[str, list[object]] = json.loads(out.stdout.strip().splitlines()[-1])
    return seen


def test_first_openings_import_only_what_they_show() -> None:
    seen = opened("k", "e", "l")
    start = set(seen["start"])
    kill, env, files = (seen[key] for key in ("k", "e", "l"))
    assert kill[0] == "SignalScreen" and env[0] == "EnvironScreen" and files[0] == "FilesScreen"
    heavy = {"pidtop.ui.tree_kill", "pidtop.ui.widgets.fdtable", "rich._emoji_codes"}
    assert not heavy & start  # (else the test would say nothing)
    kill_modules, env_modules = set(kill[1]), set(env[1])  # type: ignore[arg-type]
    assert "pidtop.ui.screens.signals" in kill_modules
    assert "pidtop.ui.tree_kill" not in kill_modules
    assert "pidtop.ui.screens.procinfo" in env_modules
    assert "pidtop.ui.widgets.fdtable" not in env_modules
    files_modules = set(files[1])  # type: ignore[arg-type]
    assert "pidtop.ui.widgets.fdtable" in files_modules
    assert "rich._emoji_codes" not in files_modules
