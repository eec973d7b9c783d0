"""Tree view + filter: the ancestors shown for context are never where the cursor lands
(issue 7, item 4). Real processes and the real sampler: the match is a child of this test
with a unique name; its ancestors (PID 1 ... pytest) are shown as context above it."""

from __future__ import annotations

import os
import secrets

import pytest
from procs import spawn
from tmuxterm import TMUX, Term, pidtop_line
from uitools import burst, wait_for

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp

#: unique to this run (two runs on one machine must not filter each other's child): at most
#: 15 characters, a process name's limit
NAME = f"cx{os.getpid():x}{secrets.token_hex(2)}"[:15]


def cursor(app: PidtopApp) -> tuple[int, bool]:
    row = app.view.cursor_row
    assert row is not None
    return row.info.pid, row.context


@pytest.mark.parametrize("send", ["burst", "press"])
async def test_filter_in_tree_view_lands_on_the_match(send: str) -> None:
    """``t``, ``\\NAME`` Enter, Space: the match is pinned, not PID 1 (the first row,
    shown only as the match's ancestor)."""
    with spawn(comm=NAME) as t:
        app = PidtopApp(ProcSampler(), delay=0.5)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: app.samples_merged >= 1)
            await wait_for(pilot, lambda: any(r.info.pid == t.pid for r in app.table.rows))
            keys = ("t", "backslash", *NAME, "enter")
            await (burst(pilot, *keys) if send == "burst" else pilot.press(*keys))
            await wait_for(pilot, lambda: not app.prompt.is_open)
            rows = app.table.rows
            assert rows[0].context and rows[0].info.pid == 1  # the context is shown...
            assert cursor(app) == (t.pid, False)  # ...but the cursor is on the match
            await pilot.press("space")
            assert [p.key[0] for p in app.pins] == [t.pid]


async def test_cursor_on_an_ancestor_moves_to_its_match_when_filtered() -> None:
    """The cursor on PID 1 before filtering: PID 1 becomes a context row, the cursor goes to
    the first match; moved back onto it by the user, it stays there (explicit)."""
    with spawn(comm=NAME) as t:
        app = PidtopApp(ProcSampler(), delay=0.5, sort_column="pid", sort_reverse=False)
        async with app.run_test(size=(120, 40)) as pilot:
            await wait_for(pilot, lambda: any(r.info.pid == t.pid for r in app.table.rows))
            await pilot.press("t", "home")
            assert cursor(app) == (1, False)
            await pilot.press("backslash", *NAME, "enter")
            await wait_for(pilot, lambda: not app.prompt.is_open)
            assert cursor(app) == (t.pid, False)
            await pilot.press("home")  # the user's own choice
            assert cursor(app) == (1, True)
            before = app.samples_merged
            app.sample_now()
            await wait_for(pilot, lambda: app.samples_merged > before)
            assert cursor(app) == (1, True)


@pytest.mark.skipif(TMUX is None, reason="needs tmux")
def test_tmux_tree_filter_space_pins_the_match() -> None:
    """The real app in tmux, one burst: ``t \\NAME Enter Space`` pins the match (it pinned
    PID 1, the top context row)."""
    with spawn(comm=NAME) as t, Term(pidtop_line("-d", "10"), size=(120, 40)) as term:
        term.wait("PID")
        term.wait("Tasks")
        term.send("t", "\\", *NAME, "Enter", "Space")
        shown = term.wait("Pinned 1")
        pinned = [ln for ln in shown.splitlines() if "●" in ln and ":" in ln]
        assert pinned and f"● {t.pid}:" in pinned[0], shown
        term.send("q")
        assert term.exit_status() == 0
