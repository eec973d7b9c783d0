"""The header repaints only the lines that changed (issue 18: a new status word or exit
counter rebuilt every line). A kept line must never be stale: after every change what the
header draws is compared, style by style, with what a header built from scratch draws."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.strip import Strip
from uitools import wait_for

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.source import ScriptedSource
from pidtop.sampling.rows import TaskCounts
from pidtop.sampling.snapshot import Snapshot, SystemInfo
from pidtop.ui.app import PidtopApp
from pidtop.ui.exits_actions import HEADER_EVERY, MERGE_SLACK
from pidtop.ui.widgets.meters import Meters


def snap(cpu: tuple[float, ...], mem: int = 1 << 29, load: float = 0.5) -> Snapshot:
    numbers = tuple(range(len(cpu)))
    info = SystemInfo(cpu, 1 << 30, mem, 1 << 28, 0, (load, 0.2, 0.1), 3600.0, 2, numbers)
    return Snapshot(time=1.0, wall=1.0, processes=(), system=info)


class One(App[None]):
    def compose(self) -> ComposeResult:
        yield Meters()


def drawn(meters: Meters) -> list[Strip]:
    return [meters.render_line(y) for y in range(meters.size.height)]


def fresh(meters: Meters) -> list[Strip]:
    """What the header draws with every cache dropped (then put back as it was)."""
    kept = (meters._strips, meters._strips_width, meters._line_texts, meters._meter_cache)
    meters._strips, meters._line_texts, meters._meter_cache = None, [], None
    out = drawn(meters)
    meters._strips, meters._strips_width, meters._line_texts, meters._meter_cache = kept
    return out


def assert_fresh(meters: Meters) -> None:
    cached = drawn(meters)
    new = fresh(meters)
    assert [s.text for s in cached] == [s.text for s in new]
    assert cached == new  # the styles and the text-selection offsets too


async def test_each_change_draws_what_a_fresh_header_draws() -> None:
    app = One()
    async with app.run_test(size=(120, 12)) as pilot:
        meters = app.query_one(Meters)
        meters.update_snapshot(snap((10.0, 90.0)), TaskCounts(total=5, running=1))
        meters.set_status(("Sort: CPU%▼", "Delay: 1.0s"), False)
        await pilot.pause()
        assert_fresh(meters)
        steps = [
            lambda: meters.set_status(("Sort: CPU%▲", "Delay: 1.0s"), False),
            lambda: meters.set_status(
                ("Sort: CPU%▲", "Delay: 1.0s", "Exits: 2.0/s, 0 failed"), False
            ),
            lambda: meters.update_snapshot(snap((55.0, 90.0)), TaskCounts(total=5, running=1)),
            lambda: meters.update_snapshot(snap((55.0, 90.0), mem=1 << 28), TaskCounts(total=7)),
            lambda: meters.set_status(("Sort: CPU%▲",), True),  # PAUSED
            lambda: meters.set_status(("Sort: CPU%▲",), False, "REPLAY 2026-12-06 03:12:10"),
            lambda: meters.update_snapshot(snap((1.0, 2.0), load=9.0), TaskCounts(total=7)),
            # longer than the right half: wrapped or on a line of its own (a line more)
            lambda: meters.set_status(tuple(f"Word{i}: {'x' * 12}" for i in range(8)), False),
            lambda: meters.set_status(("Sort: PID▲",), False),  # a line less again
            lambda: meters.set_meters(("memory", "cpu", "uptime", "tasks")),
            lambda: meters.update_snapshot(snap((3.0, 4.0, 5.0)), TaskCounts(total=9)),  # CPUs
        ]
        for step in steps:
            step()
            await pilot.pause()
            assert_fresh(meters)
        await pilot.resize_terminal(90, 12)
        await pilot.pause()
        assert_fresh(meters)
        meters.set_status(("Sort: MEM%▼", "Delay: 2.0s"), False)
        await pilot.pause()
        assert_fresh(meters)


async def test_a_status_change_builds_only_the_status_line() -> None:
    """A new status word keeps the strip of every other line (and the meters' text)."""
    app = One()
    async with app.run_test(size=(120, 12)) as pilot:
        meters = app.query_one(Meters)
        meters.update_snapshot(snap((10.0, 90.0)), TaskCounts(total=5))
        meters.set_status(("Sort: CPU%▼", "Delay: 1.0s"), False)
        await pilot.pause()
        before = drawn(meters)
        meter_lines = meters._meter_cache
        meters.set_status(("Sort: CPU%▲", "Delay: 1.0s"), False)
        after = drawn(meters)
        changed = [y for y, (a, b) in enumerate(zip(before, after, strict=True)) if a is not b]
        assert len(changed) == 1 and "CPU%▲" in after[changed[0]].text
        assert meters._meter_cache is meter_lines  # the bars and figures were not made again
        await pilot.pause()
        assert_fresh(meters)


async def test_exit_words_follow_the_refresh_and_the_timer_only_without_it() -> None:
    """At a refresh of a second or less the header's exit words are redrawn by the merge (in
    the table's frame), not by a second frame of their own each second; paused (no merges),
    the header timer still brings them up to date."""
    app = PidtopApp(ScriptedSource(), delay=0.2, journal=ScriptedJournal())
    by_timer: list[float] = []  # when the header timer looked at the words itself
    timer_tick = app._journal_timer

    def counting() -> None:
        at = app._journal_words_at
        timer_tick()
        if app._journal_words_at != at:
            by_timer.append(at)

    app._journal_timer = counting  # type: ignore[method-assign]  # before start_journal
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app.journal is not None and app.journal.stats.exits == 11)
        await wait_for(pilot, lambda: "Exits: 2.5/s, 6 failed" in " · ".join(app.meters.status))
        start = app._journal_words_at
        await pilot.pause(2.5 * HEADER_EVERY)
        assert app._journal_words_at > start  # looked at again by the merges
        # while merges come the header timer never redraws the words itself
        assert [t for t in by_timer if t >= start] == []
        await pilot.press("Z")  # paused: no merges; the timer takes over
        assert app.paused
        assert app.journal is not None
        app.journal.stats.failed += 1
        await wait_for(
            pilot,
            lambda: "7 failed" in " · ".join(app.meters.status),
            timeout=3 * (HEADER_EVERY + MERGE_SLACK),
        )
