"""The table keeps its order, without re-sorting, when nothing that orders it changed
(issue 18, item 3); any change that could move a row still re-sorts."""

from __future__ import annotations

from test_table import P, S, pids

from pidtop.sampling.table import ProcessTable


def test_idle_ticks_keep_the_order_and_a_change_resorts() -> None:
    idle = [P(pid, ut=pid) for pid in range(10, 20)]
    t = ProcessTable(sort_column="cpu")
    t.update(S(1.0, *idle))
    t.update(S(2.0, *idle))  # the sampler reuses unchanged ProcInfo objects: all idle
    order = list(t.rows)
    skipped = t.resorts_skipped
    t.update(S(3.0, *idle))
    assert t.resorts_skipped == skipped + 1 and list(t.rows) == order
    busy = [*idle[:5], P(15, ut=15 + 200), *idle[6:]]  # pid 15 ran: now first by CPU%
    t.update(S(4.0, *busy))
    assert t.resorts_skipped == skipped + 1
    assert pids(t)[0] == 15
    t.update(S(5.0, *busy))  # reused again: its CPU% drops to 0, it must move back
    assert t.resorts_skipped == skipped + 1
    assert pids(t)[0] != 15 and sorted(pids(t)) == list(range(10, 20))
    t.update(S(6.0, *busy[:-1]))  # one gone (dying): a change
    assert t.resorts_skipped == skipped + 1


def test_a_changed_process_whose_key_stays_does_not_resort() -> None:
    """Sorted by PID: a process that ran keeps its place, nothing is re-sorted."""
    procs = [P(pid) for pid in range(10, 15)]
    t = ProcessTable(sort_column="pid")
    t.update(S(1.0, *procs))
    t.update(S(2.0, *procs))
    skipped = t.resorts_skipped
    t.update(S(3.0, *procs[:2], P(12, ut=50), *procs[3:]))
    assert t.resorts_skipped == skipped + 1 and pids(t) == list(range(10, 15))


def test_invert_is_a_fresh_sort_in_the_other_direction() -> None:
    """``I`` reverses the rows instead of sorting them again: the order must be exactly the one
    a fresh sort gives (ties by ascending PID both ways), for every column, with ties, dying
    rows, filters and a recycled PID (same pid, two start times)."""
    import random

    from pidtop.sampling.columns import COLUMNS

    rnd = random.Random(18)
    procs = [
        P(pid, ut=rnd.choice([0, 0, 5, 9]), rss=rnd.choice([0, 4096, 8192]), user=rnd.choice("ab"))
        for pid in rnd.sample(range(2, 400), 120)
    ]
    procs.append(P(procs[0].pid, start=procs[0].starttime + 7))  # the pid reused
    for col in COLUMNS:
        t = ProcessTable(sort_column=col.id)
        t.update(S(1.0, *procs))
        t.update(S(2.0, *[P(p.pid, ut=p.utime * 3, rss=p.rss, start=p.starttime) for p in procs]))
        t.update(S(3.0, *procs[:100]))  # 21 dying rows
        t.set_user("a")
        for _ in range(3):
            t.invert_sort()
            inverted = [r.key for r in t.rows]
            assert all(t.index_of(k) == i for i, k in enumerate(inverted))
            t._recompute()  # the same table, sorted from scratch
            assert inverted == [r.key for r in t.rows], col.id


def test_rows_are_flat_again_after_the_tree_even_those_hidden_then() -> None:
    """Leaving the tree resets every row's tree fields (depth, prefix, children, collapsed,
    context), also a row a filter hid while the tree was on; a flat table equals a fresh one."""
    procs = [P(10), P(11, 10), P(12, 11), P(13, 10), P(14, 1)]
    t = ProcessTable(sort_column="pid")
    t.update(S(1.0, *procs))
    t.set_tree(True)
    t.set_filter("p12")  # ancestors 10 and 11 shown as context
    assert any(r.context for r in t.rows) and any(r.depth for r in t.rows)
    t.set_pids(frozenset({14}))  # hides the tree's rows
    t.set_tree(False)
    t.set_filter("")
    t.set_pids(None)
    t.update(S(2.0, *procs))
    fresh = ProcessTable(sort_column="pid")
    fresh.update(S(1.0, *procs))
    fresh.update(S(2.0, *procs))

    def flat(table: ProcessTable) -> list[tuple[object, ...]]:
        return [
            (r.key, r.depth, r.tree_prefix, r.has_children, r.collapsed, r.context)
            for r in table.rows
        ]

    assert flat(t) == flat(fresh)
    assert all(r.depth == 0 and not r.context and r.tree_prefix == "" for r in t.rows)
