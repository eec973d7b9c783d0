"""The monitor's history is fed only what changed (issue 18: a pass over every row each refresh,
~0.4 ms at +1,000 idle processes): each ``ProcessTable.update`` names the rows whose values can
have changed (``changed``) and the rows gone (``gone``), and ``History.record_changes`` gives the
same series as ``History.record`` of every live row, sample after sample."""

from __future__ import annotations

import random
from dataclasses import replace

from test_table import P, S

from pidtop.sampling.history import History
from pidtop.sampling.snapshot import ProcInfo
from pidtop.sampling.table import ProcessTable


def test_idle_processes_are_not_handed_to_the_history() -> None:
    procs = [P(pid, ut=pid, rss=4096) for pid in range(1, 200)]
    table = ProcessTable()
    table.update(S(1.0, *procs))
    assert len(table.changed) == len(procs) and table.gone == []  # all new
    busy = replace(procs[5], utime=procs[5].utime + 50)
    table.update(S(2.0, *procs[:5], busy, *procs[6:]))  # the sampler reuses idle ProcInfo
    assert [r.info.pid for r in table.changed] == [busy.pid] and table.gone == []
    table.update(S(3.0, *procs[:5], busy, *procs[6:-1]))  # it went idle again; the last one exits
    assert [(r.info.pid, r.cpu) for r in table.changed] == [(busy.pid, 0.0)]
    assert table.gone == [(procs[-1].pid, procs[-1].starttime)]
    table.update(S(4.0, *procs[:5], busy, *procs[6:]))  # back after a read error (its dying row)
    assert [r.info.pid for r in table.changed] == [procs[-1].pid] and table.gone == []
    table.update(S(5.0, *procs[:5], busy, *procs[6:]))
    assert table.changed == [] and table.gone == []


def test_the_changes_give_the_same_history_as_every_row() -> None:
    rng = random.Random(18)
    for trial in range(30):
        points = rng.choice((1, 2, 3, 5, 100))
        table = ProcessTable()
        full, changes = History(points=points), History(points=points)
        live: dict[int, ProcInfo] = {pid: P(pid, rss=4096) for pid in range(1, 12)}
        for tick in range(rng.randrange(1, 140)):
            for pid in list(live):
                roll = rng.random()
                if roll < 0.05:
                    del live[pid]  # exits (maybe back later, as a new process or a read error)
                elif roll < 0.2:
                    p = live[pid]
                    live[pid] = replace(p, utime=p.utime + rng.choice((0, 1, 7)))
                elif roll < 0.25:
                    live[pid] = replace(live[pid], rss=rng.choice((4096, 8192, 1 << 33)))
            for pid in range(1, 12):
                if pid not in live and rng.random() < 0.1:
                    live[pid] = P(pid, rss=4096, start=pid + rng.choice((0, 1000 * tick)))
            table.update(S(float(tick + 1), *live.values()))
            rows = [(r.key, r.cpu, r.info.rss) for r in table.all_rows() if r.status != "dying"]
            full.record(rows, float(tick))
            rows_changed = [(r.key, r.cpu, r.info.rss) for r in table.changed]
            changes.record_changes(rows_changed, table.gone, float(tick))
            if rng.random() < 0.3:  # reading a series in between changes nothing
                key = rng.choice(rows)[0] if rows else (1, 1)
                assert changes.series(key) == full.series(key), (trial, tick)
        assert len(changes) == len(full), trial
        for row in table.all_rows():
            assert changes.series(row.key) == full.series(row.key), (trial, row.key)
