"""The table model: rows merged by process identity, CPU%, sort, filter, tree, search.

No Textual, no /proc: it consumes ``Snapshot`` objects and exposes the ordered list of visible
rows (:class:`~pidtop.sampling.rows.Row`; the columns that show and sort them are the registry's,
:mod:`pidtop.sampling.columns`). The view keeps its cursor as a ``ProcKey`` and asks ``index_of``
after every change, so the cursor follows a *process* across refreshes, re-sorts, filters and
tree toggles (htop's follow).

Merging is htop's mark/iterate/sweep with a dict lookup by ``ProcKey``: every row of the previous
update is implicitly stale, the snapshot is iterated once (a hit updates the row in place, a miss
creates a ``new`` row), and the rows not seen are swept: first marked ``dying`` (kept for exactly
one update, with their last values), then dropped.

Filtering in tree mode: the text filter keeps the *ancestors* of matching processes visible (with
``Row.context = True``) so a match is shown where it lives in the tree, like htop. The user and
PID filters are strict: a process whose parent is filtered out becomes a root.

One thing: the rows by identity and their visible order; the merge, the orderings (flat, tree,
filters) and the queries all read and write that one dict and list.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pidtop.sampling.columns import COLUMN_BY_ID, DEFAULT_COLUMNS, Column
from pidtop.sampling.rows import Row, TaskCounts, tally
from pidtop.sampling.snapshot import ProcInfo, ProcKey, Snapshot

__all__ = ["ProcessTable"]


class ProcessTable:
    """Rows by identity plus the view state (sort, filters, tree) that orders them."""

    #: current view state (read freely; change through the methods so the view is recomputed)
    sort_column: str  # a Column.id, default "cpu"
    sort_reverse: bool  # default True for cpu
    filter_text: str  # case-insensitive substring on command line / name; "" = off
    user_filter: str | None  # user name, None = all
    pid_filter: frozenset[int] | None  # show only these PIDs (and, in tree mode, nothing else)
    tree: bool
    show_threads: bool  # userland threads (htop H); off by default
    show_kernel_threads: bool  # kernel threads (htop K); on by default
    snapshot: Snapshot | None  # the latest merged snapshot
    tasks: TaskCounts  # counts from the latest snapshot

    def __init__(
        self,
        *,
        sort_column: str = "cpu",
        sort_reverse: bool | None = None,
        columns: Sequence[str] = DEFAULT_COLUMNS,
    ) -> None:
        col = COLUMN_BY_ID[sort_column]
        self._columns: tuple[Column, ...] = ()
        self._filter_columns: tuple[Column, ...] = ()
        self.set_columns(columns, recompute=False)
        self.sort_column = sort_column
        self.sort_reverse = col.default_reverse if sort_reverse is None else sort_reverse
        self.filter_text = ""
        self.user_filter = None
        self.pid_filter = None
        self.tree = False
        self.show_threads = False
        self.show_kernel_threads = True
        #: rows of processes gone in the latest sample stay one update, dimmed (the monitor);
        #: a one-off listing (``pidtop snapshot``) turns this off: they are not in the sample
        self.show_dying = True
        self.snapshot = None
        self.tasks = TaskCounts()
        self._counts = [0] * 7  # the fields of ``tasks``, kept by what came, went or changed
        self._rows: dict[ProcKey, Row] = {}
        #: the visible rows; each knows its place in it (``Row.pos``: no dict of positions)
        self._order: list[Row] = []
        self._collapsed: set[ProcKey] = set()
        #: some row may hold tree fields (depth, prefix, context...) from a tree order
        self._tree_marks = False
        self._updates = 0
        #: updates that kept the previous order (nothing that orders the rows changed)
        self.resorts_skipped = 0
        #: the latest update's rows whose values may have changed (new ones, back ones too) and
        #: the keys of its rows gone (dying): every other live row is as it was (for the history)
        self.changed: list[Row] = []
        self.gone: list[ProcKey] = []

    # -- merge -------------------------------------------------------------------------------

    def update(self, snap: Snapshot) -> None:
        """Merge a snapshot: mark all rows stale, match by key, compute CPU%/MEM%, mark new ones
        ``new`` (not on the very first update), keep vanished ones one update as ``dying``, drop
        rows that were already dying. Then recompute the visible order.

        CPU% = (Δutime + Δstime) / clk_tck / Δt * 100 with Δt the real elapsed time between the
        two snapshots (``Snapshot.time``); 0 on first sighting or when Δt ≤ 0.
        """
        prev = self.snapshot
        dt = snap.time - prev.time if prev is not None else 0.0
        scale = 100.0 / (snap.clk_tck * dt) if dt > 0 else 0.0
        mem_total = snap.system.mem_total
        mem_scale = 100.0 / mem_total if mem_total > 0 else 0.0
        mems: dict[int, float] = {}  # MEM% by RSS: equal ones (idle workers) one float
        first = self._updates == 0
        old = self._rows
        rows: dict[ProcKey, Row] = {}
        # The order stays valid when no row came or went and no row's sort key or visibility
        # changed (idle processes: the sampler reuses their ProcInfo): no re-sort then.
        keep_order = not first and not self.tree and not self.filter_text
        sort_key = COLUMN_BY_ID[self.sort_column].sort_key
        # the task counts change by the processes that came, went or changed their state or
        # thread count (counting every process again each tick: ~0.2 ms at +1,000)
        counts = self._counts
        recount = False
        self.changed = changed = []
        self.gone = gone = []
        for p in snap.processes:
            key = (p.pid, p.starttime)
            row = old.get(key)
            if row is None:
                keep_order = False
                tally(counts, p, 1)
                recount = True
                row = Row(
                    key=key,
                    info=p,
                    mem=mems.setdefault(p.rss, p.rss * mem_scale),
                    status="normal" if first else "new",
                    first_seen=snap.time,
                )
                changed.append(row)
            else:
                before = row.info
                moved = before is not p or row.cpu or row.io_read_rate or row.io_write_rate
                if moved or row.status == "dying":  # an idle process: neither
                    changed.append(row)
                    if row.status == "dying":  # back after a pass without it (a read error)
                        tally(counts, p, 1)  # its last values were taken out when it went
                        recount = True
                    elif before is not p and (
                        p.state != before.state or p.num_threads != before.num_threads
                    ):
                        tally(counts, before, -1)
                        tally(counts, p, 1)
                        recount = True
                was = (sort_key(row), self._passes_static(before)) if keep_order and moved else None
                if before is not p:
                    delta = (p.utime + p.stime) - (before.utime + before.stime)
                    row.cpu = delta * scale if delta > 0 else 0.0
                    row.mem = mems.setdefault(p.rss, p.rss * mem_scale)
                    row.info = p
                    if p.io_read is not None or before.io_read is not None:
                        row.io_read_rate = _rate(before.io_read, p.io_read, dt)
                        row.io_write_rate = _rate(before.io_write, p.io_write, dt)
                else:  # the sampler reuses the object when /proc/PID/stat did not change
                    row.cpu = 0.0
                    if p.io_read is not None:  # it did not run: no I/O of its own
                        row.io_read_rate = 0.0 if p.io_read >= 0 else None
                        row.io_write_rate = 0.0 if p.io_read >= 0 else None
                row.status = "normal"
                if was is not None and was != (sort_key(row), self._passes_static(p)):
                    keep_order = False
            rows[row.key] = row  # the row's own key: this pass's lookup tuple is let go
        for key, row in old.items():  # sweep
            if key not in rows and row.status != "dying":
                row.status = "dying"
                rows[key] = row
                keep_order, recount = False, True
                tally(counts, row.info, -1)
                gone.append(key)
            elif key not in rows:
                keep_order = False  # dropped
        self._rows = rows
        self._collapsed.intersection_update(rows)
        self.snapshot = snap
        if recount:
            self.tasks = TaskCounts(*counts)
        self._updates += 1
        if keep_order:
            self.resorts_skipped += 1
        else:
            self._recompute()

    def forget(self) -> None:
        """Drop every row and the latest snapshot: the next update is a first one (a replay
        jumping to another recorded moment). The view state is kept."""
        self._rows = {}
        self._counts = [0] * 7
        self.snapshot = None
        self._updates = 0
        self._recompute()

    # -- queries -----------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[Row]:
        """Visible rows in display order (after filters, sort, tree and collapse)."""
        return self._order

    def get(self, key: ProcKey) -> Row | None:
        """Any known row (visible or not) by identity."""
        return self._rows.get(key)

    @property
    def columns(self) -> tuple[Column, ...]:
        """The visible columns, in display order (``set_columns``)."""
        return self._columns

    @property
    def fields(self) -> frozenset[str]:
        """The optional sampler fields the visible columns and the sort column need: pass
        them to ``ProcessSource.sample(fields=...)``. Empty with the default columns."""
        out: set[str] = set(COLUMN_BY_ID[self.sort_column].fields)
        for col in self._columns:
            out |= col.fields
        return frozenset(out)

    def index_of(self, key: ProcKey) -> int | None:
        """Position of a process in ``rows``, or None if it is not visible / gone. O(1)."""
        row = self._rows.get(key)
        if row is None:
            return None
        pos = row.pos  # the row's place in the latest order, if it is still there
        order = self._order
        return pos if 0 <= pos < len(order) and order[pos] is row else None

    def _set_order(self, order: list[Row]) -> None:
        """``order`` is the visible rows; each row learns its place in it (``index_of``)."""
        self._order = order
        for i, r in enumerate(order):
            r.pos = i

    def all_rows(self) -> Iterable[Row]:
        """Every known row (visible or not, including dying ones), in snapshot order."""
        return self._rows.values()

    def search(self, text: str, start: int = 0, *, forward: bool = True) -> int | None:
        """Index of the first visible row at or after ``start`` (wrapping) whose command/name
        contains ``text`` (case-insensitive); None when nothing matches. ``forward=False``
        searches backwards from ``start``."""
        n = len(self._order)
        if not text or n == 0:
            return None
        needle = text.casefold()
        start %= n
        step = 1 if forward else -1
        order = self._order
        for k in range(n):
            i = (start + step * k) % n
            if self._matches(order[i], needle):
                return i
        return None

    def descendants(self, key: ProcKey) -> list[ProcKey]:
        """Keys of all known live descendants of a process (for "pin with children").

        Processes only (not userland threads); dying rows are excluded. A child must have started
        no earlier than its parent, so a recycled PID is never mistaken for a parent.
        """
        root = self._rows.get(key)
        if root is None:
            return []
        children: dict[int, list[Row]] = {}
        for row in self._rows.values():
            if row.status != "dying" and not row.info.is_thread:
                children.setdefault(row.info.ppid, []).append(row)
        out: list[ProcKey] = []
        stack = [root]
        seen = {root.key}
        while stack:
            parent = stack.pop()
            for child in children.get(parent.info.pid, ()):
                if child.key in seen or child.info.starttime < parent.info.starttime:
                    continue
                seen.add(child.key)
                out.append(child.key)
                stack.append(child)
        return out

    # -- view state --------------------------------------------------------------------------

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column id; ``reverse=None`` uses the column's default direction."""
        col = COLUMN_BY_ID[column]
        self.sort_column = column
        self.sort_reverse = col.default_reverse if reverse is None else reverse
        self._recompute()

    def invert_sort(self) -> None:
        """Flip the sort direction (htop ``I``). Outside the tree the rows stay the same: the
        order is reversed, and each run of rows with equal sort keys put back in PID order (ties
        always go by ascending PID), which is what sorting them again gives, in linear time."""
        self.sort_reverse = not self.sort_reverse
        if self.tree:
            self._recompute()
            return
        sort_key = COLUMN_BY_ID[self.sort_column].sort_key
        order = self._order[::-1]
        keys = [sort_key(r) for r in order]
        start = 0
        for i in range(1, len(order) + 1):
            if i == len(order) or keys[i] != keys[start]:
                if i - start > 1:
                    order[start:i] = order[start:i][::-1]
                start = i
        self._set_order(order)

    def set_columns(self, ids: Sequence[str], *, recompute: bool = True) -> None:
        """Show these columns, in this order (ids from ``COLUMNS``). ValueError for an empty
        list, an unknown id or a duplicate; nothing changes then. The sort column may be a
        hidden one. Read ``fields`` afterwards: new fields need a new sample to fill."""
        ids = list(ids)
        unknown = [i for i in ids if i not in COLUMN_BY_ID]
        if not ids or unknown or len(set(ids)) != len(ids):
            problem = f"unknown column {unknown[0]!r}" if unknown else "empty or repeated ids"
            raise ValueError(f"{problem}; columns are {', '.join(COLUMN_BY_ID)}")
        self._columns = tuple(COLUMN_BY_ID[i] for i in ids)
        self._filter_columns = tuple(c for c in self._columns if c.filterable)
        if recompute:
            self._recompute()

    def set_filter(self, text: str) -> None:
        """Case-insensitive substring filter on command line and name, and on the text of the
        visible filterable columns (TTY, CGROUP, UNIT); ``""`` turns it off."""
        self.filter_text = text
        self._recompute()

    def set_user(self, user: str | None) -> None:
        """Show only processes of this user name (``None`` = all)."""
        self.user_filter = user
        self._recompute()

    def set_pids(self, pids: frozenset[int] | None) -> None:
        """Show only these PIDs (threads of them too); ``None`` = all."""
        self.pid_filter = None if pids is None else frozenset(pids)
        self._recompute()

    def set_tree(self, on: bool) -> None:
        """Tree view on/off."""
        self.tree = on
        self._recompute()

    def set_collapsed(self, key: ProcKey, collapsed: bool) -> None:
        """Collapse/expand a subtree in tree mode; remembered by identity across refreshes."""
        if collapsed:
            if key in self._rows:
                self._collapsed.add(key)
        else:
            self._collapsed.discard(key)
        self._recompute()

    def toggle_collapsed(self, key: ProcKey) -> None:
        """Flip the collapse state of a subtree."""
        self.set_collapsed(key, key not in self._collapsed)

    def is_collapsed(self, key: ProcKey) -> bool:
        return key in self._collapsed

    def set_threads(self, *, user: bool | None = None, kernel: bool | None = None) -> None:
        """Show/hide userland threads (htop ``H``) and kernel threads (htop ``K``).

        Userland thread rows only exist if the source was sampled with ``threads=True``.
        """
        if user is not None:
            self.show_threads = user
        if kernel is not None:
            self.show_kernel_threads = kernel
        self._recompute()

    # -- ordering ----------------------------------------------------------------------------

    def _matches(self, row: Row, needle: str) -> bool:
        info = row.info
        if needle in info.command.casefold() or needle in info.comm.casefold():
            return True
        snap = self.snapshot
        clk = snap.clk_tck if snap is not None else 100
        return any(needle in c.text(row, snap, clk).casefold() for c in self._filter_columns)

    def _passes_static(self, info: ProcInfo) -> bool:
        """Threads toggles + user + pid filters (everything but the text filter)."""
        if info.is_thread and not self.show_threads:
            return False
        if info.is_kernel_thread and not self.show_kernel_threads:
            return False
        if self.user_filter is not None and info.user != self.user_filter:
            return False
        pids = self.pid_filter
        return pids is None or info.pid in pids or info.tgid in pids

    def _sorted(self, rows: list[Row]) -> list[Row]:
        """Stable sort by the current column; ties always by ascending PID."""
        rows.sort(key=_pid_key)
        rows.sort(key=COLUMN_BY_ID[self.sort_column].sort_key, reverse=self.sort_reverse)
        return rows

    def _recompute(self) -> None:
        needle = self.filter_text.casefold()
        candidates = [
            r
            for r in self._rows.values()
            if self._passes_static(r.info) and (self.show_dying or r.status != "dying")
        ]
        if not self.tree:
            if self._tree_marks:  # back from the tree: every row flat again (new rows are)
                for r in self._rows.values():
                    r.context = False
                    r.depth = 0
                    r.tree_prefix = ""
                    r.has_children = False
                    r.collapsed = False
                self._tree_marks = False
            if needle:
                candidates = [r for r in candidates if self._matches(r, needle)]
            order = self._sorted(candidates)
        else:
            for r in candidates:
                r.context = False
            self._tree_marks = True
            order = self._tree_order(candidates, needle)
        self._set_order(order)

    def _tree_order(self, candidates: list[Row], needle: str) -> list[Row]:
        # parent lookup by pid among the candidates; a live row wins over a dying one that had
        # the same pid, and a parent must not be younger than its child (PID reuse).
        by_pid: dict[int, Row] = {}
        for r in candidates:
            if r.info.is_thread:
                continue
            other = by_pid.get(r.info.pid)
            if other is None or other.status == "dying":
                by_pid[r.info.pid] = r

        def parent_of(r: Row) -> Row | None:
            info = r.info
            ppid = info.tgid if info.is_thread else info.ppid
            parent = by_pid.get(ppid)
            if parent is None or parent is r or parent.info.starttime > info.starttime:
                return None
            return parent

        if needle:
            shown: set[ProcKey] = set()
            for r in candidates:
                if self._matches(r, needle):
                    shown.add(r.key)
            context: set[ProcKey] = set()
            for r in candidates:
                if r.key not in shown:
                    continue
                p = parent_of(r)
                while p is not None and p.key not in shown and p.key not in context:
                    context.add(p.key)
                    p = parent_of(p)
            for r in candidates:
                if r.key in context:
                    r.context = True
            keep = shown | context
            candidates = [r for r in candidates if r.key in keep]

        # sort once globally; children lists then inherit the order
        ordered = self._sorted(candidates)
        children: dict[ProcKey, list[Row]] = {}
        roots: list[Row] = []
        for r in ordered:
            p = parent_of(r)
            if p is None:
                roots.append(r)
            else:
                children.setdefault(p.key, []).append(r)
        # Rows whose parent chain loops (same start tick, so the age check cannot break it) are
        # reached from no root: the first such row (in sort order) becomes a root of its own.
        reached: set[ProcKey] = set()
        n_roots = len(roots)
        for i, root in enumerate([*roots, *ordered]):
            if root.key in reached:
                continue
            if i >= n_roots:
                roots.append(root)
            todo = [root]
            while todo:
                r = todo.pop()
                if r.key not in reached:
                    reached.add(r.key)
                    todo.extend(children.get(r.key, ()))

        out: list[Row] = []
        visited: set[ProcKey] = set()
        # stack items: (row, depth, prefix for its children, is_last)
        stack: list[tuple[Row, int, str, bool]] = [
            (r, 0, "", i == len(roots) - 1) for i, r in reversed(list(enumerate(roots)))
        ]
        while stack:
            r, depth, indent, last = stack.pop()
            if r.key in visited:
                continue
            visited.add(r.key)
            kids = children.get(r.key, ())
            r.depth = depth
            r.tree_prefix = "" if depth == 0 else indent + ("└─ " if last else "├─ ")
            r.has_children = bool(kids)
            r.collapsed = r.key in self._collapsed
            out.append(r)
            if kids and not r.collapsed:
                child_indent = "" if depth == 0 else indent + ("   " if last else "│  ")
                n = len(kids)
                for i in range(n - 1, -1, -1):
                    stack.append((kids[i], depth + 1, child_indent, i == n - 1))
        return out


def _pid_key(r: Row) -> ProcKey:
    return r.key  # (pid, starttime): a recycled pid sorts after its dying predecessor


def _rate(before: int | None, after: int | None, dt: float) -> float | None:
    """Bytes/s between two cumulative counters (None if either is missing or unreadable)."""
    if before is None or after is None or before < 0 or after < 0 or dt <= 0:
        return None
    return max(0, after - before) / dt
