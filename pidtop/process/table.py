"""The table model: rows merged by process identity, CPU%, sort, filter, tree, search.

No Textual, no /proc: it consumes ``Snapshot`` objects and exposes the ordered list of visible
rows. The view keeps its cursor as a ``ProcKey`` and asks ``index_of`` after every change, so the
cursor follows a *process* across refreshes, re-sorts, filters and tree toggles (htop's follow).

INTERFACE STUB: the signatures and semantics below are the contract the UI codes against.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pidtop.process.snapshot import ProcInfo, ProcKey, Snapshot


@dataclass(frozen=True, slots=True)
class Column:
    """A table column. ``width`` 0 means "the rest of the line" (COMMAND)."""

    id: str  # pid user pri ni virt res shr s cpu mem time command
    title: str
    width: int
    align: Literal["left", "right"]
    sort_key: Callable[[Row], object]
    default_reverse: bool  # descending by default (CPU, MEM, TIME, RES ... like htop)


#: Ordered as htop shows them: PID USER PRI NI VIRT RES SHR S CPU% MEM% TIME+ COMMAND.
COLUMNS: tuple[Column, ...] = ()  # filled by the implementation
COLUMN_BY_ID: Mapping[str, Column] = {}

RowStatus = Literal["new", "normal", "dying"]


@dataclass(slots=True)
class Row:
    """One visible line of the table. Mutable: the model updates rows in place on merge."""

    key: ProcKey
    info: ProcInfo
    cpu: float = 0.0  # % of one CPU over the last interval (htop semantics, may exceed 100)
    mem: float = 0.0  # % of total memory (RES / MemTotal)
    status: RowStatus = "normal"  # new: first seen in the latest sample; dying: gone in it
    first_seen: float = 0.0  # Snapshot.time of first sighting
    depth: int = 0  # tree depth (0 when not in tree mode)
    tree_prefix: str = ""  # e.g. "│  ├─ " (tree mode only)
    has_children: bool = False
    collapsed: bool = False


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

    def __init__(self, *, sort_column: str = "cpu", sort_reverse: bool | None = None) -> None:
        raise NotImplementedError

    def update(self, snap: Snapshot) -> None:
        """Merge a snapshot: mark all rows stale, match by key, compute CPU%/MEM%, mark new ones
        ``new`` (not on the very first update), keep vanished ones one update as ``dying``, drop
        rows that were already dying. Then recompute the visible order."""
        raise NotImplementedError

    @property
    def rows(self) -> Sequence[Row]:
        """Visible rows in display order (after filters, sort, tree and collapse)."""
        raise NotImplementedError

    def get(self, key: ProcKey) -> Row | None:
        """Any known row (visible or not) by identity."""
        raise NotImplementedError

    def index_of(self, key: ProcKey) -> int | None:
        """Position of a process in ``rows``, or None if it is not visible / gone. O(1)."""
        raise NotImplementedError

    def sort_by(self, column: str, reverse: bool | None = None) -> None:
        """Sort by a column id; ``reverse=None`` uses the column's default direction."""
        raise NotImplementedError

    def invert_sort(self) -> None:
        raise NotImplementedError

    def set_filter(self, text: str) -> None:
        raise NotImplementedError

    def set_user(self, user: str | None) -> None:
        raise NotImplementedError

    def set_pids(self, pids: frozenset[int] | None) -> None:
        raise NotImplementedError

    def set_tree(self, on: bool) -> None:
        raise NotImplementedError

    def set_collapsed(self, key: ProcKey, collapsed: bool) -> None:
        """Collapse/expand a subtree in tree mode; remembered by identity across refreshes."""
        raise NotImplementedError

    def set_threads(self, *, user: bool | None = None, kernel: bool | None = None) -> None:
        raise NotImplementedError

    def search(self, text: str, start: int = 0, *, forward: bool = True) -> int | None:
        """Index of the first visible row at or after ``start`` (wrapping) whose command/name
        contains ``text`` (case-insensitive); None when nothing matches."""
        raise NotImplementedError

    def descendants(self, key: ProcKey) -> list[ProcKey]:
        """Keys of all known live descendants of a process (for "pin with children")."""
        raise NotImplementedError
