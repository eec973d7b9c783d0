"""Work skipped at an idle refresh (issue 18, CPU at +200) must not leave the screen stale:
the task counts kept across a merge with no change, the header's exit words drawn with the
sample's own rebuild of the meters."""

from __future__ import annotations

from dataclasses import replace

from test_table import P, S
from uitools import wait_for

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.source import ScriptedSource
from pidtop.sampling.rows import TaskCounts
from pidtop.sampling.table import ProcessTable
from pidtop.ui.app import PidtopApp
from pidtop.ui.widgets.meters import Meters


def test_task_counts_are_kept_only_while_true() -> None:
    """Each update's counts equal a count from scratch; unchanged processes keep the object."""
    a, b, k = P(10), P(11), P(2, kernel=True)
    table = ProcessTable()
    steps = [
        (a, b, k),  # first
        (a, b, k),  # same objects: kept
        (replace(a, utime=5), b, k),  # changed but the same state and threads: kept
        (replace(a, utime=6, state="R"), b, k),  # a state changed
        (replace(a, utime=7, num_threads=3), b, k),  # threads changed
        (replace(a, utime=8, num_threads=3), b, k, P(12)),  # a new process
        (replace(a, utime=8, num_threads=3), k, P(12)),  # b gone (its row dying)
        (replace(a, utime=8, num_threads=3), b, k, P(12)),  # b back (its row was dying)
        (P(12),),  # all but one gone
    ]
    kept = 0
    for t, procs in enumerate(steps):
        before = table.tasks
        table.update(S(float(t + 1), *procs))
        assert table.tasks == TaskCounts.from_processes(procs), t
        kept += table.tasks is before
    assert kept == 2  # the two steps that changed no count were not counted again


async def test_exit_words_are_drawn_with_the_merge_in_one_rebuild() -> None:
    """A merge that brings new exit words rebuilds the header's lines once (not once for the
    words and once for the sample), and the header shows the new words after it."""
    journal = ScriptedJournal()
    app = PidtopApp(ScriptedSource(), delay=0.2, journal=journal)
    builds: list[int] = []
    async with app.run_test(size=(120, 30)) as pilot:
        meters = app.query_one(Meters)
        await wait_for(pilot, lambda: "Exits: 2.5/s" in " · ".join(meters.status))
        build = meters._build_strips

        def counting(width: int):  # type: ignore[no-untyped-def]
            builds.append(app.samples_merged)
            return build(width)

        meters._build_strips = counting  # type: ignore[method-assign]
        journal.rate_value = 7.5  # the words change: drawn by the next merge
        await wait_for(pilot, lambda: "Exits: 7.5/s" in " · ".join(meters.status))
        at = app.samples_merged
        await wait_for(pilot, lambda: app.samples_merged >= at + 2)
        assert not getattr(meters, "hold_status", False)
        text = "".join(s.text for s in (meters.render_line(y) for y in range(meters.size.height)))
        assert "Exits: 7.5/s" in text  # on screen, not only in the state
        per_merge = [builds.count(n) for n in set(builds)]
        assert per_merge and max(per_merge) == 1, builds
