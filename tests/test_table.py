"""ProcessTable: merge by identity, CPU% maths, sort, filters, tree, threads, search."""

from __future__ import annotations

import pytest

from pidtop.demo.source import ScriptedSource
from pidtop.sampling.columns import COLUMN_BY_ID, COLUMNS, DEFAULT_COLUMNS, cell_text
from pidtop.sampling.snapshot import ProcInfo, Snapshot, SystemInfo
from pidtop.sampling.table import ProcessTable

MEM_TOTAL = 1000 * 4096


def P(
    pid: int,
    ppid: int = 1,
    *,
    ut: int = 0,
    st: int = 0,
    start: int | None = None,
    comm: str | None = None,
    cmd: str | None = None,
    user: str = "root",
    rss: int = 0,
    tgid: int | None = None,
    thread: bool = False,
    kernel: bool = False,
) -> ProcInfo:
    comm = comm if comm is not None else f"p{pid}"
    return ProcInfo(
        pid=pid, tgid=tgid if tgid is not None else pid, ppid=ppid,
        starttime=start if start is not None else pid, state="S", comm=comm,
        cmdline="" if kernel else (cmd if cmd is not None else f"/bin/{comm} --x"),
        uid=0, user=user, priority=20, nice=0, num_threads=1, vsize=0, rss=rss, shared=None,
        utime=ut, stime=st, is_kernel_thread=kernel, is_thread=thread,
    )  # fmt: skip


def S(t: float, *procs: ProcInfo, clk: int = 100) -> Snapshot:
    sysinfo = SystemInfo((0.0,), MEM_TOTAL, 0, 0, 0, (0.0, 0.0, 0.0), 1.0, 1)
    return Snapshot(time=t, wall=t, processes=procs, system=sysinfo, clk_tck=clk)


def pids(t: ProcessTable) -> list[int]:
    return [r.info.pid for r in t.rows]


def test_equal_memory_is_one_mem_float() -> None:
    """Rows of processes with the same RSS (a program's idle workers) hold one MEM% float
    (24 B a process at +3,000), also when a process's RSS changes to one already seen."""
    t = ProcessTable()
    t.update(S(1.0, P(10, rss=8192), P(11, rss=8192), P(12, rss=4096)))
    a, b, c = (t.get((pid, pid)) for pid in (10, 11, 12))
    assert a is not None and b is not None and c is not None
    assert a.mem == b.mem == 0.2 and a.mem is b.mem and c.mem == 0.1
    t.update(S(2.0, P(10, rss=8192), P(11, rss=4096, ut=1), P(12, rss=8192, ut=1)))
    assert b.mem == 0.1 and c.mem == 0.2 and b.mem is not c.mem


def test_columns_contract() -> None:
    assert [COLUMN_BY_ID[i].title for i in DEFAULT_COLUMNS] == [
        "PID", "USER", "PRI", "NI", "VIRT", "RES", "SHR", "S", "CPU%", "MEM%", "TIME+", "Command",
    ]  # fmt: skip
    assert [c.id for c in ProcessTable().columns] == list(DEFAULT_COLUMNS)
    assert ProcessTable().fields == frozenset()  # the default columns read no optional field
    assert len({c.id for c in COLUMNS}) == len(COLUMNS) and len(COLUMNS) >= 23
    for c in COLUMNS:  # everything the setup screen and batch output need
        assert (
            c.title
            and c.description
            and c.unit in ("", "bytes", "bytes/s", "ticks", "percent", "count")
        ), c
    assert COLUMN_BY_ID["command"].width == 0
    assert COLUMN_BY_ID["cpu"].default_reverse and not COLUMN_BY_ID["pid"].default_reverse


def test_cpu_percent_hand_computed() -> None:
    t = ProcessTable()
    t.update(S(100.0, P(10, ut=1000, st=500), P(11, ut=7, st=3)))
    assert [r.cpu for r in t.rows] == [0.0, 0.0]  # first sighting
    # 2.0 s later: p10 used 150+50 = 200 ticks = 2.0 s -> 100 %; p11 30 ticks = 0.3 s -> 15 %
    t.update(S(102.0, P(10, ut=1150, st=550), P(11, ut=27, st=13)))
    assert t.get((10, 10)).cpu == pytest.approx(100.0)
    assert t.get((11, 11)).cpu == pytest.approx(15.0)
    # real elapsed time, not the nominal interval: 0.5 s, 25 ticks of a 1000 Hz clock -> 5 %
    t.update(S(102.5, P(10, ut=1150, st=550), P(11, ut=27, st=13)))
    assert t.get((10, 10)).cpu == 0.0
    t2 = ProcessTable()
    t2.update(S(1.0, P(5, ut=0), clk=1000))
    t2.update(S(1.5, P(5, ut=25), clk=1000))
    assert t2.get((5, 5)).cpu == pytest.approx(5.0)
    # multithreaded: may exceed 100 %
    t2.update(S(2.5, P(5, ut=25 + 1800, st=200), clk=1000))
    assert t2.get((5, 5)).cpu == pytest.approx(200.0)


