"""Generate the README screenshots (SVG) of the main screen from the ScriptedSource.

Run from anywhere: ``python screenshots/make_screenshots.py``. Deterministic: the scripted
source has a fixed clock and the app stops sampling after a fixed number of samples.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path

from textual.pilot import Pilot

OUT = Path(__file__).resolve().parent
sys.path.insert(0, str(OUT.parent))  # run from a source checkout without installing

from pidtop.actions.eventlog import EventLog  # noqa: E402
from pidtop.actions.pins import PinSet  # noqa: E402
from pidtop.demo.handles import ScriptedOpener  # noqa: E402
from pidtop.demo.journal import ScriptedJournal  # noqa: E402
from pidtop.demo.script import NEW_AT  # noqa: E402
from pidtop.demo.source import ScriptedSource  # noqa: E402
from pidtop.kernel.pidfdinfo import ExitStatus  # noqa: E402
from pidtop.ui.app import PidtopApp  # noqa: E402

Step = Callable[[Pilot], Awaitable[None]]


async def _nothing(pilot: Pilot) -> None:
    return None


async def _tree(pilot: Pilot) -> None:
    await pilot.press("t")


async def _memory(pilot: Pilot) -> None:
    await pilot.press("M")


async def _filter(pilot: Pilot) -> None:
    await pilot.press("backslash", *"postgres", "enter")


async def _search(pilot: Pilot) -> None:
    await pilot.press("slash", *"train")


async def _pins(pilot: Pilot) -> None:
    """Pin five scripted processes (scripted handles), then end four of them differently."""
    app = pilot.app
    assert isinstance(app, PidtopApp) and isinstance(app.source, ScriptedSource)
    opener = app.pins.opener
    assert isinstance(opener, ScriptedOpener)
    for pid, lived in ((1200, 5400.0), (1220, 3000.0), (1410, 600.0), (1440, 500.0), (1701, 899)):
        key = app.source.key_of(pid)
        opener.add(pid, key[1], lived=lived)
        app.view.set_cursor_key(key)
        await pilot.press("space")
    endings = (
        (1220, ExitStatus(True, code=3), True),
        (1410, ExitStatus(True, signal=9), True),
        (1440, ExitStatus(True, signal=11, core_dumped=True), True),
        (1701, ExitStatus(True, code=0), False),
    )
    for n, (pid, status, reaped) in enumerate(endings, 1):
        opener.handles[pid].finish(status, reaped=reaped)
        for _ in range(200):
            if len(app.pins.alive()) == 5 - n:
                break
            await pilot.pause(0.02)
    app.pins.update_info(app._lookup)
    app.strip.refresh_pins()
    app.view.set_cursor(0)


async def _until(pilot: Pilot, done: Callable[[], bool]) -> None:
    for _ in range(500):
        if done():
            return
        await pilot.pause(0.01)
    raise RuntimeError("the screen never got there")


async def _details(pilot: Pilot) -> None:
    """Enter on the multithreaded trainer (PID 1400): its details screen, data loaded."""
    from pidtop.ui.screens.details import DetailsScreen

    app = pilot.app
    assert isinstance(app, PidtopApp) and isinstance(app.source, ScriptedSource)
    app.view.set_cursor_key(app.source.key_of(1400))
    await pilot.press("enter")
    await _until(pilot, lambda: isinstance(app.screen, DetailsScreen))
    await pilot.pause(0.3)  # the first read comes from a thread worker


async def _exits(pilot: Pilot) -> None:
    """E: the exit journal (the scripted journal's exits)."""
    from pidtop.ui.screens.exits import ExitsScreen

    app = pilot.app
    await pilot.press("E")
    await _until(pilot, lambda: isinstance(app.screen, ExitsScreen))
    await pilot.pause(0.3)


SHOTS: tuple[tuple[str, tuple[int, int], str, Step], ...] = (
    ("main", (120, 40), "textual-dark", _nothing),
    ("main-light", (120, 40), "textual-light", _nothing),
    ("tree", (120, 40), "textual-dark", _tree),
    ("sorted-by-memory", (120, 40), "textual-dark", _memory),
    ("filter", (120, 30), "textual-dark", _filter),
    ("search", (120, 30), "textual-dark", _search),
    ("small-80x24", (80, 24), "textual-dark", _nothing),
    ("pins", (120, 40), "textual-dark", _pins),
    ("details", (120, 40), "textual-dark", _details),
    ("exits", (120, 30), "textual-dark", _exits),
)


async def shoot(name: str, size: tuple[int, int], theme: str, step: Step, out: Path = OUT) -> Path:
    """Run the app on the scripted source, apply ``step``, save ``<name>.svg`` in ``out``."""
    source = ScriptedSource()
    pins = PinSet(EventLog(clock=source.now), clock=source.now, opener=ScriptedOpener())
    journal = ScriptedJournal() if step is _exits else None
    app = PidtopApp(source, delay=1.5, sample_limit=NEW_AT + 1, pins=pins, journal=journal)
    async with app.run_test(size=size) as pilot:
        app.theme = theme
        for _ in range(500):
            if app.samples_merged >= NEW_AT + 1:
                break
            await pilot.pause(0.01)
        await step(pilot)
        await pilot.pause()
        path = app.save_screenshot(filename=f"{name}.svg", path=str(out))
    return Path(path)


async def main() -> None:
    """Write every screenshot."""
    for var in ("NO_COLOR", "TEXTUAL_THEME"):
        os.environ.pop(var, None)
    for name, size, theme, step in SHOTS:
        print(await shoot(name, size, theme, step))


if __name__ == "__main__":
    asyncio.run(main())
