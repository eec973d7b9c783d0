"""The process view reuses a process's strip wherever its row goes (issue 18: ``I`` rebuilt
every line); a reused strip must never show stale data. Each check compares what the view
draws with what it draws after every cache is dropped, style by style."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

from textual.pilot import Pilot
from textual.strip import Strip
from uitools import resample, wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import cell_text
from pidtop.sampling.snapshot import ProcInfo, Snapshot
from pidtop.ui.app import PidtopApp
from pidtop.ui.widgets.process_view import ProcessView

SIZE = (120, 30)


class ReusingSource(ScriptedSource):
    """The scripted processes, with the real sampler's habit: a process whose ``stat`` did not
    change keeps the very same ``ProcInfo`` object from one sample to the next."""

    def __init__(self) -> None:
        super().__init__()
        self._last: dict[int, ProcInfo] = {}

    def sample(self, *, threads: bool = False, fields: frozenset[str] = frozenset()) -> Snapshot:
        snap = super().sample(threads=threads, fields=fields)
        procs = tuple(old if (old := self._last.get(p.pid)) == p else p for p in snap.processes)
        self._last = {p.pid: p for p in procs}
        return replace(snap, processes=procs)


def drawn(view: ProcessView) -> list[Strip]:
    return [view.render_line(y) for y in range(view.size.height)]


def assert_fresh(view: ProcessView) -> None:
    """What the view draws now (caches and all) is what it draws from scratch."""
    cached = drawn(view)
    kept = (dict(view._strips), dict(view._line_cache), view._header)
    view._invalidate()
    fresh = drawn(view)
    view._strips, view._line_cache, view._header = kept  # as they were: the test goes on
    assert [s.text for s in cached] == [s.text for s in fresh]
    assert cached == fresh  # the styles too (the cursor bar, new/dying rows)


def count_builds(view: ProcessView) -> list[int]:
    """A counter of the rows the view builds from scratch (not taken from a cache)."""
    built = [0]
    build = view._build_row

    def counting(index: int, row: object) -> Strip:
        built[0] += 1
        return build(index, row)  # type: ignore[arg-type]

    view._build_row = counting  # type: ignore[method-assign]
    return built


async def started(pilot: Pilot, app: PidtopApp) -> None:
    await wait_for(pilot, lambda: app.samples_merged >= 2)
    await pilot.pause()


async def test_invert_reuses_the_strips_and_a_changed_row_is_redrawn() -> None:
    source = ReusingSource()
    app = PidtopApp(source, delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = app.view
        await pilot.press("N")  # by PID: ``I`` shows the other end of the list
        await pilot.press("I", "I")  # both ends drawn once
        await pilot.pause()
        assert_fresh(view)
        built = count_builds(view)
        await pilot.press("I")
        await pilot.pause()
        assert built[0] <= 2  # at most the cursor bar's row and the one it left
        assert_fresh(view)

        # an idle process on screen starts to run: its reused ProcInfo is replaced, its
        # CPU% cell must show the new value at once, wherever its row is
        top = int(view.scroll_offset.y)
        shown = view.table.rows[top + 3 : top + view.body_height]
        idle = next(r for r in shown if r.cpu == 0.0 and r.info.state == "S" and r.info.cmdline)
        source._procs[idle.info.pid].load = 0.5
        await resample(pilot)
        row = app.table.get(idle.key)
        assert row is not None and row.cpu > 0
        assert built[0] >= 1  # (the counter counts)
        index = app.table.index_of(idle.key)
        assert index is not None
        line = view.render_line(index - int(view.scroll_offset.y) + 1).text
        assert cell_text(row, "cpu", snapshot=app.table.snapshot) in line
        assert_fresh(view)
        source._procs[idle.info.pid].load = 0.0  # idle again: the same ProcInfo, CPU% 0.0
        await resample(pilot)
        assert app.table.get(idle.key) is row and row.cpu == 0.0
        assert_fresh(view)

        await pilot.press("I")  # and back at its new place after the inversion
        await pilot.pause()
        assert_fresh(view)


async def test_cached_strips_follow_every_view_change() -> None:
    """Sort keys, inversion, cursor moves, filter, tree, threads, marks and a resample: after
    each, the cached strips equal freshly built ones."""
    source = ReusingSource()
    app = PidtopApp(source, delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = app.view
        steps: list[tuple[str, ...]] = [
            ("N",),
            ("I",),
            ("down", "down", "down"),
            ("I",),
            ("P",),
            ("t",),
            ("I",),
            ("t",),
            ("M",),
            ("space",),  # a pin: the mark gutter comes
            ("down", "space"),
            ("K",),
            ("K",),
            ("end",),
            ("I",),
            ("home",),
        ]
        for keys in steps:
            await pilot.press(*keys)
            await pilot.pause()
            assert_fresh(view)
            await resample(pilot)
            assert_fresh(view)


async def test_a_row_is_one_segment_per_run_of_one_style() -> None:
    """Each cached row strip joins neighbouring cells of one style into one segment: Textual
    writes every segment with its own colour sequence and reset (a plain row's ~12 cells, one
    style, were half of a repainted frame's bytes)."""
    app = PidtopApp(ReusingSource(), delay=3600.0)  # type: ignore[arg-type]
    async with app.run_test(size=SIZE) as pilot:
        await started(pilot, app)
        view = app.view
        await pilot.press("down", "space")  # a pin: the mark gutter's own style too
        await pilot.pause()
        top = int(view.scroll_offset.y)
        rows = [view._row_strip(top + y, view._content_width()) for y in range(view.body_height)]
        assert len(rows) > 5
        for strip in rows:
            segments = list(strip)
            assert all(a.style != b.style for a, b in pairwise(segments))
        assert_fresh(view)
