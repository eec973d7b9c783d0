"""A merged sample is not kept alive by the thread worker that took it (a finished Textual
worker lives until the next full garbage collection, up to 30 s under pidtop.ui.gcpolicy: each
one kept its whole snapshot)."""

from __future__ import annotations

import gc

from textual.worker import Worker
from uitools import wait_for

from pidtop.sampling.snapshot import Snapshot
from pidtop.settings.options import Options
from pidtop.ui.startup import build_app


async def test_merged_samples_are_not_held_by_their_workers() -> None:
    app = build_app(Options(demo=True, delay=0.1))
    taken: list[Snapshot] = []
    real = app.source.sample

    def sample(**kwargs: object) -> Snapshot:
        snap = real(**kwargs)  # type: ignore[arg-type]
        taken.append(snap)
        return snap

    app.source.sample = sample  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 5)
        merged = app.table.snapshot
        assert merged is not None and merged in taken  # the worker's samples are merged
        holders = [
            type(r).__name__
            for snap in taken[:-1]
            for r in gc.get_referrers(snap)
            if isinstance(r, Worker)
        ]
        assert holders == []
    app.events.close()