def test_cpu_zero_when_time_does_not_advance_and_mem_percent() -> None:
    t = ProcessTable()
    t.update(S(5.0, P(1, ut=0, rss=250 * 4096)))
    t.update(S(5.0, P(1, ut=100, rss=500 * 4096)))
    row = t.get((1, 1))
    assert row.cpu == 0.0 and row.mem == pytest.approx(50.0)


def test_merge_new_and_dying() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(S(1, P(1), P(2), P(3)))
    assert {r.status for r in t.rows} == {"normal"}  # nothing is "new" on the first update
    row2 = t.get((2, 2))
    t.update(S(2, P(1), P(2), P(4)))
    assert t.get((2, 2)) is row2  # updated in place
    assert [(r.info.pid, r.status) for r in t.rows] == [
        (1, "normal"), (2, "normal"), (3, "dying"), (4, "new"),
    ]  # fmt: skip
    t.update(S(3, P(1), P(2), P(4)))
    assert [(r.info.pid, r.status) for r in t.rows] == [(1, "normal"), (2, "normal"), (4, "normal")]
    assert t.get((3, 3)) is None and t.index_of((3, 3)) is None


def test_pid_reuse_is_a_new_process() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(S(1, P(7, start=100, ut=500)))
    t.update(S(2, P(7, start=900, ut=10)))
    assert [(r.key, r.status) for r in t.rows] == [((7, 100), "dying"), ((7, 900), "new")]
    assert t.get((7, 900)).cpu == 0.0


def test_sort_invert_and_pid_tie_break() -> None:
    t = ProcessTable()  # cpu descending
    t.update(S(0, P(5), P(3), P(9), P(1)))
    t.update(S(1, P(5, ut=10), P(3, ut=50), P(9, ut=10), P(1)))
    assert pids(t) == [3, 5, 9, 1]  # 50%, then the 10% tie by pid, then 0%
    t.invert_sort()
    assert pids(t) == [1, 5, 9, 3]  # ties still by ascending pid
    t.sort_by("pid")
    assert not t.sort_reverse and pids(t) == [1, 3, 5, 9]
    t.sort_by("time", reverse=False)
    assert pids(t) == [1, 5, 9, 3]
    for col in COLUMNS:
        t.sort_by(col.id)  # every sort key works, including None fields (SHR)
        assert sorted(pids(t)) == [1, 3, 5, 9]


def test_index_of_follows_a_key_across_resorts() -> None:
    src = ScriptedSource()
    t = ProcessTable()
    t.update(src.sample())
    t.update(src.sample())
    key = src.key_of(1106)
    positions = set()
    for col in COLUMNS:
        for rev in (False, True):
            t.sort_by(col.id, rev)
            i = t.index_of(key)
            assert i is not None and t.rows[i].key == key
            positions.add(i)
    assert len(positions) > 1
    t.set_filter("python")
    assert t.index_of(key) is None
    t.set_filter("")
    assert t.rows[t.index_of(key)].key == key


def test_filter_is_case_insensitive_on_cmdline_and_comm() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(S(0, P(1, comm="Foo", cmd="/usr/bin/alpha"), P(2, comm="bar", cmd="BETA --x"),
               P(3, comm="kw", kernel=True)))  # fmt: skip
    t.set_filter("FOO")
    assert pids(t) == [1]
    t.set_filter("beta")
    assert pids(t) == [2]
    t.set_filter("[kw]")  # what the COMMAND column shows for a kernel thread
    assert pids(t) == [3]
    t.set_filter("")
    assert pids(t) == [1, 2, 3]


