"""Wake-ups of the UI loop at an idle refresh (issue 18, CPU at +1,000): the sampling loop and
the header's exit words and the collector take no Textual timer of their own, and the header timer
never fires while merges come (a merge pushes it back); paused, it still fires."""

from __future__ import annotations

from uitools import wait_for

from pidtop.demo.journal import ScriptedJournal
from pidtop.demo.source import ScriptedSource
from pidtop.ui.app import PidtopApp
from pidtop.ui.exits_actions import HEADER_EVERY, MERGE_SLACK


async def test_no_timer_wakes_the_loop_between_merges() -> None:
    """At a 0.2 s refresh for 3 header periods: no Textual timer for the samples or the header,
    and the header timer's callback never runs; paused, it runs within a period or two."""
    app = PidtopApp(ScriptedSource(), delay=0.2, journal=ScriptedJournal())
    due: list[int] = []
    journal_due = app._journal_due

    def counting() -> None:
        due.append(app.samples_merged)
        journal_due()

    app._journal_due = counting  # type: ignore[method-assign]  # before start_journal
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_for(pilot, lambda: app._journal_reader is not None and app.samples_merged > 2)
        merged = app.samples_merged
        await pilot.pause(3 * HEADER_EVERY)
        assert app.samples_merged >= merged + 5  # merges came all along
        names = {timer.name for timer in app._timers}
        assert not names & {"sample-timer", "journal-header", "gc"}, names
        assert due == []  # each merge pushed the header timer back: it never woke the loop
        await pilot.press("Z")
        assert app.paused
        await wait_for(pilot, lambda: len(due) >= 2, timeout=3 * (HEADER_EVERY + MERGE_SLACK))
