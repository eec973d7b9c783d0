"""The picker's "whole tree" option, with REAL process trees and the real sampler (Pilot).

Each tree is forked here (``forktree.static_tree``) and killed at the end through pidfds of its
own processes, whatever the test did.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
from collections.abc import Iterator
from contextlib import contextmanager

from forktree import read_born, static_tree
from procs import spawn
from textual.pilot import Pilot
from textual.widgets import Checkbox, Label
from uitools import notes, wait_for

from pidtop.sampling.sampler import ProcSampler
from pidtop.ui.app import PidtopApp
from pidtop.ui.screens.signals import ConfirmScreen, SignalScreen

SIZE = (160, 40)
_held: dict[int, int] = {}  # PID -> a pidfd held on it by the fixture


@contextmanager
def tree(fanout: int, depth: int, *, ignore_term: bool = False) -> Iterator[list[int]]:
    """A tree of waiting processes (root first); every one of them is killed at the end."""
    root, born = static_tree(fanout=fanout, depth=depth, ignore_term=ignore_term)
    want = sum(fanout**i for i in range(depth + 1))
    try:
        pids = read_born(born, want)
        assert len(pids) == want and pids[0] == root
        fds = [os.pidfd_open(p) for p in pids]
        _held.update(zip(pids, fds, strict=True))
    finally:
        os.close(born)
    try:
        yield pids
    finally:
        for pid, fd in zip(pids, fds, strict=True):
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(fd, signal.SIGKILL)
            os.close(fd)
            del _held[pid]
        os.waitpid(root, 0)


def alive(pid: int) -> bool:
    """Not exited (asked through the fixture's own pidfd: never another process)."""
    p = select.poll()
    p.register(_held[pid], select.POLLIN)
    return not p.poll(0)


def _pending(pid: int) -> int:
    """The signals pending for ``pid`` (its own and its thread group's), as a bit mask."""
    mask = 0
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(("SigPnd:", "ShdPnd:")):
                mask |= int(line.split()[1], 16)
    return mask


def untouched(pids: list[int], within: float = 0.5) -> bool:
    """None of ``pids`` was signalled: none has a signal pending, none is stopped, and none
    exits within ``within`` seconds (its pidfd, polled for that long). A process SIGKILLed a
    moment ago can still read ``R`` in /proc: its state alone proves nothing."""
    if any(_pending(p) or state(p) not in ("S", "R") for p in pids):
        return False
    poll = select.poll()
    for p in pids:
        poll.register(_held[p], select.POLLIN)
    return not poll.poll(int(within * 1000))


def state(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().rpartition(b")")[2].split()[0].decode()
    except OSError:
        return None


def make_app(pids: list[int]) -> PidtopApp:
    return PidtopApp(
        ProcSampler(), delay=0.2, sort_column="pid", sort_reverse=False, pids=frozenset(pids)
    )


async def listed(pilot: Pilot, app: PidtopApp, n: int) -> None:
    await wait_for(pilot, lambda: len(app.table.rows) == n and app.samples_merged >= 2)
    await pilot.pause()


def tree_box(app: PidtopApp) -> Checkbox | None:
    boxes = app.screen.query("#signal-tree")
    return boxes.first(Checkbox) if boxes and boxes.first().display else None  # offered


async def test_picker_offers_the_whole_tree_and_kills_it() -> None:
    with tree(2, 1) as pids:
        app = make_app(pids)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await listed(pilot, app, 3)  # cursor on the root (sorted by PID)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            box = tree_box(app)
            assert box is not None and not box.value
            assert "whole tree (3 processes" in str(box.label)
            await pilot.press("ctrl+t")
            title = app.screen.query_one("#signal-title", Label)
            assert "whole tree: 3 processes" in str(title.render())
            await pilot.press("enter")  # SIGTERM; 3 processes ask no confirmation
            await wait_for(pilot, lambda: any("Whole tree of" in m for m in notes(app)))
            note = next(m for m in notes(app) if "Whole tree of" in m)
            assert "3 processes" in note and "SIGTERM: 3 delivered" in note, note
            await wait_for(pilot, lambda: not any(alive(p) for p in pids))
            tree_entries = [e for e in app.events.entries if "whole tree" in e.message.lower()]
            assert len(tree_entries) == 3 + 1  # one per process, one summary


async def test_typed_as_one_burst() -> None:
    """``k`` ctrl+t Enter as one burst (a fast typist): the whole tree is signalled."""
    with tree(2, 1) as pids:
        app = make_app(pids)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await listed(pilot, app, 3)
            await pilot.press("k", "ctrl+t", "enter")
            await wait_for(pilot, lambda: any("Whole tree of" in m for m in notes(app)))
            await wait_for(pilot, lambda: not any(alive(p) for p in pids))


async def test_whole_tree_is_preselected_on_a_collapsed_subtree() -> None:
    with tree(2, 1) as pids:
        app = make_app(pids)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await listed(pilot, app, 3)
            await pilot.press("t", "minus")  # tree view, collapse the root's subtree
            await wait_for(pilot, lambda: app.table.is_collapsed(app.view.cursor_key))
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            box = tree_box(app)
            assert box is not None and box.value, "whole tree not preselected"
            await pilot.press("escape")  # cancel: nothing sent
            await pilot.press("plus")  # expanded: offered, not preselected
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            box = tree_box(app)
            assert box is not None and not box.value
            await pilot.press("escape")
            assert untouched(pids)


async def test_confirmation_counts_the_whole_tree() -> None:
    """7 processes in the tree (more than 5): the kill asks first; No sends nothing, Yes kills
    them all. Keys typed as one burst."""
    with tree(2, 2) as pids:
        app = make_app(pids)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await listed(pilot, app, 7)
            await pilot.press("k", "ctrl+t", "enter")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            reasons = str(app.screen.query_one("#confirm-reasons").render())
            assert "7 processes (the whole tree)" in reasons
            await pilot.press("n")
            await wait_for(pilot, lambda: "Nothing sent" in notes(app))
            assert untouched(pids)
            await pilot.press("k", "9", "ctrl+t", "enter", "y")
            await wait_for(pilot, lambda: any("SIGKILL: 7 delivered" in m for m in notes(app)))
            await wait_for(pilot, lambda: not any(alive(p) for p in pids))


async def test_no_tree_option_without_children() -> None:
    with spawn() as t:
        app = make_app([t.pid])
        async with app.run_test(size=SIZE) as pilot:
            await listed(pilot, app, 1)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            assert tree_box(app) is None
            await pilot.press("ctrl+t", "escape")  # nothing to toggle: no error


async def test_quit_during_a_whole_tree_escalation_asks_and_cancels_it() -> None:
    """ "SIGTERM, then SIGKILL after 30 s" on a tree that ignores SIGTERM: q asks first (No keeps
    the app and the pending step); Yes quits at once and the SIGKILL is never sent."""
    with tree(2, 1, ignore_term=True) as pids:
        app = make_app(pids)
        app.escalate_after = 30
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await listed(pilot, app, 3)
            await pilot.press("k")
            await wait_for(pilot, lambda: isinstance(app.screen, SignalScreen))
            await pilot.press("ctrl+t", *"escalate", "enter")
            await wait_for(pilot, lambda: len(app.tree_kills) == 1)
            await pilot.press("q")
            await wait_for(pilot, lambda: isinstance(app.screen, ConfirmScreen))
            text = " ".join(str(w.render()) for w in app.screen.query("Label, Static"))
            assert "SIGKILL to the whole tree of" in text and "will not be sent" in text, text
            await pilot.press("n")
            await wait_for(pilot, lambda: not isinstance(app.screen, ConfirmScreen))
            assert app.is_running and len(app.tree_kills) == 1
            await pilot.press("q", "y")
            await wait_for(pilot, lambda: not app.is_running)
        for _ in range(200):  # bounded: the worker polls the cancel every 50 ms
            if app.tree_kills == []:
                break
            await asyncio.sleep(0.02)
        assert app.tree_kills == [], "the worker did not see the cancel"
        assert untouched(pids), "SIGKILL was sent"