def test_user_and_pid_filters() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(S(0, P(1), P(2, user="alice"), P(3, user="bob"), P(4, user="alice"),
               P(40, tgid=4, thread=True, user="alice")))  # fmt: skip
    t.set_user("alice")
    assert pids(t) == [2, 4]
    t.set_user(None)
    t.set_pids(frozenset({1, 4}))
    assert pids(t) == [1, 4]
    t.set_threads(user=True)
    assert pids(t) == [1, 4, 40]  # threads of a listed pid are shown with it
    t.set_pids(None)
    assert pids(t) == [1, 2, 3, 4, 40]


def test_threads_toggles() -> None:
    t = ProcessTable(sort_column="pid")
    assert not t.show_threads and t.show_kernel_threads
    t.update(S(0, P(2, ppid=0, kernel=True), P(10), P(11, tgid=10, thread=True)))
    assert pids(t) == [2, 10]
    t.set_threads(user=True)
    assert pids(t) == [2, 10, 11]
    t.set_threads(kernel=False)
    assert pids(t) == [10, 11]
    t.set_threads(user=False, kernel=True)
    assert pids(t) == [2, 10]


def _tree_snap(t: float) -> Snapshot:
    return S(
        t,
        P(1, ppid=0, ut=int(t)),
        P(5, ppid=1, ut=int(t) * 3),
        P(6, ppid=5),
        P(7, ppid=5),
        P(8, ppid=7),
        P(9, ppid=1, ut=int(t) * 2),
        P(60, ppid=6, tgid=6, thread=True),
        P(2, ppid=0, kernel=True),
        P(3, ppid=2, kernel=True),
    )


def test_tree_prefixes() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(_tree_snap(0))
    t.set_tree(True)
    lines = [r.tree_prefix + r.info.comm for r in t.rows]
    assert lines == [
        "p1",
        "├─ p5",
        "│  ├─ p6",
        "│  └─ p7",
        "│     └─ p8",
        "└─ p9",
        "p2",
        "└─ p3",
    ]
    assert [r.depth for r in t.rows] == [0, 1, 2, 2, 3, 1, 0, 1]
    assert t.get((5, 5)).has_children and not t.get((8, 8)).has_children
    t.set_threads(user=True)
    assert [r.tree_prefix + r.info.comm for r in t.rows][2:4] == ["│  ├─ p6", "│  │  └─ p60"]


def test_tree_without_dying_rows_draws_the_lines_of_what_is_left() -> None:
    """``show_dying = False`` (``pidtop snapshot``): a process gone in the latest sample is not
    a row, and its sibling's tree line is drawn as the last child."""
    t = ProcessTable(sort_column="pid")
    t.update(_tree_snap(0))
    t.set_tree(True)
    t.update(S(1, *(p for p in _tree_snap(1).processes if p.pid not in (9,))))
    assert [r.tree_prefix + r.info.comm for r in t.rows][4:6] == ["│     └─ p8", "└─ p9"]
    t.show_dying = False
    t.set_tree(True)
    assert "p9" not in [r.info.comm for r in t.rows]
    assert [r.tree_prefix + r.info.comm for r in t.rows][1] == "└─ p5"


def test_tree_children_follow_sort_and_collapse_survives_updates() -> None:
    t = ProcessTable()  # cpu descending
    t.set_tree(True)
    t.update(_tree_snap(0))
    t.update(_tree_snap(1))  # p5 busier than p9
    assert [r.info.pid for r in t.rows if r.depth == 1][:2] == [5, 9]
    t.set_collapsed((5, 5), True)
    assert pids(t) == [1, 5, 9, 2, 3]
    assert t.get((5, 5)).collapsed
    t.update(_tree_snap(2))
    t.update(_tree_snap(3))
    assert pids(t) == [1, 5, 9, 2, 3]  # remembered by identity
    t.toggle_collapsed((5, 5))
    assert pids(t) == [1, 5, 6, 7, 8, 9, 2, 3]
    t.set_tree(False)
    assert all(r.tree_prefix == "" and r.depth == 0 for r in t.rows)


def test_tree_filter_keeps_ancestors_as_context() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(_tree_snap(0))
    t.set_tree(True)
    t.set_filter("P8")
    assert pids(t) == [1, 5, 7, 8]
    assert [r.context for r in t.rows] == [True, True, True, False]
    assert [r.tree_prefix for r in t.rows] == ["", "└─ ", "   └─ ", "      └─ "]
    t.set_filter("")
    t.set_user("nobody")
    assert pids(t) == []


