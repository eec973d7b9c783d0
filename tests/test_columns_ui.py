"""The column API as the setup screen and the config use it, in the running app (Pilot, scripted
source): set_columns, then the view and the sampler follow."""

from __future__ import annotations

from functools import partial

from uitools import resample as resample_app
from uitools import wait_for as wait_for_condition

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import DEFAULT_COLUMNS
from pidtop.ui.app import PidtopApp

wait_for = partial(wait_for_condition, timeout=5.0)
resample = partial(resample_app, timeout=5.0)


def _lines(app: PidtopApp) -> list[str]:
    view = app.view
    return [view.render_line(y).text for y in range(view.size.height)]


async def test_set_columns_in_a_running_app() -> None:
    """ProcessTable.set_columns(ids) + view.rows_changed(full=True) + sample_now(): the header
    and rows change at once; the next sample carries the new fields (the scripted source, like
    the real sampler, fills I/O and cgroup only when asked)."""
    app = PidtopApp(ScriptedSource(), delay=3600.0, sort_column="pid")  # type: ignore[arg-type]
    async with app.run_test(size=(160, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        assert app.view.visible_columns == list(DEFAULT_COLUMNS)
        assert app.table.fields == frozenset()
        ids = ["pid", "user", "io_read", "io_write", "unit", "cpu", "mem", "time", "command"]
        app.table.set_columns(ids)
        app.view.rows_changed(full=True)
        await pilot.pause()
        assert app.view.visible_columns == ids
        header = _lines(app)[0]
        assert "RD/s" in header and "UNIT" in header and "PRI" not in header
        assert app.table.fields == {"io", "cgroup"}
        await resample(pilot)
        await resample(pilot)  # two readings: a rate
        text = "\n".join(_lines(app))
        assert "no perm" in text  # the postgres user's processes (scripted)
        assert "ssh.service" in text
        row = next(r for r in app.table.rows if r.info.pid == 601)
        assert row.io_read_rate is not None and row.info.cgroup == "/system.slice/ssh.service"
        app.table.set_columns(DEFAULT_COLUMNS)
        app.view.rows_changed(full=True)
        await pilot.pause()
        assert "RD/s" not in _lines(app)[0] and app.table.fields == frozenset()


async def test_narrow_terminal_keeps_cpu_mem_time(pilot_size: tuple[int, int] = (60, 24)) -> None:
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=pilot_size) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        await pilot.pause()
        shown = app.view.visible_columns
        assert {"pid", "cpu", "mem", "time", "command"} <= set(shown), shown
        assert "pri" not in shown and "ni" not in shown
        header = _lines(app)[0]
        assert "CPU%" in header and "MEM%" in header and "TIME+" in header


async def test_sort_keys_step_through_the_shown_columns() -> None:
    """``<``/``>`` and F6 offer the shown columns (as htop), not the whole registry."""
    app = PidtopApp(ScriptedSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 2)
        app.table.set_columns(["pid", "nlwp", "cpu", "command"])
        app.view.rows_changed(full=True)
        await pilot.press("greater_than_sign")
        assert app.table.sort_column == "command"
        await pilot.press("greater_than_sign", "greater_than_sign")
        assert app.table.sort_column == "nlwp"  # wrapped: command -> pid -> nlwp
        await pilot.press("f6")
        await pilot.pause()
        options = app.screen.query_one("OptionList")
        assert options.option_count == 4  # type: ignore[attr-defined]
