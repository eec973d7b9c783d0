"""A merged sample is not kept alive once a newer one is merged: not by what took it (a finished
Textual thread worker lived until the next full garbage collection, up to 30 s under
pidtop.ui.gcpolicy, and each one kept its whole snapshot), nor by anything else."""

from __future__ import annotations

import gc
import types

from uitools import wait_for

from pidtop.sampling.snapshot import Snapshot
from pidtop.settings.options import Options
from pidtop.ui.startup import build_app


async def test_merged_samples_are_not_held_once_replaced() -> None:
    app = build_app(Options(demo=True, delay=0.1))
    taken: list[Snapshot] = []
    real = app.source.sample

    def sample(**kwargs: object) -> Snapshot:
        snap = real(**kwargs)  # type: ignore[arg-type]
        taken.append(snap)
        return snap

    app.source.sample = sample  # type: ignore[method-assign]
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(pilot, lambda: app.samples_merged >= 8)
        merged = app.table.snapshot
        assert merged is not None and merged in taken  # the samples taken are merged
        # all but the newest few (one merged, one perhaps in flight) are held by this test only
        old = taken[:-3]
        assert len(old) >= 3
        holders = [
            type(r).__name__
            for snap in old
            for r in gc.get_referrers(snap)
            if r is not taken and r is not old and not isinstance(r, types.FrameType)
        ]
        assert holders == []
    app.events.close()