def test_tree_orphans_become_roots_and_pid_reuse_does_not_adopt() -> None:
    t = ProcessTable(sort_column="pid")
    # p20's parent 10 was started *after* it: a recycled pid, not its parent
    t.update(S(0, P(10, ppid=0, start=500), P(20, ppid=10, start=100), P(30, ppid=99)))
    t.set_tree(True)
    assert [(r.info.pid, r.depth) for r in t.rows] == [(10, 0), (20, 0), (30, 0)]


def test_search_wraps_and_goes_backwards() -> None:
    t = ProcessTable(sort_column="pid")
    t.update(S(0, P(1, cmd="vim a"), P(2, cmd="bash"), P(3, cmd="VIM b"), P(4, cmd="zsh")))
    assert t.search("vim") == 0
    assert t.search("vim", 1) == 2
    assert t.search("vim", 3) == 0  # wraps
    assert t.search("vim", 1, forward=False) == 0
    assert t.search("vim", 0, forward=False) == 0
    assert t.search("VIM", 3, forward=False) == 2
    assert t.search("nothing") is None
    assert t.search("") is None


def test_long_user_names_end_in_plus_like_ps() -> None:
    """A uid with no name (4000000000) must not be cut to another valid-looking uid."""
    t = ProcessTable()
    t.update(S(1.0, P(2, user="4000000000"), P(3, user="averyverylongname"), P(4, user="root")))
    texts = {r.info.pid: cell_text(r, "user") for r in t.rows}
    assert texts == {2: "40000000+", 3: "averyver+", 4: "root"}
    assert all(len(s) <= COLUMN_BY_ID["user"].width for s in texts.values())
    t.set_user("4000000000")  # the filter still matches the full name
    assert pids(t) == [2]


def test_descendants() -> None:
    t = ProcessTable()
    t.update(_tree_snap(0))
    assert sorted(t.descendants((5, 5))) == [(6, 6), (7, 7), (8, 8)]
    assert t.descendants((8, 8)) == []
    assert t.descendants((99, 99)) == []
    assert sorted(t.descendants((1, 1))) == [(5, 5), (6, 6), (7, 7), (8, 8), (9, 9)]


def test_cells_and_task_counts_on_scripted_source() -> None:
    src = ScriptedSource()
    t = ProcessTable()
    t.update(src.sample(threads=True))
    t.update(src.sample(threads=True))
    for r in t.rows:
        texts = [cell_text(r, c.id, snapshot=t.snapshot) for c in COLUMNS]
        for c, text in zip(COLUMNS, texts, strict=True):
            assert c.width == 0 or len(text) <= c.width or c.cut == "left", (c.id, text)
    assert t.tasks.zombie == 1 and t.tasks.stopped == 1 and t.tasks.kernel_threads == 10
    processes = [p for p in t.snapshot.processes if not p.is_thread]  # htop: kthreads apart
    assert t.tasks.total == sum(1 for p in processes if not p.is_kernel_thread)
    assert t.tasks.threads == sum(p.num_threads - 1 for p in processes if not p.is_kernel_thread)


def test_index_of_is_each_visible_rows_place_and_none_for_a_hidden_or_dropped_one() -> None:
    # rows remember their place (Row.pos): a hidden row's old place is taken by another row
    t = ProcessTable(sort_column="pid", sort_reverse=False)
    t.update(S(0.0, P(1), P(2, cmd="/bin/keep"), P(3, cmd="/bin/keep"), P(4)))
    assert [t.index_of((p, p)) for p in (1, 2, 3, 4)] == [0, 1, 2, 3]
    t.set_filter("keep")  # 2 and 3 now at 0 and 1, where 1 and 2 were
    assert [t.index_of((p, p)) for p in (1, 2, 3, 4)] == [None, 0, 1, None]
    t.invert_sort()
    assert [t.index_of((p, p)) for p in (1, 2, 3, 4)] == [None, 1, 0, None]
    t.set_filter("")
    for i, row in enumerate(t.rows):
        assert t.index_of(row.key) == i
    t.update(S(1.0, P(1), P(3, cmd="/bin/keep"), P(4)))  # 2 is dying, then dropped
    t.update(S(2.0, P(1), P(3, cmd="/bin/keep"), P(4)))
    assert t.index_of((2, 2)) is None and pids(t) == [4, 3, 1]
    assert [t.index_of((p, p)) for p in (4, 3, 1)] == [0, 1, 2]
