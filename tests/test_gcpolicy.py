"""The collector's schedule while the app runs (:mod:`pidtop.ui.gcpolicy`): cyclic garbage is
still freed within a bound, and the collector is given back as it was at the app's end."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest
from uitools import wait_for

from pidtop.demo.source import ScriptedSource
from pidtop.settings.options import Options
from pidtop.ui import gcpolicy
from pidtop.ui.app import PidtopApp
from pidtop.ui.gcpolicy import GcPolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the collector frees it


def cycle() -> weakref.ref[Node]:
    """A cycle no one refers to any more, seen through a weak reference."""
    return weakref.ref(Node())


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    now = [1000.0]
    monkeypatch.setattr(gcpolicy.time, "monotonic", lambda: now[0])
    yield now


@pytest.fixture(autouse=True)
def _collector_back() -> Iterator[None]:
    """Whatever a test leaves, the next one gets the collector on and nothing frozen."""
    yield
    gc.unfreeze()
    gc.enable()


def test_young_cycles_are_freed_at_the_next_tick(clock: list[float]) -> None:
    policy = GcPolicy(full_every=30)
    policy.settled()
    assert not gc.isenabled() and gc.get_freeze_count() > 0
    ref = cycle()
    for _ in range(3):
        [object() for _ in range(1000)]  # allocations: no automatic collection follows
    assert ref() is not None
    policy.tick()
    assert ref() is None


def test_the_young_generation_is_collected_every_young_every_ticks(clock: list[float]) -> None:
    """Not at every tick: a young cycle made after a collection lives until the
    ``young_every``-th tick after it, and is freed then."""
    policy = GcPolicy(full_every=30, young_every=3)
    policy.settled()
    policy.tick()
    assert policy.collections == 1
    ref = cycle()
    for _ in range(2):
        clock[0] += 1
        policy.tick()
        assert ref() is not None
    assert policy.collections == 1
    clock[0] += 1
    policy.tick()
    assert policy.collections == 2 and ref() is None


def test_the_timer_sleeps_through_the_ticks_that_only_count_down(clock: list[float]) -> None:
    """``due_in``: the app's gc timer wakes the loop once per ``young_every`` s at idle (not
    each second), sooner when a full collection is due; the woken tick does the skipped
    ticks' counting, so the collections come when they did with a tick a second."""
    policy = GcPolicy(full_every=30, young_every=5)
    assert policy.due_in() == 1  # settling: a tick a second
    policy.settled()
    assert policy.due_in() == 1
    policy.tick()
    assert policy.collections == 1
    assert policy.due_in() == 5  # four ticks that would only count down
    ref = cycle()
    clock[0] += 5
    policy.tick(skipped=4)
    assert policy.collections == 2 and ref() is None and policy.ticks == 6
    clock[0] += 23.5  # the full collection is due in 1.5 s: at the second tick from now
    assert policy.due_in() == 2
    clock[0] += 2
    policy.tick(skipped=1)
    assert policy.collections == 3 and policy.due_in() == 5


def test_an_old_cycle_is_freed_by_the_full_collection_within_its_bound(
    clock: list[float],
) -> None:
    """A cycle that lived through a tick (moved to the old generation) and was then dropped:
    young collections do not look at it; the full one, due every ``full_every`` s, does."""
    policy = GcPolicy(full_every=30)
    policy.settled()
    kept: list[Node] = [Node()]
    ref = weakref.ref(kept[0])
    clock[0] += 1
    policy.tick()  # it survives: old now
    kept.clear()
    clock[0] += 1
    policy.tick()
    assert ref() is not None  # a young collection does not free it
    clock[0] += 30
    policy.tick()
    assert ref() is None


def test_stop_gives_the_collector_back() -> None:
    policy = GcPolicy()
    policy.settled()
    policy.stop()
    assert gc.isenabled() and gc.get_freeze_count() == 0
    gc.disable()  # off before (a caller's choice): stays off
    policy = GcPolicy()
    policy.settled()
    policy.stop()
    assert not gc.isenabled() and gc.get_freeze_count() == 0


async def test_the_app_collects_on_its_ticks_and_restores_the_collector_at_its_end() -> None:
    """Until start-up is over the collector runs as usual; then it is off and the app's 1 s
    tick collects (a cycle made meanwhile is freed); after the app, it is as before."""
    assert gc.isenabled()
    app = PidtopApp(ScriptedSource(), Options())
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 1)
        assert gc.isenabled() and not app.gc_policy.active
        await wait_for(pilot, lambda: app.gc_policy.active, timeout=gcpolicy.SETTLE_TICKS + 5)
        assert not gc.isenabled() and gc.get_freeze_count() > 0
        ref = cycle()
        ticks = app.gc_policy.collections
        await wait_for(
            pilot, lambda: app.gc_policy.collections > ticks, timeout=gcpolicy.YOUNG_EVERY + 5
        )
        assert ref() is None
    assert gc.isenabled() and gc.get_freeze_count() == 0


def test_a_frozen_cycle_is_freed_when_everything_is_collected(clock: list[float]) -> None:
    """What survives a full collection is frozen (the next one walks less); a cycle among
    those that becomes garbage later is freed by the collection of everything, due every
    ``thaw_every`` s."""
    policy = GcPolicy(full_every=30, thaw_every=600)
    policy.settled()
    kept: list[Node] = [Node()]
    ref = weakref.ref(kept[0])
    clock[0] += 30
    policy.tick()  # full: it survives, and is frozen
    kept.clear()
    clock[0] += 30
    policy.tick()
    assert ref() is not None  # frozen: a full collection does not free it
    clock[0] += 600
    policy.tick()
    assert ref() is None
