"""Notifications that fit: a 100 KB command line in a toast used to fill half the screen."""

from __future__ import annotations

from textual.widgets._toast import Toast
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.layout import cell_width
from pidtop.settings.options import Options
from pidtop.ui.app import PidtopApp
from pidtop.ui.notify import MAX_CELLS, MAX_LINES, fit_notice

SIZE = (120, 40)


def test_fit_notice_cuts_lines_and_cells() -> None:
    assert fit_notice("Pinned 3 processes") == "Pinned 3 processes"  # short: unchanged
    cut = fit_notice("x" * 100_000)
    assert cell_width(cut) == MAX_CELLS and cut.endswith("…")
    many = fit_notice("\n".join(f"line {n}" for n in range(50)))
    assert many.splitlines()[-1] == f"… {50 - MAX_LINES} more lines"
    assert len(many.splitlines()) == MAX_LINES + 1
    wide = fit_notice("界" * 1000)  # two cells each: the budget is cells, not characters
    assert cell_width(wide) <= MAX_CELLS
    assert fit_notice("a\x1bb\u200bc") == "a^[b\ufffdc"  # each line sanitised, breaks kept


async def test_a_huge_notification_stays_small_on_screen() -> None:
    """A 100 KB argv (with an escape and invisible characters) in a real toast: a few rows."""
    app = PidtopApp(ScriptedSource(), Options(delay=3600.0))
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        argv = "/usr/bin/x \x1b[2J\u200b" + "A" * 100_000
        app.notify(f"1234:5678 {argv}: exited 0", title="Waited\nprocess", markup=False)
        await wait_for(pilot, lambda: bool(app.query(Toast)))
        await pilot.pause()
        toast = app.query(Toast).last()
        assert toast.region.height <= 14, toast.region
        shown = app._notifications
        message = list(shown)[-1].message
        assert "\x1b" not in message and "\u200b" not in message
        assert list(shown)[-1].title == "Waited process"
